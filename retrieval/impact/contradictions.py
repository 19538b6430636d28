"""Contradictions: live articles in one language that state different values for the same fact.

Partners are found cheaply: for each chunk of an article, the nearest chunks of *other* live
articles in the same language by the stored chunk vectors (the HNSW index, no model call), never
within a translation group (translations are compared with their source by the drift check, not
here). Passages of the two articles are then compared with the fact machinery of change impact
(retrieval.text.facts and the match score of retrieval.impact.assessment): the same type and unit class, about the
same subject (idf-weighted stem overlap of the passages with their titles and headings, overlap of
the words next to the two numbers, cosine of the passage vectors), different values, and the words
right at the two numbers alike. A pair is consistent, not contradictory, when either article also
states the other's value about as closely (a table listing both the standard and the express price).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import openai
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Flag
from governance.services import flag_raise
from kb.models import Article
from retrieval.impact.matching import ArticlePassage, article_passages, coverage, embed, idf_weights, weighted_overlap
from retrieval.impact.reading import contradiction_probability
from retrieval.index.embeddings import Embedder, active_embedder
from retrieval.index.indexing import embedder_changed
from retrieval.llm.client import ModelEndpoint, model_endpoint
from retrieval.text.facts import Fact, comparable_values, same_value
from retrieval.text.tokens import language_of
from retrieval.tuning import (
    CONTRADICTION_AGREEMENT_MARGIN as AGREEMENT_MARGIN,
)
from retrieval.tuning import (
    CONTRADICTION_JUDGE_MIN,
    CONTRADICTION_THRESHOLD,
    COSINE_WEIGHT,
    LEXICAL_WEIGHT,
    MIN_HEAD_COVERAGE,
    NEAR_WEIGHT,
    NEIGHBOUR_CHUNKS,
)
from verity.core.i18n import written_in


@dataclass(frozen=True)
class ContradictionFinding:
    article: Article
    other: Article
    sentence: str  # verbatim from article
    other_sentence: str  # verbatim from other
    value: str  # as written in article
    other_value: str  # as written in other
    score: float


logger = logging.getLogger("verity.impact")

# every audience: a public and an internal article contradicting each other mislead agents alike
AUDIENCES = tuple(Article.Audience.values)


def _scope(article_ids: list[int] | None, today: dt.date) -> list[Article]:
    """The articles served today (kb's servable rule, every audience), or those of `article_ids`."""
    live = Article.objects.servable(AUDIENCES, on=today)
    if article_ids is not None:
        live = live.filter(pk__in=article_ids)
    return list(live.select_related("translation_of"))


def _group(article: Article) -> int:
    return article.translation_of_id or article.pk


def _partners(articles: list[Article], embedder: Embedder, today: dt.date) -> dict[int, set[int]]:
    """For each article, the other live articles of its language with a chunk among its chunks' nearest."""
    if embedder_changed(embedder):  # vectors of another model are not comparable
        return {}
    dim = int(embedder.dimension)  # an int from the model, not input: safe to format into the cast
    servable, servable_params = Article.objects.servable_sql(AUDIENCES, on=today)
    sql = f"""
        SELECT src.article_id, nn.article_id
        FROM retrieval_chunk src
        JOIN retrieval_chunkembedding se ON se.chunk_id = src.id AND se.embedder_key = %s
        CROSS JOIN LATERAL (
            SELECT c.article_id
            FROM retrieval_chunkembedding e
            JOIN retrieval_chunk c ON c.id = e.chunk_id
            JOIN kb_article ON kb_article.live_version_id = c.version_id
            WHERE e.embedder_key = %s AND e.locale = se.locale AND c.article_id <> src.article_id
              AND {servable}
            ORDER BY (e.embedding::halfvec({dim})) <=> (se.embedding::halfvec({dim}))
            LIMIT %s
        ) nn
        WHERE src.article_id = ANY(%s) AND src.is_indexed
    """  # noqa: S608 - only the vector dimension and kb's servable rule are formatted in; values are parameters
    partners: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute("SET hnsw.ef_search = 100")
        cursor.execute("SET hnsw.iterative_scan = relaxed_order")  # filtered neighbours: keep scanning
        cursor.execute(sql, [embedder.key, embedder.key, *servable_params, NEIGHBOUR_CHUNKS, [a.pk for a in articles]])
        for source, other in cursor.fetchall():
            partners[source].add(other)
    return partners


def _row_label(passage: ArticlePassage) -> str | None:
    """The first cell of a table row (its quote is the header line and the row): what the row is about."""
    lines = passage.quote.splitlines()
    if len(lines) != 2 or not all(line.lstrip().startswith("|") for line in lines):
        return None
    return " ".join(lines[1].strip().strip("|").split("|")[0].split()).lower()


def _parallel(p: ArticlePassage, q: ArticlePassage) -> bool:
    """Passages about different instances of one kind of thing, whatever their similarity: two table rows
    naming different things (gas and electricity in tables of the same shape), or two passages with several
    values none of which agree (worked examples with other inputs). Their different values contradict nothing."""
    mine, theirs = _row_label(p), _row_label(q)
    if mine is not None and theirs is not None and mine != theirs:
        return True
    return len(p.facts) > 1 and len(q.facts) > 1 and not any(
        comparable_values(a, b) and same_value(a, b) for a in p.facts for b in q.facts
    )


def _score(p: ArticlePassage, a: Fact, q: ArticlePassage, b: Fact, idf: dict[str, float]) -> float:
    return (LEXICAL_WEIGHT * weighted_overlap(p.terms, q.terms, idf) + NEAR_WEIGHT * weighted_overlap(a.near, b.near, idf)
            + COSINE_WEIGHT * float(np.dot(p.vector, q.vector)))


def _best_conflict(mine: list[ArticlePassage], theirs: list[ArticlePassage], idf: dict[str, float]
                   ) -> tuple[float, ArticlePassage, Fact, ArticlePassage, Fact] | None:
    """The best-matching pair of facts with different values, unless either side also states the other's value."""
    best = None
    agree_mine: dict[int, float] = defaultdict(float)  # fact id -> best same-value match in the other article
    agree_theirs: dict[int, float] = defaultdict(float)
    pairs = []
    for p in mine:
        for a in p.facts:
            for q in theirs:
                if _parallel(p, q):
                    continue
                for b in q.facts:
                    if a.type in {"path", "identifier"} or not comparable_values(a, b):
                        continue  # another path or phone number is another item or line, not a contradiction
                    score = _score(p, a, q, b, idf)
                    if same_value(a, b):
                        agree_mine[id(a)] = max(agree_mine[id(a)], score)
                        agree_theirs[id(b)] = max(agree_theirs[id(b)], score)
                    else:
                        pairs.append((score, p, a, q, b))
    for score, p, a, q, b in pairs:
        if score < CONTRADICTION_THRESHOLD or min(coverage(a.head, b.head, idf), coverage(b.head, a.head, idf)) < MIN_HEAD_COVERAGE:
            continue
        if max(agree_mine[id(a)], agree_theirs[id(b)]) >= score - AGREEMENT_MARGIN:
            continue
        if best is None or score > best[0]:
            best = (score, p, a, q, b)
    return best


def contradictions_scan(article_ids: list[int] | None = None, *, embedder: Embedder | None = None,
                        endpoint: ModelEndpoint | None | bool = True) -> list[ContradictionFinding]:
    """Pairs of live articles in one language stating different values for one fact (no writes).

    With `article_ids`, only pairs involving those articles; each pair is reported once. When a
    language model is configured (`endpoint` True: the configured one), it reads each pair the fact
    comparison found and keeps only those it judges contradictory (P(ja) >= CONTRADICTION_JUDGE_MIN):
    pairs that only look alike (the same amount word about two different plans) are dropped.
    """
    embedder = embedder or active_embedder()
    today = timezone.localdate()
    sources = _scope(article_ids, today)
    partners = _partners(sources, embedder, today)
    involved = {a.pk: a for a in sources}
    others = _scope(sorted({pk for ids in partners.values() for pk in ids} - set(involved)), today)
    involved.update({a.pk: a for a in others})
    pairs = {
        tuple(sorted((source, other)))
        for source, ids in partners.items() for other in ids
        if other in involved and _group(involved[source]) != _group(involved[other])
        and language_of(involved[source].locale) == language_of(involved[other].locale)
    }
    passages = article_passages([involved[pk] for pk in sorted({pk for pair in pairs for pk in pair})])
    for passage, vector in zip(passages, embed(embedder, [p.match_text for p in passages]), strict=True):
        passage.vector = vector
    by_article: dict[int, list[ArticlePassage]] = defaultdict(list)
    for passage in passages:
        by_article[passage.article.pk].append(passage)
    idf = idf_weights({t for p in passages for t in p.terms | {n for f in p.facts for n in f.near | f.head}})
    findings = []
    for first, second in sorted(pairs):
        conflict = _best_conflict(by_article[first], by_article[second], idf)
        if conflict:
            score, p, a, q, b = conflict
            findings.append(ContradictionFinding(involved[first], involved[second], p.quote, q.quote, a.text, b.text,
                                                 round(score, 3)))
    if endpoint is True:  # the configured model, where reading is turned on (VERITY_IMPACT_READING)
        endpoint = model_endpoint() if getattr(settings, "VERITY_IMPACT_READING", False) else None
    if endpoint and findings:
        findings = _read(findings, endpoint)
    return sorted(findings, key=lambda f: -f.score)


def _read(findings: list[ContradictionFinding], endpoint: ModelEndpoint) -> list[ContradictionFinding]:
    """The findings the model also judges contradictory; all of them when the model fails."""
    kept = []
    try:
        for finding in findings:
            probability = contradiction_probability(
                endpoint, title=finding.article.title, sentence=finding.sentence, other_title=finding.other.title,
                other_sentence=finding.other_sentence, language=language_of(finding.article.locale))
            if probability >= CONTRADICTION_JUDGE_MIN:
                kept.append(finding)
    except (openai.OpenAIError, OSError) as error:
        logger.error("contradictions: the model could not read the pairs (%s); the fact comparison stands", error)
        return findings
    return kept


def _summary(article: Article, other: Article, value: str, other_value: str) -> str:
    # in the article's language; the partner's slug in straight quotes in every language: how an open
    # flag is recognised as naming the same partner
    with written_in(article.locale):
        return _("Contradicts '%(slug)s' (%(title)s): %(value)s here, %(other_value)s there.") % {
            "slug": other.slug, "title": other.title, "value": value, "other_value": other_value}


def _evidence(article: Article, sentence: str, other: Article, other_sentence: str) -> str:
    return f"{article.slug}: {sentence}\n---\n{other.slug}: {other_sentence}"


def contradictions_flag(findings: list[ContradictionFinding]) -> int:
    """Raise a contradiction flag on both articles of each finding, unless one naming that partner is open.

    Returns the number of flags raised.
    """
    raised = 0
    for finding in findings:
        sides = [
            (finding.article, finding.other, finding.value, finding.other_value, finding.sentence, finding.other_sentence),
            (finding.other, finding.article, finding.other_value, finding.value, finding.other_sentence, finding.sentence),
        ]
        for article, other, value, other_value, sentence, other_sentence in sides:
            already = Flag.objects.filter(Q(related_article=other) | Q(summary__contains=f"'{other.slug}'"),
                                          article=article, reason=Flag.Reason.CONTRADICTION, state=Flag.State.OPEN).exists()
            if already:
                continue
            if flag_raise(article=article, reason=Flag.Reason.CONTRADICTION, score=finding.score,
                          summary=_summary(article, other, value, other_value),
                          evidence=_evidence(article, sentence, other, other_sentence), related_article=other):
                raised += 1
    return raised
