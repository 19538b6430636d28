"""Change impact: which live articles does a policy memo or release note make wrong or incomplete?

Two signals. The fact comparison below finds changed values and moved menu paths, fast and
precise. Where a language model is configured, it also reads every plausible section of the
articles the facts did not flag (retrieval.impact.reading): a discontinued option, a process that
became self-service, a runbook naming the old procedure, a macro repeating the old deadline in its
own words. The fact comparison:

1. Statements. The title and each clause of the description (sentences cut at ';'; a clause saying
   that something stays as it is - "bleibt unverändert", "weiterhin", "ändert sich nicht", "not
   affected", "still" - is cut off at ',' and marked *unchanged*, unless it also says "künftig"/"from
   now on"). Facts come from retrieval.text.facts; the effective date is dropped (it is when, not what);
   values after "bisher/statt/instead of", before "auf/to" in "von X auf Y", or in a clause saying
   something is dropped ("entfällt", "no longer") are *old* values the change ends.
2. Candidates: the best chunks (hybrid search, both audiences, all locales, valid when the change
   takes effect) for the title and each change statement; then every passage (sentence, list item,
   table row with its header) of those articles that states a fact, with its title, heading and the
   sentence introducing its list as context. Of a translation group only the members in the
   change's language are judged when there are any (stems meet within a language);
   change_event_record flags the translations of each finding.
3. Matching. An article fact and a change fact of the same type and unit class, of the same order of
   magnitude, get a match score: idf-weighted overlap of passage and statement stems, overlap of the
   words next to the two numbers, cosine of the two sentence vectors (across languages the cosine
   carries most), plus a bonus for a phone number both name.
4. Decision (retrieval.impact._decide): a fact is wrong when its best match with a *different* change
   value reaches FLAG_THRESHOLD, unless
   - a statement gives the same value about nearly as close a subject (consistent),
   - an unchanged statement without such a value describes the passage better *and* speaks of what
     the number is about as well as the change fact does (the brief's "unchanged" rule, made
     fact-aware so that "we refund the shipping costs as before" does not vouch for an old price),
   - the change fact's value is already what the knowledge base says about it (a condition the
     change repeats, not a change), or
   - its value is neither new nor the change fact's old value (the value of its strongest match) and
     it matches clearly worse than that old value does (a third value is another fact).
   A passage repeating the (strongly matched or stated) old value next to the same words is wrong
   even with a weaker match. A menu path leading to the same item as a path of the change, but
   another way, is wrong.
5. A finding per article: its best conflict, a short reason naming the article's value, the new
   value (or the changed clause) and the effective date - worded in the language of each article it
   flags - and the passage verbatim as evidence.

Everything is general language knowledge; no rule names a product, a number or a term of any
knowledge base. The thresholds were chosen on demo/changes.jsonl, where each sits in a plateau
(FLAG_THRESHOLD 0.25-0.31 give identical results), and checked on a held-out set of another domain;
`python -m bench.changes` prints the figures.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import openai
from django.conf import settings
from django.utils import timezone

from governance.models import ChangeEvent
from governance.services import ImpactFinding, ImpactReason, change_event_fail, change_event_record
from kb.models import Article
from retrieval.impact.ended import ended_findings
from retrieval.impact.matching import (
    ArticlePassage,
    article_passages,
    coverage,
    embed,
    idf_weights,
    weighted_overlap,
)
from retrieval.impact.reading import read_impact
from retrieval.impact.statements import Statement, change_statements
from retrieval.index.embeddings import Embedder, active_embedder
from retrieval.llm.client import ModelEndpoint, model_endpoint
from retrieval.search.hybrid import chunk_hits
from retrieval.search.query import SearchQuery
from retrieval.text.facts import Fact, comparable_values, same_value, value_distance
from retrieval.text.tokens import language_of
from retrieval.tuning import (
    AGREEMENT_MARGIN,
    CHUNKS_PER_QUERY,
    COSINE_WEIGHT,
    FLAG_THRESHOLD,
    LEXICAL_WEIGHT,
    MIN_NEAR_SHARED,
    NEAR_WEIGHT,
    OTHER_VALUE_MARGIN,
    PATH_SCORE,
    RESTATED_OLD_VALUE,
    SHARED_IDENTIFIER_BONUS,
    STRONG_MATCH,
    VALUE_DISTANCE_WEIGHT,
)

logger = logging.getLogger("verity.impact")

# --- candidate articles ---------------------------------------------------------------------------


def candidate_articles(statements: list[Statement], today: dt.date, embedder: Embedder) -> list[Article]:
    """Live articles with a chunk among the best hits of the title or a change statement (both audiences)."""
    ids: dict[int, None] = {}
    for statement in statements:
        if statement.unchanged:
            continue
        query = SearchQuery(text=statement.match_text, audiences=("public", "internal"), today=today)
        for hit in chunk_hits(query, embedder=embedder)[:CHUNKS_PER_QUERY]:
            ids.setdefault(hit.article_id, None)
    articles = Article.objects.filter(pk__in=list(ids), live_version__isnull=False).select_related("translation_of")
    return sorted(articles, key=lambda article: article.pk)


def judged_in_language(articles: list[Article], language: str) -> list[Article]:
    """Of each translation group, the candidates in the change's language if there are any, else all.

    Comparing within one language is far more reliable (stems meet); change_event_record flags
    the translations of every finding, so the other members are covered.
    """
    root = {article.pk: article.translation_of_id or article.pk for article in articles}
    covered = {root[a.pk] for a in articles if language_of(a.locale) == language}
    return [a for a in articles if language_of(a.locale) == language or root[a.pk] not in covered]


# --- similarity ---------------------------------------------------------------------------------

@dataclass
class Match:
    """How well an article fact and a statement's fact are about the same thing."""

    passage: ArticlePassage
    fact: Fact
    statement: Statement
    other: Fact
    lexical: float  # idf-weighted overlap of the passage (with its title and heading) and the statement
    near: float  # idf-weighted overlap of the words right next to the two facts
    cosine: float  # of the two sentence vectors
    shared: int  # phone numbers or extensions both name

    @property
    def score(self) -> float:
        if self.passage.language == self.statement.language:
            base = LEXICAL_WEIGHT * self.lexical + NEAR_WEIGHT * self.near + COSINE_WEIGHT * self.cosine
        else:  # across languages stems rarely meet (names do): the sentence vectors carry most of it
            base = (max(self.lexical, self.near) + 2 * self.cosine) / 3
        return base + SHARED_IDENTIFIER_BONUS * min(self.shared, 1)

    @property
    def rank(self) -> float:
        """For choosing which change fact an article fact is about: among equal subject matches, the
        closer value (4,95 € is more likely the old value of 3,95 € than of 30,00 €)."""
        return self.score - VALUE_DISTANCE_WEIGHT * value_distance(self.fact, self.other)




