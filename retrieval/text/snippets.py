"""Snippets: the part of a passage around the query's words, cut at word boundaries, matches marked.

The text comes in as readable text (the caller renders Markdown first); a snippet is a list of
segments, each either plain text or a word that matches the query, so a page can escape each one
and wrap the matches in <mark>, and an API can join them into plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.text.tokens import QUESTION_FILLERS, analyze, language_of

ELLIPSIS = "…"
WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
SPACE = re.compile(r"\s+")
SENTENCE_ENDS = (". ", ": ", "! ", "? ", " – ")  # " – " ends a heading in readable text


@dataclass(frozen=True)
class Segment:
    text: str
    match: bool = False


def query_matcher(query: str, locales: list[str]) -> Callable[[str, str], bool]:
    """A test "does this word of a text in `locale` match the query?": by stem, folded umlauts and
    compound parts (so "Rücksendeetikett" matches "Etikett"), never by stop words or question fillers."""
    languages = list(dict.fromkeys(language_of(locale) for locale in locales if locale)) or ["de"]
    words = [match.group(0).lower() for match in WORD.finditer(query)]
    words = [word for word in words if word not in QUESTION_FILLERS]
    query_terms = {term for language in languages for word in words for term in analyze(word, language)}

    seen: dict[tuple[str, str], bool] = {}  # a result's words repeat: each is analysed once per query

    def matches(word: str, locale: str) -> bool:
        key = (word, locale)
        if key not in seen:
            seen[key] = bool(query_terms) and any(term in query_terms for term in analyze(word.lower(), locale))
        return seen[key]

    return matches


def snippet_segments(text: str, is_match: Callable[[str], bool], *, width: int = 240) -> list[Segment]:
    """About `width` characters of `text` around the densest run of matching words, cut between words,
    with an ellipsis where the text goes on; matching words as their own segments."""
    text = SPACE.sub(" ", text).strip()
    if not text:
        return []
    words = [(match.start(), match.end()) for match in WORD.finditer(text)]
    matched = [(start, end) for start, end in words if is_match(text[start:end])]
    start = _window_start(text, matched, width)
    end = _window_end(text, start, width)
    segments: list[Segment] = [Segment(ELLIPSIS)] if start > 0 else []
    position = start
    for word_start, word_end in matched:
        if word_start < start or word_end > end:
            continue
        if word_start > position:
            segments.append(Segment(text[position:word_start]))
        segments.append(Segment(text[word_start:word_end], match=True))
        position = word_end
    if position < end:
        segments.append(Segment(text[position:end]))
    if end < len(text):
        segments.append(Segment(ELLIPSIS))
    return segments


def snippet_text(segments: list[Segment]) -> str:
    return "".join(segment.text for segment in segments)


def _window_start(text: str, matched: list[tuple[int, int]], width: int) -> int:
    """Where the window begins: a little before the window holding the most different matching words,
    at the start of a word (or of the sentence, when that is close)."""
    if not matched or len(text) <= width:
        return 0
    best, best_count = matched[0][0], 0
    for anchor, _ in matched:
        distinct = {text[s:e].lower() for s, e in matched if anchor <= s and e <= anchor + width * 2 // 3}
        if len(distinct) > best_count:
            best, best_count = anchor, len(distinct)
    if best < width // 3:
        return 0
    start = best - width // 4
    sentence = max(text.rfind(mark, 0, best) + len(mark) for mark in SENTENCE_ENDS)
    if sentence >= len(" – ") and best - sentence <= width // 3:
        return sentence
    if text[start - 1] != " ":  # inside a word: on to the next one
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < best else best
    return start


def _window_end(text: str, start: int, width: int) -> int:
    end = start + width
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", start, end + 1)
    end = space if space > start else end
    return len(text[:end].rstrip(" ,;:–-"))
