"""Verification: every answer sentence needs a citation whose passage supports it.

Facts must match exactly: numbers, amounts, dates and durations in a sentence must appear in
the cited passage, and a negation in the sentence but not in the source sentence it restates (or
the other way round) is a contradiction. Beyond that a support score (share of the sentence's
content words found in the passage) must reach SUPPORT_THRESHOLD. Unsupported sentences are
dropped.

Sentences are split by retrieval.text.sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval import tuning
from retrieval.text.numbers import numbers_in
from retrieval.text.sentences import split_sentences
from retrieval.text.tokens import analyze, language_of
from retrieval.tuning import (
    SUPPORT_THRESHOLD,
)

CITATION = re.compile(r"\s*\[(\d+)\]")
NEGATIONS = {
    "de": {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "ohne", "weder"},
    "en": {"not", "no", "never", "without", "neither", "nor", "cannot", "can't", "don't", "doesn't", "isn't", "won't"},
}
# a sentence of an answer ends after its citations ("... 14 Tage. [1] Next") ...
CITED_END = re.compile(r"(?<=\])\s+(?!\[)")



@dataclass(frozen=True)
class CheckedSentence:
    text: str
    citations: tuple[int, ...]
    supported: bool
    support: float
    problem: str = ""


def _negated(text: str, language: str) -> bool:
    words = set(re.findall(r"[\w']+", text.lower()))
    return bool(words & NEGATIONS.get(language, set()) or words & NEGATIONS["en"])


def negated(text: str, locale: str) -> bool:
    """The text denies what it says ("nicht", "kein", "no", ...)."""
    return _negated(text, language_of(locale))


def source_terms(text: str, locale: str) -> set[str]:
    """Index terms in the text's language and the other one (sources may be translations)."""
    return set(analyze(text, locale)) | set(analyze(text, "de" if language_of(locale) == "en" else "en"))


def support_score(sentence: str, passage: str, locale: str) -> float:
    sentence_terms = {term for term in analyze(sentence, locale) if not term.isdigit()}
    if not sentence_terms:
        return 1.0
    return len(sentence_terms & source_terms(passage, locale)) / len(sentence_terms)


def _source_segments(passage: str) -> list[str]:
    """Sentences of a cited text, and its table rows each with their header line (what a row means)."""
    segments: list[str] = []
    header: str | None = None
    for line in passage.splitlines():
        if not line.lstrip().startswith("|"):
            header = None
            segments.extend(split_sentences(line))
        elif header is None:
            header = line
            segments.append(line)
        else:
            segments.append(f"{header} {line}")
    return segments or [passage]


def restated_source(sentence: str, passage: str, locale: str) -> str:
    """The source sentence (or table row) a sentence restates: the one closest in terms (Jaccard).

    A negation is judged against this sentence, not the whole cited text: a quote of several
    sentences may negate one fact and plainly state the next.
    """
    wanted = source_terms(sentence, locale)

    def closeness(segment: str) -> float:
        terms = source_terms(segment, locale)
        return len(wanted & terms) / (len(wanted | terms) or 1)

    return max(_source_segments(passage), key=closeness)


NUMBER_HOLDER_CLOSENESS = tuning.NUMBER_HOLDER_CLOSENESS  # a number's source sentence: about as close as the closest


def _closeness(wanted: set[str], segment: str, locale: str) -> float:
    terms = source_terms(segment, locale)
    return len(wanted & terms) / (len(wanted | terms) or 1)


def misplaced_numbers(sentence: str, passage: str, locale: str) -> list[str]:
    """Numbers the source states only in a sentence about something else (the neighbouring sentence's amount).

    A number must stand in a source sentence (or table row) about as close to the answer sentence as
    the closest one: "innerhalb von 10 Tagen zurückgeben" restates the return-period sentence, and a 10
    that the source states only for the refund does not belong to it.
    """
    wanted = source_terms(sentence, locale)
    segments = _source_segments(passage)
    closeness = {segment: _closeness(wanted, segment, locale) for segment in segments}
    best = max(closeness.values(), default=0.0)
    misplaced = []
    for number in sorted(numbers_in(sentence)):
        holders = [segment for segment in segments if number in numbers_in(segment)]
        if holders and max(closeness[segment] for segment in holders) < NUMBER_HOLDER_CLOSENESS * best:
            misplaced.append(number)
    return misplaced


@dataclass(frozen=True)
class Support:
    """How well a passage supports a sentence: `problem` is "" (supported), "numbers", "misplaced",
    "negation" or "support"; `figures` the numbers at fault."""

    problem: str
    score: float = 0.0
    figures: tuple[str, ...] = ()


def passage_support(text: str, passage: str, locale: str) -> Support:
    """The rule that an answer sentence is supported by what it cites, for any text and passage."""
    missing = numbers_in(text) - numbers_in(passage)
    if missing:
        return Support("numbers", figures=tuple(sorted(missing)))
    misplaced = misplaced_numbers(text, passage, locale)
    if misplaced:
        return Support("misplaced", figures=tuple(misplaced))
    language = language_of(locale)
    if _negated(text, language) != _negated(restated_source(text, passage, locale), language):
        return Support("negation")
    score = support_score(text, passage, locale)
    if score < SUPPORT_THRESHOLD:
        return Support("support", score)
    return Support("", score)


def check_sentence(sentence: str, quotes: dict[int, str], locale: str) -> CheckedSentence:
    cited = tuple(int(n) for n in CITATION.findall(sentence))
    text = CITATION.sub("", sentence).strip()
    if not cited:
        return CheckedSentence(text, cited, False, 0.0, "no citation")
    unknown = [n for n in cited if n not in quotes]
    if unknown:
        return CheckedSentence(text, cited, False, 0.0, f"cites unknown source {unknown}")
    support = passage_support(text, " ".join(quotes[n] for n in cited), locale)
    if support.problem == "numbers":
        return CheckedSentence(text, cited, False, 0.0, f"numbers not in the source: {', '.join(support.figures)}")
    if support.problem == "misplaced":
        return CheckedSentence(text, cited, False, 0.0,
                               f"numbers from another statement of the source: {', '.join(support.figures)}")
    if support.problem == "negation":
        return CheckedSentence(text, cited, False, 0.0, "negation differs from the source")
    if support.problem == "support":
        return CheckedSentence(text, cited, False, support.score,
                               f"support {support.score:.2f} below {SUPPORT_THRESHOLD}")
    return CheckedSentence(text, cited, True, support.score)


def split_answer(answer: str) -> list[str]:
    return [sentence for part in CITED_END.split(answer.strip()) for sentence in split_sentences(part)]


def verify_answer(answer: str, quotes: dict[int, str], locale: str) -> list[CheckedSentence]:
    """Check each sentence of a generated answer against the passages it cites."""
    return [check_sentence(sentence, quotes, locale) for sentence in split_answer(answer)]