def shared_identifiers(passage: ArticlePassage, statement: Statement) -> int:
    """Phone numbers and extensions both name: the same line or desk is the same subject, in any language."""
    return sum(
        1 for fact in passage.facts if fact.type == "identifier"
        and any(other.type == "identifier" and same_value(fact, other) for other in statement.facts)
    )


def statement_similarity(passage: ArticlePassage, statement: Statement, idf: dict[str, float]) -> float:
    """How well a passage and a statement are about the same thing, facts aside."""
    cosine = float(np.dot(passage.vector, statement.vector))
    if passage.language != statement.language:
        return cosine
    return (weighted_overlap(passage.terms, statement.terms(passage.language), idf) + cosine) / 2


# --- assessment -----------------------------------------------------------------------------------

NEW = re.compile(r"\bneu\w*|\bkünftig|\bab\s+sofort|\bstattdessen|\bersetzt|\bgeändert|\bändert\s+sich\b(?!\s+nicht)"
                 r"|\bnew\b|\bnow\b|\binstead\b|\breplace|\bchange[sd]?\s+to\b", re.IGNORECASE)


@dataclass
class FactReview:
    """One article fact against the change's facts of its kind."""

    differing: list[Match]  # against change facts with another value, best first
    agreeing: dict[tuple[int, int], float]  # change fact -> match score, for the statements stating the same value
    protected: set[int]  # ids of differing matches an unchanged statement outweighs
    restating: list[Match]  # against values the change ends, stated alike, best first

    @property
    def agreement(self) -> float:
        return max(self.agreeing.values(), default=0.0)


