"""Search-result snippets: a chunk's text as the reader sees it, around the query's words."""

from __future__ import annotations

from collections import defaultdict

from retrieval.index.readable import readable_text
from retrieval.text.snippets import Segment, query_matcher, snippet_segments, text_words

SNIPPET_WIDTH = 240


def snippets_for(results: list[tuple[str, str, str]], query_text: str, *, query_locales: list[str],
                 width: int = SNIPPET_WIDTH) -> list[list[Segment]]:
    """The snippet segments (matching words marked) of each result, given as (Markdown, readable text,
    locale): from the chunk's readable text (`Chunk.readable`; rendered from its Markdown where a chunk has
    none yet). Every distinct word of all results is tested against the query once."""
    texts = [(readable or readable_text(markdown), locale) for markdown, readable, locale in results]
    matches = query_matcher(query_text, query_locales)
    words: dict[str, set[str]] = defaultdict(set)
    for text, locale in texts:
        words[locale] |= text_words(text)
    matching = {locale: {word for word in found if matches(word, locale)} for locale, found in words.items()}
    return [snippet_segments(text, matching[locale], width=width) for text, locale in texts]

