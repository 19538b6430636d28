"""A chunk's Markdown as the reader sees it: rendered text, no '##', '**', '|' or link targets.

Computed once when a chunk is written (`Chunk.readable`), so a search with a hundred results
renders no Markdown; snippets are cut from it.
"""

from __future__ import annotations

import html
import re

import nh3

from kb.rendering import render_markdown

_HEADING_END = re.compile(r"</h[1-6]>", re.I)
_BLOCK_END = re.compile(r"</(?:p|li|td|th|tr|blockquote|pre|dt|dd)>|<br\s*/?>", re.I)


def readable_text(markdown_text: str) -> str:
    """Markdown as rendered text: headings end with a dash, blocks are separated by a space."""
    rendered = str(render_markdown(markdown_text))
    rendered = _HEADING_END.sub(" – ", rendered)
    rendered = _BLOCK_END.sub(" ", rendered)
    text = html.unescape(nh3.clean(rendered, tags=set(), attributes={}))
    return re.sub(r"\s+", " ", text).strip()