def change_fact_key(match: Match) -> tuple:
    """One new value of the change, however often it says it: the title "Express-Regulierung bis 2.000 €" and the
    description's "Sachschäden bis 2.000 € (bisher bis 1.500 €)" state one change fact."""
    return match.other.type, match.other.unit, match.other.value


def _review(passage: ArticlePassage, fact: Fact, statements: list[Statement], idf: dict[str, float],
            similarity: dict[int, float]) -> FactReview | None:
    differing: list[Match] = []
    restating: list[Match] = []
    agreeing: dict[tuple[int, int], float] = {}
    for statement in statements:
        lexical = weighted_overlap(passage.terms, statement.terms(passage.language), idf)
        cosine = float(np.dot(passage.vector, statement.vector))
        for other in statement.facts:
            if not comparable_values(fact, other) or _other_column(fact, other):
                continue
            match = Match(passage, fact, statement, other, lexical, weighted_overlap(fact.near, other.near, idf), cosine,
                          shared_identifiers(passage, statement))
            if statement.is_old(other):
                if same_value(fact, other):
                    restating.append(match)
            elif same_value(fact, other):
                agreeing[change_fact_key(match)] = match.score
            elif not statement.unchanged and (fact.type != "identifier" or NEW.search(statement.text)):
                # a phone number the change merely names is where, not what changes
                differing.append(match)
    if not differing and not agreeing and not restating:
        return None
    restating.sort(key=lambda m: m.score, reverse=True)
    differing.sort(key=lambda m: m.rank, reverse=True)
    # An unchanged statement that states no value of this kind protects the fact against a change fact when it
    # describes the passage better than the change's statement does *and* speaks of what the number is about
    # (the words next to it) at least as well as the change fact does ("die Zeiten des Videoservice ändern
    # sich nicht" protects the video service's hours from the new hotline hours).
    kept = [u for u in statements if u.unchanged and not any(f.type == fact.type for f in u.facts)]
    protected = {
        id(m) for m in differing
        if any(similarity[id(u)] > similarity[id(m.statement)]
               and coverage(fact.near, u.terms(passage.language), idf) >= coverage(fact.near, m.other.near, idf)
               for u in kept)
    }
    return FactReview(differing, agreeing, protected, restating)


def _other_column(fact: Fact, other: Fact) -> bool:
    """A table cell's value and a change fact that names another of the table's value columns, not the cell's own:
    "Tarif Premium … bis 4.000 €" is not about the Kompakt column's "bis 1.000 €"."""
    return bool(fact.other_columns & other.near) and not fact.column & other.near


