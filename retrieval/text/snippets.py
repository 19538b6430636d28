"""Snippets: the part of a passage around the query's words, cut at word boundaries, matches marked.

The text comes in as readable text (the caller renders Markdown first); a snippet is a list of
segments, each either plain text or a word that matches the query, so a page can escape each one
and wrap the matches in <mark>, and an API can join them into plain text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from retrieval.text.tokens import QUESTION_FILLERS, analyze, language_of, word_terms

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

    def matches(word: str, locale: str) -> bool:
        return bool(query_terms) and not query_terms.isdisjoint(word_terms(word.lower(), locale))

    return matches


def text_words(text: str) -> set[str]:
    """The distinct words of a text, as snippet_segments tests them."""
    return set(WORD.findall(SPACE.sub(" ", text)))


def snippet_segments(text: str, is_match: Callable[[str], bool] | AbstractSet[str], *, width: int = 240) -> list[Segment]:
    """About `width` characters of `text` around the densest run of matching words, cut between words,
    with an ellipsis where the text goes on; matching words as their own segments. `is_match` is a test
    of a word or the set of matching words (a search tests the words of all its results at once)."""
    text = SPACE.sub(" ", text).strip()
    if not text:
        return []
    words = set(WORD.findall(text))
    matching = words & is_match if isinstance(is_match, AbstractSet) else {word for word in words if is_match(word)}
    matched = [match.span() for match in WORD.finditer(text) if match.group(0) in matching] if matching else []
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
    best = _densest_anchor(text, matched, width)
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


def _densest_anchor(text: str, matched: list[tuple[int, int]], width: int) -> int:
    """The first matching word whose window (two thirds of `width` from it) holds the most different
    matching words: one pass, the window's words counted as it moves."""
    best, best_count = matched[0][0], 0
    words = [text[s:e].lower() for s, e in matched]
    reach = width * 2 // 3
    inside: Counter[str] = Counter()  # the matching words of the window [anchor, anchor + reach]
    last = 0  # matched[:last] have been added to the window
    for first, (anchor, _) in enumerate(matched):
        last = max(last, first)  # a word longer than the window never entered it
        while last < len(matched) and matched[last][1] <= anchor + reach:
            inside[words[last]] += 1
            last += 1
        if len(inside) > best_count:
            best, best_count = anchor, len(inside)
        if first < last:  # the anchor's word leaves the window before the next anchor
            inside[words[first]] -= 1
            if not inside[words[first]]:
                del inside[words[first]]
    return best


def _window_end(text: str, start: int, width: int) -> int:
    end = start + width
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", start, end + 1)
    end = space if space > start else end
    return len(text[:end].rstrip(" ,;:–-"))
