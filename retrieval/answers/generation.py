"""Answers without a language model: a Generator composes them from the selected evidence.

The language model's path is retrieval.answers.model (writer and judge through retrieval.llm.client);
this is the extractive fallback (VERITY_GENERATOR=extractive, or no model available) and the Protocol
test doubles implement. Whatever a generator writes is verified afterwards
(retrieval.answers.verification): it can only drop sentences, never add facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from retrieval.text.sentences import split_sentences


@dataclass(frozen=True)
class Source:
    n: int
    title: str
    text: str  # the passages of this source, readable
    locale: str


class Generator(Protocol):
    name: str

    def generate(self, *, question: str, sources: list[Source], sentences: list[tuple[int, str]], locale: str) -> str: ...


class ExtractiveGenerator:
    """States the selected passages verbatim (made readable), every sentence followed by its citation.

    A passage may hold several sentences (a list item, a question with its answer); each gets its
    own [n], since verification checks sentence by sentence and drops any without a citation.
    """

    name = "extractive"

    def generate(self, *, question: str, sources: list[Source], sentences: list[tuple[int, str]], locale: str) -> str:
        parts = []
        for n, passage in sentences:
            for sentence in split_sentences(passage):
                sentence = sentence.rstrip(",; ")  # a list item's own separator ("…, Rechtsschutz,")
                if not sentence:
                    continue
                if sentence[-1] not in ".!?:":
                    sentence += "."
                parts.append(f"{sentence} [{n}]")
        return " ".join(parts)
