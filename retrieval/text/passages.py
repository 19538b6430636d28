"""Passages of a chunk's Markdown: sentences, list items (by sentence) and table rows (with their header).

Each passage remembers the structure it stands in: its section heading, its unit (a list item may
hold several sentences) and the sentence that introduces its list or table ("... as follows:").
Used by answers (evidence), change impact and contradictions alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.text.sentences import split_sentences

ROW_CODE = re.compile(r"[A-Z]\d?")  # a letter code naming a row ("C", "B1")
TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|(\d+)[.)])\s+")
HEADING = re.compile(r"^#+\s")


@dataclass(frozen=True)
class PassageText:
    """A passage of a chunk's text and its place in the chunk's structure."""

    quote: str  # verbatim from the chunk text
    text: str  # readable form (markdown and table pipes removed)
    heading: str  # the heading it stands under inside the chunk ("" = the chunk's own)
    unit: int  # the sentence, list item or table row it is part of
    kind: str  # "sentence", "item", "step" (numbered list item) or "row"
    lead: int | None = None  # index of the passage introducing its list or table ("...:")


def _clean(line: str) -> str:
    line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
    line = re.sub(r"^#+\s*", "", line)
    line = re.sub(r"\*\*|__|`", "", line)
    line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
    return line.strip()


def _sentence_spans(line: str) -> list[str]:
    """Verbatim sentences of a line; a question is joined with its answer (FAQ style "Q? A.")."""
    sentences = split_sentences(line)
    spans: list[str] = []
    cursor, index = 0, 0
    while index < len(sentences):
        first = sentences[index]
        last = sentences[index + 1] if first.endswith("?") and index + 1 < len(sentences) else first
        index += 2 if last is not first else 1
        start = line.find(first, cursor)
        end = line.find(last, start) + len(last)
        cursor = end
        spans.append(line[start:end])
    return spans


class _Splitter:
    """Walks a chunk's lines and records passages with their unit and introducing sentence; a new
    paragraph, list or table starts a block, and only a list or table right after a sentence
    ending in ":" is introduced by it."""

    def __init__(self) -> None:
        self.passages: list[PassageText] = []
        self.heading = ""
        self.unit = -1
        self.previous = ""  # the previous line: "text", "item" or "row", "-gap" appended after a blank line
        self.header: list[str] = []
        self.header_line = ""
        self.intro: int | None = None  # a sentence ending in ":" just before a list or table
        self.lead: int | None = None

    def feed(self, raw_line: str) -> None:
        line = raw_line.strip()
        if not line:
            self.previous = f"{self.previous}-gap" if self.previous in {"text", "item"} else ""
            return
        if HEADING.match(line):
            self.heading, self.previous, self.intro = _clean(line), "", None
            return
        if line.startswith("|"):
            self._row(line)
            return
        item = LIST_ITEM.match(line)
        if item or self.previous == "item":
            self._item(line, numbered=bool(item and item.group(1)), new_item=bool(item))
            return
        self._text(line)

    def _start_block(self) -> None:
        self.lead = self.intro if self.previous in {"text", "text-gap"} else None
        self.intro = None

    def _add(self, quote: str, text: str, kind: str, *, lead: int | None) -> None:
        self.passages.append(PassageText(quote, text, self.heading, self.unit, kind, lead))

    def _row(self, line: str) -> None:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if TABLE_RULE.match(line.strip("|").strip()):
            return
        if self.previous != "row":
            self._start_block()
            self.header, self.header_line, self.previous = cells, line, "row"
            return
        self.unit += 1
        pairs = [f"{label}: {value}" if label and label != value else value for label, value in zip(self.header, cells, strict=False)]
        if pairs and self.header and ROW_CODE.fullmatch(cells[0]):
            pairs[0] = f"{self.header[0]} {cells[0]}"  # a row named by a code reads "Stufe C", "Tier B1"
        # the quote is the header and the row, verbatim: the row alone would not say what its cells mean
        self._add(f"{self.header_line}\n{line}", "; ".join(pair for pair in pairs if pair), "row", lead=self.lead)

    def _item(self, line: str, *, numbered: bool, new_item: bool) -> None:
        if self.previous not in {"item", "item-gap"}:  # items apart by blank lines are still one list
            self._start_block()
        if new_item:
            self.unit += 1
        self.previous = "item"
        kind = "step" if numbered else "item"
        for sentence in _sentence_spans(line):
            readable = _clean(sentence)
            if len(readable.split()) >= 2:
                self._add(sentence, readable, kind, lead=self.lead)

    def _text(self, line: str) -> None:
        if self.previous != "text":
            self._start_block()
        self.previous = "text"
        for sentence in _sentence_spans(line):
            readable = _clean(sentence)
            if len(readable.split()) < 3:
                continue
            self.unit += 1
            self._add(sentence, readable, "sentence", lead=None)
            self.intro = len(self.passages) - 1 if readable.endswith(":") else None


def split_passages(text: str) -> list[PassageText]:
    """Passages of a chunk: sentences, list items (by sentence) and table rows (with the header's labels)."""
    splitter = _Splitter()
    for line in text.splitlines():
        splitter.feed(line)
    return splitter.passages
