"""Chunking: a very long paragraph is cut between sentences, never after an abbreviation."""

from __future__ import annotations

from retrieval.index.chunking import MAX_WORDS, chunk_markdown


def test_a_long_paragraph_is_never_cut_after_an_abbreviation():
    # given one paragraph far over the chunk size whose sentences contain abbreviations and ordinals
    sentence = "Sie zahlen z. B. bis zum 20. eines Monats ca. 5 € inkl. Versand an Nr. 7 der Liste und sonst nichts weiter."
    body = " ".join([sentence] * (2 * MAX_WORDS // len(sentence.split()) + 1))
    # when it is chunked
    chunks = chunk_markdown("Preise", body)
    # then it is cut, every piece within the size, and each piece starts and ends with a whole sentence
    assert len(chunks) >= 2
    for chunk in chunks:
        assert len(chunk.text.split()) <= MAX_WORDS
        assert chunk.text.startswith("Sie zahlen z. B. bis zum 20. eines Monats")
        assert chunk.text.endswith("und sonst nichts weiter.")
