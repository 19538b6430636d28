"""Snippets: rendered text around the query's words, cut between words, matches marked."""

from __future__ import annotations

from retrieval.text.snippets import ELLIPSIS, Segment, query_matcher, snippet_segments, snippet_text

TEXT = (
    "Frist – Sie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben. "
    "Rücksendung – Das Rücksendeetikett drucken Sie unter Mein Konto > Bestellungen > Rücksendung aus. "
    "Versand – Wir holen größere Geräte nach Absprache kostenlos bei Ihnen ab, die Abholung dauert etwa fünf Werktage."
)


def _snippet(query: str, width: int = 240, text: str = TEXT) -> list[Segment]:
    matches = query_matcher(query, ["de", "en"])
    return snippet_segments(text, lambda word: matches(word, "de"), width=width)


def test_the_query_words_are_marked_by_stem_and_compound_part_never_stop_words():
    segments = _snippet("Wie lange kann ich das Etikett für ein Gerät drucken?", width=400)
    assert [segment.text for segment in segments if segment.match] == ["Geräte", "Rücksendeetikett", "drucken", "Geräte"]
    assert snippet_text(segments) == TEXT  # short enough: all of it, no ellipsis


def test_a_long_text_is_cut_between_words_around_the_matches_with_ellipses():
    segments = _snippet("Abholung Werktage", width=80)
    text = snippet_text(segments)
    assert text.startswith(ELLIPSIS) and not text.endswith(ELLIPSIS)
    assert text == f"{ELLIPSIS}bei Ihnen ab, die Abholung dauert etwa fünf Werktage."
    assert [segment.text for segment in segments if segment.match] == ["Abholung", "Werktage"]


def test_the_end_is_cut_after_a_whole_word():
    segments = _snippet("Frist", width=60)
    text = snippet_text(segments)
    assert text.endswith(ELLIPSIS)
    last_word = text.removesuffix(ELLIPSIS).split(" ")[-1]
    assert last_word in TEXT.split(" ") and len(text) <= 61
    assert segments[0] == Segment("Frist", match=True)


def test_without_a_match_the_snippet_is_the_beginning():
    text = snippet_text(_snippet("Zitronenfalter", width=50))
    assert text == "Frist – Sie können im Shop gekaufte Geräte" + ELLIPSIS


def test_empty_text_and_a_query_of_stop_words_only():
    assert _snippet("Geräte", text="  ") == []
    assert not any(segment.match for segment in _snippet("wie kann ich das", width=400))



def test_the_densest_window_is_found_as_by_counting_the_window_of_every_anchor():
    """_densest_anchor keeps a running count of the distinct matching words in its window; it must choose
    the anchor that counting the window of every anchor chooses."""
    import random

    from retrieval.text.snippets import WORD, _densest_anchor

    def every_anchor(text, matched, width):
        best, best_count = matched[0][0], 0
        for anchor, _ in matched:
            distinct = {text[s:e].lower() for s, e in matched if anchor <= s and e <= anchor + width * 2 // 3}
            if len(distinct) > best_count:
                best, best_count = anchor, len(distinct)
        return best

    rng = random.Random(7)
    vocabulary = ["Rücksendung", "Etikett", "Frist", "Tage", "Kunde", "Konto", "Paket", "Versand", "gratis", "innerhalb"]
    compared = 0
    for _ in range(300):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 120)))
        wanted = set(rng.sample(vocabulary, rng.randint(1, 4)))
        matched = [m.span() for m in WORD.finditer(text) if m.group(0) in wanted]
        if matched:
            assert _densest_anchor(text, matched, 240) == every_anchor(text, matched, 240)
            compared += 1
    assert compared > 250
