"""Search-result snippets: a chunk's text as the reader sees it, around the query's words."""

from __future__ import annotations

from functools import lru_cache

from retrieval.index.readable import readable_text
from retrieval.text.snippets import Segment, query_matcher, snippet_segments

SNIPPET_WIDTH = 240


def snippet_for(markdown_text: str, query_text: str, *, locale: str, query_locales: list[str],
                width: int = SNIPPET_WIDTH, readable: str = "") -> list[Segment]:
    """The segments of a result's snippet (matching words marked), from the chunk's readable text
    (`Chunk.readable`; rendered from its Markdown where a chunk has none yet)."""
    matches = _matcher(query_text, tuple(query_locales))
    return snippet_segments(readable or readable_text(markdown_text), lambda word: matches(word, locale), width=width)


@lru_cache(maxsize=32)
def _matcher(query_text: str, query_locales: tuple[str, ...]):
    """One matcher per query, shared by its results (it remembers the words it has seen)."""
    return query_matcher(query_text, list(query_locales))