def _decide(reviews: list[FactReview]) -> list[Match]:
    """The matches that make their passage wrong, judged together (what the knowledge base says matters).

    - A fact stated with the change's value about nearly as close a subject is consistent.
    - A change fact whose value the knowledge base already states about the same subject (its best
      same-value match beats every differing one) is a condition, not a change ("bei einer
      Kundentreue ab 24 Monaten bis 50 €"): it makes nothing wrong.
    - A passage stating a value the change ends ("statt bisher 14 Tage", "die Gebühr von 10 € entfällt")
      about the same thing is wrong.
    - The value of a change fact's best differing match, when strong, is its old value; a passage
      repeating it about the same thing nearby is wrong even with a weaker match, and even when an
      unchanged statement describes the passage better ("erstatten wie bisher die Versandkosten":
      the refunded amount is the changed price).
    - A third value (neither new nor the old one) needs a match nearly as good as the old value's.
    """
    open_reviews = [r for r in reviews if r.differing and r.agreement < r.differing[0].score - AGREEMENT_MARGIN]
    best_equal: dict[tuple[int, int], float] = defaultdict(float)
    for review in reviews:
        for key, score in review.agreeing.items():
            best_equal[key] = max(best_equal[key], score)
    # the old value of a change fact: the best-ranked match among the article facts that are about it (their
    # best-ranked change fact). A fact about another change fact is no candidate ("bis 15.000 €" for children's
    # damage is the old value of "bis 25.000 €", not of the favour damage's "bis 100.000 €" in the same table),
    # and among equal subject matches the closer value wins, as in `Match.rank`.
    old: dict[tuple, Match] = {}
    for review in open_reviews:
        match = review.differing[0]
        key = change_fact_key(match)
        if key not in old or match.rank > old[key].rank:
            old[key] = match
    conditions = {key for key, match in old.items() if best_equal[key] >= match.score + AGREEMENT_MARGIN}
    decided = [r.restating[0] for r in reviews
               if r.restating and (r.restating[0].score >= FLAG_THRESHOLD or _repeats_nearby(r.restating[0]))]
    for review in open_reviews:
        candidates = [m for m in review.differing if change_fact_key(m) not in conditions]
        if not candidates:
            continue
        match = candidates[0]
        top = old.get(change_fact_key(match), match)
        restates_old = top.score >= STRONG_MATCH and same_value(match.fact, top.fact) and _repeats_nearby(match)
        if not restates_old and (
            match.score < FLAG_THRESHOLD or id(match) in review.protected
            or (not same_value(match.fact, top.fact) and match.score < top.score - OTHER_VALUE_MARGIN)
        ):
            continue
        decided.append(match)
    return decided


def _repeats_nearby(match: Match) -> bool:
    """A weaker match that still repeats a value about the same thing: its number stands next to the same
    words (two at least: one shared word such as "dauert" is chance)."""
    return match.score >= RESTATED_OLD_VALUE and len(match.fact.near & match.other.near) >= MIN_NEAR_SHARED


def _path_conflict(passage: ArticlePassage, fact: Fact, statements: list[Statement]) -> Match | None:
    """A menu path to the same item as a path of the change, but another way: the item moved."""
    changed = [(s, p) for s in statements if not s.unchanged for p in s.facts if p.type == "path" and not s.is_old(p)]
    kept = [p for s in statements if s.unchanged for p in s.facts if p.type == "path"]
    if any(same_value(fact, p) or _tail_of(fact, p) for _, p in changed) or any(same_value(fact, p) for p in kept):
        return None
    for statement, path in changed:
        if path.value[-1] == fact.value[-1] and len(fact.value) > 1:
            return Match(passage, fact, statement, path, 1.0, 1.0, 1.0, 0)
    return None


def _tail_of(a: Fact, b: Fact) -> bool:
    """One path is the other without its first sections ("Verbrauch > Daten nachbuchen" in "Mein Alpenfunk
    (Verbrauch > Daten nachbuchen)"): the same path, written from a section on, not a moved item."""
    shorter, longer = sorted((a.value, b.value), key=len)
    return len(shorter) >= 2 and len(shorter) < len(longer) and longer[-len(shorter):] == shorter


def _reason(match: Match, event: ChangeEvent) -> ImpactReason:
    """What the article states, and what the change sets instead (or ends); each flag words it in its article's language."""
    fact, other, date = match.fact, match.other, event.effective_date
    if fact.type == "path":
        return ImpactReason(stated=fact.text, new=other.text, date=date, path=True)
    if match.statement.is_old(other):  # the article repeats a value the change ends: name the new one, if given
        new = next((f for f in match.statement.facts if not match.statement.is_old(f) and comparable_values(fact, f)), None)
        if new is None:
            clause = match.statement.text if len(match.statement.text) <= 160 else match.statement.text[:157] + "..."
            return ImpactReason(stated=fact.text, clause=clause, date=date)
        other = new
    return ImpactReason(stated=fact.text, new=other.text, date=date)


def finding_score(score: float) -> float:
    """A match score as a confidence in [0.5, 1] for flagged articles (1 from twice the threshold on)."""
    return round(max(0.5, min(1.0, 0.5 + 0.5 * (score - FLAG_THRESHOLD) / FLAG_THRESHOLD)), 3)


