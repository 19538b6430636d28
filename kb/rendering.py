"""Markdown to sanitised HTML: no script, event handler or javascript: URL from a body ever runs.

Python-Markdown recurses once per level of list or quote nesting and does quadratic work on long
runs of '[' or '<' in one paragraph (a 120 KB body took minutes, a deep list raised
RecursionError). `markdown_problem` names a body outside the limits below; import and save refuse
such bodies, and `render_markdown` shows one already stored as escaped plain text instead.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import markdown
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

MAX_BODY_CHARS = 100_000
MAX_NESTING_DEPTH = 16  # lists, quotes and indentation levels (of 4 spaces) at the start of a line
MAX_LINK_MARKS_PER_PARAGRAPH = 100  # '[' and '<' between two blank lines (links, images, tags)
MAX_LINKS = 1_000  # '[' in the whole body
MAX_TAGS = 200  # '<' in the whole body: raw HTML is parsed over the whole body, quadratically
MAX_LINES_PER_PARAGRAPH = 500

_FENCED_CODE = re.compile(r"^(?P<fence>~{3,}|`{3,})[^\n]*\n.*?(?<=\n)(?P=fence)[ ]*$", re.M | re.S)
_CONTAINER_MARK = re.compile(r"[ ]*(?:>|[-*+](?=[ ]|$)|\d{1,9}[.)](?=[ ]|$))")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _nesting_depth(line: str) -> int:
    line = line.expandtabs(4)
    depth, position = (len(line) - len(line.lstrip(" "))) // 4, 0
    while match := _CONTAINER_MARK.match(line, position):
        if match.end() == position:
            break
        depth, position = depth + 1, match.end()
    return depth


def markdown_problem(body: str) -> str | None:
    """What makes `body` too large or too deeply nested to render safely, or None when it is within the limits."""
    if len(body) > MAX_BODY_CHARS:
        return _("the body has %(count)s characters; at most %(limit)s are allowed") % {
            "count": len(body), "limit": MAX_BODY_CHARS}
    if "\x00" in body:
        return _("the body contains a NUL character")
    text = _FENCED_CODE.sub("", body)  # code blocks are not parsed as Markdown
    for mark, limit, what in (("[", MAX_LINKS, _("links and images")), ("<", MAX_TAGS, _("tags and autolinks"))):
        if text.count(mark) > limit:
            return _("the body has %(count)s '%(mark)s' characters (%(what)s); at most %(limit)s are allowed") % {
                "count": text.count(mark), "mark": mark, "what": what, "limit": limit}
    for number, line in enumerate(text.splitlines(), start=1):
        if _nesting_depth(line) > MAX_NESTING_DEPTH:
            return _("lists, quotes or indentation are nested more than %(limit)s levels deep (line %(line)s "
                     "outside code blocks)") % {"limit": MAX_NESTING_DEPTH, "line": number}
    for paragraph in _BLANK_LINE.split(text):
        marks = paragraph.count("[") + paragraph.count("<")
        if marks > MAX_LINK_MARKS_PER_PARAGRAPH:
            return _("a paragraph has %(count)s '[' and '<' characters; at most %(limit)s are allowed between two "
                     "blank lines") % {"count": marks, "limit": MAX_LINK_MARKS_PER_PARAGRAPH}
        if paragraph.count("\n") >= MAX_LINES_PER_PARAGRAPH:
            return _("a paragraph has more than %(limit)s lines without a blank line") % {"limit": MAX_LINES_PER_PARAGRAPH}
    return None

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "abbr": {"title"},
}


def render_markdown(body: str) -> SafeString:
    """Sanitised HTML of a body; a body outside the limits (stored before they existed) as escaped text."""
    return _render(body)


@lru_cache(maxsize=256)  # versions never change: a page view re-renders only bodies it has not seen
def _render(body: str) -> SafeString:
    if markdown_problem(body) is not None:
        return _plain_text_html(body)
    try:
        rendered = markdown.markdown(body, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    except RecursionError:
        return _plain_text_html(body)
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


def _plain_text_html(body: str) -> SafeString:
    return mark_safe(f'<pre class="verity-plain-body">{escape(body)}</pre>')  # noqa: S308 - escaped


def plain_text(text: str) -> str:
    """Text without HTML tags (script and style content dropped), entities decoded: for clients that show text."""
    return html.unescape(nh3.clean(text, tags=set(), attributes={}))
