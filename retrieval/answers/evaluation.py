"""Simulation: run a questions.jsonl (kb-format.md) through the real answer pipeline and score it.

`as_if_approved` runs the same questions inside a transaction in which a pending version is
published (and indexed), then rolls it back: the report shows what the bot would answer if that
version went live, and what would change.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from governance.services import version_publish
from kb.models import ArticleVersion
from retrieval.answers.guardrails import guarded_phrases, phrase_in
from retrieval.answers.pipeline import AnswerResult, answer_question
from retrieval.index.corpus import stats_invalidate
from retrieval.text.sentences import split_sentences
from verity.core.errors import ApplicationError

REQUIRED_FIELDS = ("id", "question", "audience", "answerable")
MAX_ANSWER_WORDS = 80  # a reply longer than this is pasted text, not an answer
CITATION_MARK = re.compile(r"\s*\[\d+\]")
FLATTENED_TABLE = re.compile(r"\||(?:[^\s:;]+: [^;]+; ){2,}")  # raw pipes, or "Spalte: x; Spalte: y; ..."
# a sentence cannot end on a conjunction, an article or a preposition (general German and English)
ENDING_FUNCTION_WORDS = frozenset(
    "und oder aber sowie bzw der die das den dem des ein eine einen einem einer eines mit von vom zu zum zur für "
    "auf an am in im bei nach aus über unter vor durch "
    "and or but nor the a an of to for with in on at by from into".split()
)


def reading_problems(answer: str) -> list[str]:
    """What a reader notices at once: too long, a flattened table, a fragment, a question as an answer."""
    text = CITATION_MARK.sub("", answer)
    problems = []
    words = re.findall(r"\w+", text)
    if len(words) > MAX_ANSWER_WORDS:
        problems.append(f"{len(words)} words (over {MAX_ANSWER_WORDS})")
    if FLATTENED_TABLE.search(text):
        problems.append("flattened table")
    for sentence in split_sentences(text):
        last = re.findall(r"\w+", sentence.lower())[-1:] or [""]
        if sentence.rstrip().endswith("?"):
            problems.append(f"a question in the answer: {sentence[:60]!r}")
        elif last[0] in ENDING_FUNCTION_WORDS or sentence[:1].islower():
            problems.append(f"fragment: {sentence[:60]!r}")
    return problems


@dataclass
class EvalQuestion:
    id: str
    question: str
    locale: str | None
    audience: str
    answerable: bool
    expected_slugs: list[str]
    must_contain: list[str]
    must_not_contain: list[str]


@dataclass
class EvalOutcome:
    question: EvalQuestion
    result: AnswerResult
    correct: bool
    leaked: bool
    forbidden_promises: list[str]
    problems: list[str] = field(default_factory=list)
    reading: list[str] = field(default_factory=list)  # reading_problems of the answer (counted, not scored)


def load_questions(path: Path) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise ApplicationError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        missing = [key for key in REQUIRED_FIELDS if key not in data]
        if missing:
            raise ApplicationError(f"{path}:{number}: missing key(s) {', '.join(missing)}")
        if data["audience"] not in ("public", "internal"):
            raise ApplicationError(f"{path}:{number}: key 'audience' must be public or internal, not {data['audience']!r}")
        questions.append(EvalQuestion(
            id=str(data["id"]), question=str(data["question"]), locale=data.get("locale"), audience=data["audience"],
            answerable=bool(data["answerable"]), expected_slugs=list(data.get("expected_slugs") or []),
            must_contain=list(data.get("must_contain") or []), must_not_contain=list(data.get("must_not_contain") or []),
        ))
    return questions


def _contains(text: str, fact: str) -> bool:
    return fact.lower() in text.lower()


def score(question: EvalQuestion, result: AnswerResult, phrases: list[str]) -> EvalOutcome:
    answer = result.answer or "" if result.status == "answered" else ""
    problems: list[str] = []
    leaked = question.audience == "public" and (
        any(c.audience != "public" for c in result.citations)
        or (not question.answerable and any(_contains(answer, fact) for fact in question.must_not_contain))
    )
    quotes = " ".join(c.quote for c in result.citations)
    promises = [p for p in phrases if phrase_in(p, answer, max_gap=0) and not phrase_in(p, quotes, max_gap=0)]
    forbidden = [fact for fact in question.must_not_contain if _contains(answer, fact)]
    if question.answerable:
        cited = {c.slug for c in result.citations}
        if result.status != "answered":
            problems.append(f"{result.status} ({result.reason})")
        else:
            if question.expected_slugs and not cited & set(question.expected_slugs):
                problems.append(f"cites {sorted(cited)}, expected one of {question.expected_slugs}")
            missing = [fact for fact in question.must_contain if not _contains(answer, fact)]
            if missing:
                problems.append(f"missing {missing}")
        correct = not problems and not forbidden and not promises
    else:
        correct = result.status in ("refused", "handoff") and not forbidden
        if not correct:
            problems.append(f"answered although unanswerable: cites {[c.slug for c in result.citations]}")
    if forbidden:
        problems.append(f"contains forbidden {forbidden}")
    if promises:
        problems.append(f"unsupported promise {promises}")
    return EvalOutcome(question, result, correct, leaked, promises, problems, reading_problems(answer) if answer else [])


@dataclass
class EvalReport:
    outcomes: list[EvalOutcome]

    def _share(self, outcomes: list[EvalOutcome]) -> tuple[int, int]:
        return sum(o.correct for o in outcomes), len(outcomes)

    @property
    def answerable(self) -> tuple[int, int]:
        return self._share([o for o in self.outcomes if o.question.answerable])

    @property
    def unanswerable(self) -> tuple[int, int]:
        return self._share([o for o in self.outcomes if not o.question.answerable])

    @property
    def leaks(self) -> int:
        return sum(o.leaked for o in self.outcomes)

    @property
    def unreadable(self) -> int:
        return sum(bool(o.reading) for o in self.outcomes)

    @property
    def promises(self) -> int:
        return sum(bool(o.forbidden_promises) for o in self.outcomes)

    def latency(self, quantile: float) -> float:
        values = sorted(o.result.latency_ms for o in self.outcomes)
        if not values:
            return 0.0
        if len(values) == 1:
            return float(values[0])
        return statistics.quantiles(values, n=100, method="inclusive")[int(quantile * 100) - 1]


def run_eval(questions: list[EvalQuestion], *, store: bool = False) -> EvalReport:
    outcomes = []
    for question in questions:
        result = answer_question(
            question=question.question, audience=question.audience, locale=question.locale, store=store, simulated=True
        )
        outcomes.append(score(question, result, guarded_phrases(question.audience)))
    return EvalReport(outcomes)


class _Rollback(Exception):
    pass


def run_eval_as_if_approved(questions: list[EvalQuestion], *, version_id: int) -> tuple[EvalReport, EvalReport]:
    """The report now, and the report as if the pending version `version_id` were live."""

    version = ArticleVersion.objects.select_related("article").filter(pk=version_id).first()
    if version is None:
        raise ApplicationError(f"--as-if-approved: no version with id {version_id}.")
    if version.article.live_version_id == version.pk:
        raise ApplicationError(f"--as-if-approved: {version} is already live.")
    baseline = run_eval(questions)
    simulated: EvalReport | None = None
    try:
        with transaction.atomic():
            version_publish(actor=None, version=version, audit=False)
            simulated = run_eval(questions)
            raise _Rollback
    except _Rollback:
        pass

    stats_invalidate()
    return baseline, simulated