def assess_change(event: ChangeEvent, *, embedder: Embedder | None = None, endpoint: ModelEndpoint | None | bool = True,
                  trace: list | None = None) -> list[ImpactFinding]:
    """The articles the change makes wrong or incomplete, each with a reason and its evidence (no writes).

    Two signals: the fact comparison below (a changed value, a moved menu path) and, when a language
    model is configured (`endpoint` True: the configured one; None/False: facts only), the model's
    reading of every plausible section (retrieval.impact.reading) for the articles the facts did not
    flag. `trace` collects the model's judgements (for the benchmark).
    """
    embedder = embedder or active_embedder()
    findings = _fact_findings(event, embedder)
    if getattr(settings, "VERITY_IMPACT_ENDED", True):
        statements = change_statements(event.title, event.description, event.effective_date)
        findings += ended_findings(event, statements, max(timezone.localdate(), event.effective_date), embedder,
                                   skip={f.article.pk for f in findings})
    if endpoint is True:  # the configured model, where reading is turned on (VERITY_IMPACT_READING)
        endpoint = model_endpoint() if getattr(settings, "VERITY_IMPACT_READING", False) else None
    if endpoint:
        statements = change_statements(event.title, event.description, event.effective_date)
        today = max(timezone.localdate(), event.effective_date)
        try:
            findings += read_impact(event, statements, today, embedder, endpoint,
                                    skip={f.article.pk for f in findings}, trace=trace)
        except (openai.OpenAIError, OSError) as error:  # the model failed: the fact comparison stands alone
            logger.error("change %s: the model could not read the candidates (%s); facts only", event.pk, error)
    return findings


def _fact_findings(event: ChangeEvent, embedder: Embedder) -> list[ImpactFinding]:
    """The fact comparison: changed values and moved menu paths."""
    statements = change_statements(event.title, event.description, event.effective_date)
    today = max(timezone.localdate(), event.effective_date)  # what is still served when the change takes effect
    articles = judged_in_language(candidate_articles(statements, today, embedder), statements[0].language)
    passages = article_passages(articles)
    items = [*statements, *passages]
    for item, vector in zip(items, embed(embedder, [item.match_text for item in items]), strict=True):
        item.vector = vector
    languages = {p.language for p in passages}
    terms: set[str] = set()
    for passage in passages:
        terms |= passage.terms | {t for f in passage.facts for t in f.near}
    for statement in statements:
        terms |= {t for language in languages for t in statement.terms(language)} | {t for f in statement.facts for t in f.near}
    idf = idf_weights(terms)
    reviews: list[FactReview] = []
    conflicts: list[tuple[float, Match]] = []
    for passage in passages:
        similarity = {id(s): statement_similarity(passage, s, idf) for s in statements}
        for fact in passage.facts:
            if fact.type == "path":
                match = _path_conflict(passage, fact, statements)
                if match:
                    conflicts.append((PATH_SCORE, match))
            elif review := _review(passage, fact, statements, idf, similarity):
                reviews.append(review)
    conflicts += [(match.score, match) for match in _decide(reviews)]
    best: dict[int, tuple[float, Match]] = {}
    for score, match in conflicts:
        article_id = match.passage.article.pk
        if article_id not in best or score > best[article_id][0]:
            best[article_id] = (score, match)
    return [
        ImpactFinding(article=match.passage.article, score=finding_score(score),
                      cause=_reason(match, event), evidence=match.passage.quote)
        for score, match in sorted(best.values(), key=lambda item: -item[0])
    ]


def change_event_run(event_id: int) -> int:
    """Assess a change event and flag what it affects (the Celery task's body); returns the flags raised."""
    event = ChangeEvent.objects.get(pk=event_id)
    started = time.perf_counter()
    try:
        findings = assess_change(event)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        flags = change_event_record(event=event, findings=findings, elapsed_ms=elapsed_ms)
    except Exception as error:
        change_event_fail(event=event, error=f"{type(error).__name__}: {error}")
        raise
    return len(flags)
