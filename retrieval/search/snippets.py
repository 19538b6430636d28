"""Search-result snippets: a chunk's Markdown as the reader sees it, around the query's words."""

from __future__ import annotations

import html
import re

import nh3

from kb.rendering import render_markdown
from retrieval.text.snippets import Segment, query_matcher, snippet_segments

SNIPPET_WIDTH = 240
_HEADING_END = re.compile(r"</h[1-6]>", re.I)
_BLOCK_END = re.compile(r"</(?:p|li|td|th|tr|blockquote|pre|dt|dd)>|<br\s*/?>", re.I)


def readable_text(markdown_text: str) -> str:
    """Markdown as rendered text: no '##', '**', '|' or link targets; headings end with a dash,
    blocks are separated by a space."""
    rendered = str(render_markdown(markdown_text))
    rendered = _HEADING_END.sub(" – ", rendered)
    rendered = _BLOCK_END.sub(" ", rendered)
    text = html.unescape(nh3.clean(rendered, tags=set(), attributes={}))
    return re.sub(r"\s+", " ", text).strip()


def snippet_for(markdown_text: str, query_text: str, *, locale: str, query_locales: list[str],
                width: int = SNIPPET_WIDTH) -> list[Segment]:
    """The segments of a result's snippet (matching words marked), from the chunk's Markdown."""
    matches = query_matcher(query_text, query_locales)
    return snippet_segments(readable_text(markdown_text), lambda word: matches(word, locale), width=width)
