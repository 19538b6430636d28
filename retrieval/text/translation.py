"""Checking a translation against its source, without a model: sections, survival of facts, glossary, agreement.

A translation keeps every number, amount, date, time, phone number and menu path of its source and
writes every glossary term the way the glossary says. `survival` lists each of them as kept or
missing; `agreement` compares the source with the back-translation (character 3-gram F-score,
chrF, robust to inflection); `word_differences` marks the spans where they differ, for a reviewer.
General German/English language knowledge only; the glossary is data.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

from retrieval.text.facts import extract_facts, same_value
from retrieval.text.numbers import numbers_in
from retrieval.text.sentences import split_sentences

HEADING = re.compile(r"^#{1,6}\s")


@dataclass(frozen=True)
class GlossaryRule:
    term: str
    required: str  # how it must stand in the target language (the translation, or the term itself)
    forbidden: tuple[str, ...] = ()
    do_not_translate: bool = False


@dataclass(frozen=True)
class SurvivalItem:
    kind: str  # number, amount, date, time, percent, phone, duration, menu_path, glossary, forbidden
    text: str  # as written in the source (for "forbidden": the variant found in the translation)
    kept: bool
    context: str  # the source sentence it stands in
    expected: str = ""  # glossary: the required form


def split_sections(body: str, *, max_chars: int) -> list[str]:
    """The body cut before each heading; a section longer than `max_chars` cut between paragraphs
    (a paragraph longer than that stays whole: cutting inside a table or a list would break it)."""
    sections: list[list[str]] = [[]]
    for line in body.strip().splitlines():
        if HEADING.match(line) and any(part.strip() for part in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    result: list[str] = []
    for lines in sections:
        text = "\n".join(lines).strip()
        if not text:
            continue
        if len(text) <= max_chars:
            result.append(text)
            continue
        chunk = ""
        for paragraph in re.split(r"\n\s*\n", text):
            if chunk and len(chunk) + len(paragraph) + 2 > max_chars:
                result.append(chunk)
                chunk = paragraph
            else:
                chunk = f"{chunk}\n\n{paragraph}" if chunk else paragraph
        if chunk:
            result.append(chunk)
    return result


def _char_ngrams(text: str, n: int) -> Counter[str]:
    squeezed = re.sub(r"\s+", " ", re.sub(r"[#*_`|>\[\]()]", " ", text.lower())).strip()
    return Counter(squeezed[i:i + n] for i in range(max(len(squeezed) - n + 1, 0)))


def agreement(source: str, back: str, *, n: int = 3) -> float:
    """chrF (β=2 weighs recall: what of the source came back) of the back-translation, 0..1."""
    reference, hypothesis = _char_ngrams(source, n), _char_ngrams(back, n)
    if not reference and not hypothesis:
        return 1.0
    if not reference or not hypothesis:
        return 0.0
    common = sum((reference & hypothesis).values())
    precision, recall = common / sum(hypothesis.values()), common / sum(reference.values())
    if precision + recall == 0:
        return 0.0
    beta2 = 4.0
    return (1 + beta2) * precision * recall / (beta2 * precision + recall)


def word_differences(source: str, back: str) -> list[tuple[str, str]]:
    """The source and its back-translation as runs of ("same" | "source" | "back", words): "source"
    only in the source (lost or changed on the way), "back" only in the back-translation."""
    a, b = source.split(), back.split()

    def key(word: str) -> str:
        return re.sub(r"[^\w]", "", word.lower())

    matcher = difflib.SequenceMatcher(a=[key(w) for w in a], b=[key(w) for w in b], autojunk=False)
    runs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("source", " ".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("back", " ".join(b[j1:j2])))
    return runs


FACT_KINDS = {"money": "amount", "date": "date", "day_of_month": "date", "clock": "time", "percent": "percent",
              "identifier": "phone", "duration": "duration", "frequency": "number", "quantity": "number",
              "count": "number", "path": "menu_path"}


def _sentences(text: str) -> list[str]:
    """Sentences line by line, without Markdown's heading and list markers (a heading is no part of a path)."""
    found: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)", "", line).strip()
        if line:
            found.extend(split_sentences(line) or [line])
    return found


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def survival(source: str, target: str, *, source_locale: str, target_locale: str,
             glossary: list[GlossaryRule] = ()) -> list[SurvivalItem]:
    """Every fact and glossary term of the source, kept or missing in the target; forbidden variants found."""
    items: list[SurvivalItem] = []
    target_facts = [fact for sentence in _sentences(target) for fact in extract_facts(sentence, target_locale)]
    target_numbers = numbers_in(target)
    target_paths = [fact for fact in target_facts if fact.type == "path"]
    covered: set[str] = set()
    for sentence in _sentences(source):
        facts = extract_facts(sentence, source_locale)
        for fact in facts:
            numbers = numbers_in(fact.text)
            covered |= numbers
            if fact.type == "path":
                kept = _path_kept(fact, target_paths, glossary)
            elif fact.type == "count":
                kept = numbers <= target_numbers
            else:
                kept = any(other.type == fact.type and same_value(fact, other) for other in target_facts) or (
                    bool(numbers) and numbers <= target_numbers and fact.type not in {"date", "clock"})
            items.append(SurvivalItem(FACT_KINDS.get(fact.type, "number"), fact.text, kept, sentence))
        for number in sorted(numbers_in(sentence) - covered):
            covered.add(number)
            items.append(SurvivalItem("number", number, number in target_numbers, sentence))
    for rule in glossary:
        where = next((s for s in _sentences(source) if _contains(s, rule.term)), None)
        if where is None:
            continue
        items.append(SurvivalItem("glossary", rule.term, _contains(target, rule.required), where, rule.required))
    return items


def _path_kept(fact, target_paths: list, glossary: list[GlossaryRule]) -> bool:
    """A menu path survives as a path of as many steps; a step that is a glossary term in the required form."""
    for other in target_paths:
        if len(other.value) != len(fact.value):
            continue
        if all(_step_kept(step, there, glossary) for step, there in zip(fact.value[1:], other.value[1:], strict=True)):
            return True
    return False


def _step_kept(step: str, there: str, glossary: list[GlossaryRule]) -> bool:
    for rule in glossary:
        if rule.term.lower() == step:
            return there == rule.required.lower()
    return True


def forbidden_replace(text: str, rules: list[GlossaryRule]) -> tuple[str, list[tuple[str, str]]]:
    """Each forbidden variant replaced by the required form (whole words, any case); (text, [(variant, form)])."""
    replaced: list[tuple[str, str]] = []
    for rule in rules:
        for variant in sorted(rule.forbidden, key=len, reverse=True):
            pattern = re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)", re.IGNORECASE)
            text, count = pattern.subn(rule.required, text)
            if count:
                replaced.append((variant, rule.required))
    return text, replaced


def score(*, agreement_share: float, kept: int, total: int, agreement_weight: float) -> tuple[int, int, int]:
    """(score, agreement, survival), each 0-100: survival the share of facts and terms kept (100 with none)."""
    agreement_points = round(100 * agreement_share)
    survival_points = round(100 * kept / total) if total else 100
    overall = round(agreement_weight * agreement_points + (1 - agreement_weight) * survival_points)
    return overall, agreement_points, survival_points
