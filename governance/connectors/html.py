"""HTML from a source becomes clean Markdown: sanitised by nh3, converted by markdownify.

nh3 (the sanitiser the renderer uses) first removes scripts, styles, event handlers, comments and
every tag and attribute outside the renderer's allow-list, so nothing unsafe from a source's HTML is
stored, not even in a version that is never published. Links and images are made absolute against the page's
own address where the source gives one; an image without an absolute address cannot be shown
outside the source and is left out with a note. markdownify then writes ATX headings, '-' bullets,
pipe tables and fenced code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import nh3
from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from kb.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

URL_SCHEMES = {"http", "https", "mailto", "tel"}
LIST_INDENT = 4
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@dataclass(frozen=True)
class Converted:
    markdown: str
    notes: tuple[str, ...] = ()


class _Converter(MarkdownConverter):
    """markdownify with the house style: ATX headings, '-' bullets, fenced code; list items indent
    their content by four columns, which Python-Markdown (the renderer) needs to nest lists."""

    def __init__(self) -> None:
        super().__init__(heading_style="ATX", bullets="-")

    def convert_li(self, el, text, parent_tags):  # noqa: ANN001, ANN201 - markdownify's signature
        text = (text or "").strip()
        if not text:
            return "\n"
        parent = el.parent
        if parent is not None and parent.name == "ol":
            start = int(parent["start"]) if str(parent.get("start", "")).isdigit() else 1
            bullet = f"{start + len(el.find_previous_siblings('li'))}."
        else:
            bullet = "-"
        bullet = bullet.ljust(LIST_INDENT - 1) + " "
        indent = " " * len(bullet)
        lines = text.split("\n")
        item = bullet + lines[0] + "".join("\n" + (indent + line if line.strip() else "") for line in lines[1:])
        return item + ("\n\n" if "\n\n" in text else "\n")  # an item of several blocks ends with a blank line

    def convert_pre(self, el, text, parent_tags):  # noqa: ANN001, ANN201 - markdownify's signature
        if "li" not in parent_tags or not text:
            return super().convert_pre(el, text, parent_tags)
        # Python-Markdown reads no fenced code inside a list item: an indented code block instead
        code = text.strip("\n")
        return "\n\n" + "\n".join("    " + line if line.strip() else "" for line in code.split("\n")) + "\n\n"


def sanitise_html(html: str) -> str:
    """The renderer's allow-list, applied before anything is stored (scripts and styles dropped with their content)."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel=None, strip_comments=True)


def html_to_markdown(html: str, *, base_url: str = "") -> Converted:
    """Sanitise `html` and convert it to Markdown; relative links and images resolve against `base_url`."""
    soup = BeautifulSoup(sanitise_html(html), "html.parser")
    notes: list[str] = []
    for link in soup.find_all("a"):
        href = (link.get("href") or "").strip()
        if href and base_url and not href.startswith("#"):
            link["href"] = urljoin(base_url, href)
        if not _absolute(link.get("href", "")):
            link.unwrap()  # an anchor or a link that leads nowhere outside the source: keep its text
    for image in soup.find_all("img"):
        src = (image.get("src") or "").strip()
        if src and base_url:
            src = urljoin(base_url, src)
        if _absolute(src) and urlsplit(src).scheme in {"http", "https"}:
            image["src"] = src
            continue
        label = (image.get("alt") or src.rsplit("/", 1)[-1] or "ohne Namen").strip()
        notes.append(f"image '{label}' left out (no address outside the source)")
        image.decompose()
    markdown = _Converter().convert_soup(soup).replace("\u00a0", " ")  # "z.&nbsp;B." is searched as "z. B."
    markdown = _BLANK_LINES.sub("\n\n", markdown).strip()
    return Converted(markdown=markdown + "\n" if markdown else "", notes=tuple(notes))


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme in URL_SCHEMES and (parts.netloc or parts.scheme in {"mailto", "tel"}))


def text_of(html: str) -> str:
    """The plain text of an HTML fragment (for titles and names)."""
    return " ".join(BeautifulSoup(sanitise_html(html), "html.parser").get_text(" ").split())
