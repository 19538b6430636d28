"""Heading-aware chunking of Markdown articles.

Sections are cut at headings; a long section is cut between paragraphs (and, for one very long
paragraph, between sentences, never after an abbreviation) into pieces of at most MAX_WORDS;
small neighbouring sections of the same parent are merged. Each chunk carries its heading path ("Title > Section > Sub").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.text.sentences import split_sentences
from retrieval.tuning import (
    MAX_WORDS,
    MIN_WORDS,
)

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    heading_path: str
    text: str


@dataclass
class _Section:
    path: tuple[str, ...]
    paragraphs: list[str]

    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def _sections(title: str, body: str) -> list[_Section]:
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    current = _Section((title,), [])
    paragraph: list[str] = []
    in_fence = False

    def flush_paragraph() -> None:
        if paragraph:
            text = "\n".join(paragraph).strip()
            if text:
                current.paragraphs.append(text)
            paragraph.clear()

    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            flush_paragraph()
            if current.paragraphs:
                sections.append(current)
            level, heading = len(match.group(1)), match.group(2).strip()
            if level == 1 and heading.strip().lower() == title.strip().lower():
                current = _Section((title,), [])
                continue
            stack = [(lvl, text) for lvl, text in stack if lvl < level]
            stack.append((level, heading))
            current = _Section((title, *(text for _, text in stack)), [])
        elif not line.strip() and not in_fence:
            flush_paragraph()
        else:
            paragraph.append(line)
    flush_paragraph()
    if current.paragraphs:
        sections.append(current)
    return sections


def _split_long(paragraph: str) -> list[str]:
    if len(paragraph.split()) <= MAX_WORDS:
        return [paragraph]
    pieces, current = [], []
    # never after an abbreviation or an ordinal ("z. B.", "Nr. 5", "bis zum 20. eines Monats")
    for sentence in split_sentences(paragraph):
        if current and len(" ".join(current + [sentence]).split()) > MAX_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces


def chunk_markdown(title: str, body: str) -> list[ChunkDraft]:
    pieces: list[tuple[tuple[str, ...], str]] = []
    for section in _sections(title, body):
        buffer: list[str] = []
        for paragraph in section.paragraphs:
            for part in _split_long(paragraph):
                if buffer and len(" ".join(buffer + [part]).split()) > MAX_WORDS:
                    pieces.append((section.path, "\n\n".join(buffer)))
                    buffer = []
                buffer.append(part)
        if buffer:
            pieces.append((section.path, "\n\n".join(buffer)))
    merged: list[tuple[tuple[str, ...], str]] = []
    for path, text in pieces:
        if merged:
            last_path, last_text = merged[-1]
            small = len(last_text.split()) < MIN_WORDS or len(text.split()) < MIN_WORDS
            fits = len(last_text.split()) + len(text.split()) <= MAX_WORDS
            if small and fits and last_path[:2] == path[:2]:
                heading = f"## {path[-1]}\n" if path != last_path and len(path) > 1 else ""
                merged[-1] = (last_path, f"{last_text}\n\n{heading}{text}")
                continue
        merged.append((path, text))
    if not merged:
        merged = [((title,), body.strip() or title)]
    return [ChunkDraft(i, " > ".join(path), text) for i, (path, text) in enumerate(merged)]
