"""Does an answer say what a reference reply said? Facts compared one by one, and the words they share.

Used to compare what Verity would answer with what a support agent actually replied to a ticket.
Every fact of the reference (a duration, an amount, a percentage, a time, a date, a count, a menu
path: retrieval.text.facts) is looked up in the answer: stated with the same value, *contradicted*
(a value of the same kind and order of magnitude, next to at least one of the same words, differs),
or *missing*. Nothing here refers to a particular knowledge base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.text.facts import Fact, comparable_values, content_terms, extract_facts, same_value
from retrieval.text.sentences import split_sentences

CITATION_MARK = re.compile(r"\s*\[\d+\]")
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")  # what redaction put in place of personal data


@dataclass(frozen=True)
class FactDifference:
    kind: str  # "missing" (the answer does not state it) or "contradicted" (the answer states another value)
    stated: str  # the reference's fact as written
    sentence: str  # the reference's sentence it stands in
    answer: str = ""  # the answer's differing fact as written (contradicted only)

    def __str__(self) -> str:
        if self.kind == "contradicted":
            return f"agent: {self.stated}, answer: {self.answer}"
        return f"agent: {self.stated}, not in the answer"


@dataclass(frozen=True)
class Comparison:
    stated: int  # facts in the reference
    agreeing: int  # of them stated by the answer with the same value
    differences: tuple[FactDifference, ...]
    overlap: float  # share of the reference's content words the answer has

    @property
    def contradicted(self) -> list[FactDifference]:
        return [difference for difference in self.differences if difference.kind == "contradicted"]

    @property
    def missing(self) -> list[FactDifference]:
        return [difference for difference in self.differences if difference.kind == "missing"]


def plain(text: str) -> str:
    """Text without citation marks and redaction placeholders."""
    return PLACEHOLDER.sub(" ", CITATION_MARK.sub("", text))


def _facts(text: str, locale: str) -> list[tuple[str, Fact]]:
    return [(sentence, fact) for sentence in split_sentences(plain(text)) for fact in extract_facts(sentence, locale)]


def _shared_words(a: Fact, b: Fact) -> int:
    return len(a.head & b.head) * 2 + len(a.near & b.near)


def compare_facts(reference: str, answer: str, locale: str = "de") -> Comparison:
    """Each fact of `reference` found in `answer` with the same value, a contradicting one, or missing."""
    answer_facts = [fact for _, fact in _facts(answer, locale)]
    differences: list[FactDifference] = []
    stated = agreeing = 0
    seen: set[tuple] = set()
    for sentence, fact in _facts(reference, locale):
        key = (fact.type, fact.unit, fact.value)
        if key in seen:  # the same value twice in a reply is one fact
            continue
        seen.add(key)
        stated += 1
        candidates = [other for other in answer_facts if fact.comparable(other)]
        if any(same_value(fact, other) for other in candidates):
            agreeing += 1
            continue
        rivals = [other for other in candidates if comparable_values(fact, other) and _shared_words(fact, other)]
        if rivals:
            rival = max(rivals, key=lambda other: _shared_words(fact, other))
            differences.append(FactDifference("contradicted", fact.text, sentence, rival.text))
        else:
            differences.append(FactDifference("missing", fact.text, sentence))
    reference_terms = content_terms(plain(reference), locale)
    answer_terms = content_terms(plain(answer), locale)
    overlap = len(reference_terms & answer_terms) / len(reference_terms) if reference_terms else 0.0
    return Comparison(stated, agreeing, tuple(differences), overlap)
