"""Verification: every answer sentence needs a citation whose passage supports it.

Facts must match exactly: numbers, amounts, dates and durations in a sentence must appear in
the cited passage, and a negation in one but not the other is a contradiction. Beyond that a
support score (share of the sentence's content words found in the passage) must reach
SUPPORT_THRESHOLD. Unsupported sentences are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.analysis import analyze, language_of

CITATION = re.compile(r"\s*\[(\d+)\]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NEGATIONS = {
    "de": {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "ohne", "weder"},
    "en": {"not", "no", "never", "without", "neither", "nor", "cannot", "can't", "don't", "doesn't", "isn't", "won't"},
}
SUPPORT_THRESHOLD = 0.6
# a sentence ends after its citations ("... 14 Tage. [1] Next") or at a full stop not followed by one
SENTENCE_END = re.compile(r"(?<=[.!?\]])\s+(?!\[)")


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    citations: tuple[int, ...]
    supported: bool
    support: float
    problem: str = ""


def numbers_in(text: str) -> set[str]:
    """Numbers normalised so that 14,95 == 14.95 and 1.000 == 1000 (German/English notation)."""
    found = set()
    for match in NUMBER.finditer(text):
        token = match.group(0)
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", token):
            token = re.sub(r"[.,]", "", token)
        found.add(token.replace(",", "."))
    return found


def _negated(text: str, language: str) -> bool:
    words = set(re.findall(r"[\w']+", text.lower()))
    return bool(words & NEGATIONS.get(language, set()) or words & NEGATIONS["en"])


def support_score(sentence: str, passage: str, locale: str) -> float:
    sentence_terms = {term for term in analyze(sentence, locale) if not term.isdigit()}
    if not sentence_terms:
        return 1.0
    passage_terms = set(analyze(passage, locale)) | set(analyze(passage, "de" if language_of(locale) == "en" else "en"))
    return len(sentence_terms & passage_terms) / len(sentence_terms)


def check_sentence(sentence: str, quotes: dict[int, str], locale: str) -> CheckedSentence:
    cited = tuple(int(n) for n in CITATION.findall(sentence))
    text = CITATION.sub("", sentence).strip()
    if not cited:
        return CheckedSentence(text, cited, False, 0.0, "no citation")
    unknown = [n for n in cited if n not in quotes]
    if unknown:
        return CheckedSentence(text, cited, False, 0.0, f"cites unknown source {unknown}")
    passage = " ".join(quotes[n] for n in cited)
    missing = numbers_in(text) - numbers_in(passage)
    if missing:
        return CheckedSentence(text, cited, False, 0.0, f"numbers not in the source: {', '.join(sorted(missing))}")
    language = language_of(locale)
    if _negated(text, language) != _negated(passage, language):
        return CheckedSentence(text, cited, False, 0.0, "negation differs from the source")
    score = support_score(text, passage, locale)
    if score < SUPPORT_THRESHOLD:
        return CheckedSentence(text, cited, False, score, f"support {score:.2f} below {SUPPORT_THRESHOLD}")
    return CheckedSentence(text, cited, True, score)


def split_answer(answer: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(answer.strip()) if part.strip()]


def verify_answer(answer: str, quotes: dict[int, str], locale: str) -> list[CheckedSentence]:
    """Check each sentence of a generated answer against the passages it cites."""
    return [check_sentence(sentence, quotes, locale) for sentence in split_answer(answer)]
