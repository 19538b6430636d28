"""Hybrid search over live, valid chunks: BM25 keyword scores and HNSW vector similarity, fused.

Every query joins the article table and keeps only chunks of the article's *live* version, of
an allowed audience, valid today: that join is the gate; the pre-filters on the vector table
are only there to make the index scan efficient.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from governance.models import Flag
from kb.models import Article
from retrieval.analysis import detect_language, query_terms, tokens
from retrieval.embeddings import Embedder, active_embedder
from retrieval.indexing import embedder_changed

Mode = Literal["hybrid", "keyword", "semantic"]
K1 = 1.2
B = 0.75
CANDIDATES = 100
# keyword search at scale (see _KEYWORD_SQL): a term in more than COMMON_TERM_FRACTION of the
# chunks (and more than COMMON_TERM_MIN_DF) is "common"; its score is added for the best
# CANDIDATE_POOL chunks of the other terms. On SciFact train the pruning cost nothing at 10% and
# -0.0001 nDCG@10 at 5% (an upper bound on the loss: there every chunk with a selective term kept
# its full score). The best PRESELECT chunks are joined with their articles before the filters.
COMMON_TERM_FRACTION = 0.05
COMMON_TERM_MIN_DF = 2000
CANDIDATE_POOL = 1500
PRESELECT = 1000
# fused = (1 - w) * keyword + w * semantic, both normalised to [0, 1]. The default w is the one
# tuned for the active embedder (its `fusion_weight`, tuned on SciFact train + the demo set);
# VERITY_SEMANTIC_WEIGHT in the environment (or a settings value other than settings.py's
# fallback 0.5) overrides it.
SEMANTIC_WEIGHT = 0.5
SETTINGS_FALLBACK_WEIGHT = 0.5
STATS_TTL_SECONDS = 30.0
# HNSW candidate list: top-10 recall against exact search on the 100k-chunk synthetic index of
# `bench --scale` (SciFact claims as queries) was 0.85 at 100, 0.94 at 200, 0.98 at 400, for
# about 7 ms per query at 400.
EF_SEARCH = 400


@dataclass(frozen=True)
class SearchQuery:
    text: str
    audiences: tuple[str, ...]
    locale: str | None = None
    limit: int = 10
    spaces: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    mode: Mode = "hybrid"
    today: dt.date | None = None
    chunks_per_article: int = 3


@dataclass
class ChunkHit:
    chunk_id: int
    article_id: int
    version_id: int
    keyword: float = 0.0
    semantic: float = 0.0
    score: float = 0.0


@dataclass
class ArticleResult:
    article: Article
    version_number: int
    score: float
    snippet: str
    state: str
    chunks: list[ChunkHit] = field(default_factory=list)


def detect_locale(text: str, default: str = "de") -> str:
    """German or English by stop words and umlauts (general language knowledge)."""
    return detect_language(text, default)


_stats_lock = threading.Lock()
_stats_cache: tuple[float, float, float] | None = None  # (fetched_at, n, avgdl)


_in_snapshot = threading.local()


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view of the index for every query of one search (REPEATABLE READ, read-only).

    Without it, a publish committing between the keyword and the vector query could mix chunks of
    two versions in one result. Inside a caller's transaction (a simulation, a test) that
    transaction decides what is visible.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        _in_snapshot.active = True
        try:
            yield
        finally:
            _in_snapshot.active = False


def _cacheable() -> bool:
    """Corpus statistics may be shared between searches unless a caller's transaction may differ."""
    return not connection.in_atomic_block or getattr(_in_snapshot, "active", False)


def _corpus_stats() -> tuple[float, float]:
    global _stats_cache
    with _stats_lock:
        if _stats_cache and time.monotonic() - _stats_cache[0] < STATS_TTL_SECONDS and _cacheable():
            return _stats_cache[1], _stats_cache[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(avg(length), 1) FROM retrieval_chunk WHERE is_indexed")
        n, avgdl = cursor.fetchone()
    n, avgdl = float(n), float(avgdl) or 1.0
    if _cacheable() and n > 0:  # an empty index is never cached: the first publish must be found at once
        with _stats_lock:
            _stats_cache = (time.monotonic(), n, avgdl)
    return n, avgdl


def stats_invalidate() -> None:
    global _stats_cache
    with _stats_lock:
        _stats_cache = None
        _common_df_cache.clear()


# Document frequencies of *common* terms only (see COMMON_TERM_FRACTION): counting "cell" in a
# 100k-chunk index reads tens of thousands of index entries, and a few more or fewer chunks
# change its idf by nothing that matters. Rare terms are counted exactly on every query.
COMMON_DF_TTL_SECONDS = 300.0
_common_df_cache: dict[str, tuple[float, int]] = {}


def _common_df_cached(terms: list[str]) -> dict[str, int]:
    if connection.in_atomic_block:
        return {}
    now = time.monotonic()
    with _stats_lock:
        found = {t: _common_df_cache.get(t) for t in terms}
    return {t: entry[1] for t, entry in found.items() if entry and now - entry[0] < COMMON_DF_TTL_SECONDS}


def _common_df_remember(counts: dict[str, int]) -> None:
    if connection.in_atomic_block or not counts:
        return
    now = time.monotonic()
    with _stats_lock:
        if len(_common_df_cache) > 50_000:
            _common_df_cache.clear()
        _common_df_cache.update({t: (now, count) for t, count in counts.items()})


def _article_filters(query: SearchQuery, today: dt.date) -> tuple[str, list]:
    clauses = [
        "a.audience = ANY(%s)",
        "(a.valid_from IS NULL OR a.valid_from <= %s)",
        "(a.valid_until IS NULL OR a.valid_until > %s)",
    ]
    params: list = [list(query.audiences), today, today]
    if query.spaces:
        clauses.append("a.space_id IN (SELECT id FROM kb_space WHERE slug = ANY(%s))")
        params.append(list(query.spaces))
    if query.kinds:
        clauses.append("a.kind = ANY(%s)")
        params.append(list(query.kinds))
    if query.tags:
        clauses.append("a.tags && %s::varchar[]")
        params.append(list(query.tags))
    return " AND ".join(clauses), params


def _keyword_hits(query: SearchQuery, today: dt.date, locales: list[str]) -> list[ChunkHit]:
    # without a query locale no language is the query's own: every analysis counts fully
    weights = query_terms(query.text, locales) if query.locale else query_terms(query.text, locales, secondary_weight=1.0)
    if not weights:
        return []
    n, avgdl = _corpus_stats()
    if n == 0:
        return []
    where, params = _article_filters(query, today)
    terms = list(weights)
    with connection.cursor() as cursor:
        limit = max(COMMON_TERM_MIN_DF, COMMON_TERM_FRACTION * n)
        df = _common_df_cached(terms)
        missing = [t for t in terms if t not in df]
        if missing:
            # document frequencies from the (term, chunk) index alone: an index-only scan
            cursor.execute("SELECT term, count(*) FROM retrieval_posting WHERE term = ANY(%s) GROUP BY term", [missing])
            counted = dict(cursor.fetchall())
            df.update(counted)
            _common_df_remember({t: count for t, count in counted.items() if count > limit})
        if not df:
            return []
        # query weight x Lucene's BM25 idf
        idf = {t: weights[t] * math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms if t in df}
        selective = [t for t in idf if df[t] <= limit]
        common = [t for t in idf if df[t] > limit] if selective else []
        if not common:
            selective = list(idf)
        # when the filters leave fewer than CANDIDATES of the preselected chunks, repeat exactly:
        # every term on every matching chunk, all of them filtered
        plans = [(selective, common, CANDIDATE_POOL, PRESELECT), (list(idf), [], None, None)]
        for plan_selective, plan_common, pool, preselect in plans:
            cursor.execute(_KEYWORD_SQL.format(where=where), [
                plan_selective, [idf[t] for t in plan_selective], plan_common, [idf[t] for t in plan_common],
                K1, K1, B, B, avgdl, pool, K1, K1, B, B, avgdl, preselect, *params, CANDIDATES,
            ])
            rows = cursor.fetchall()
            if len(rows) >= CANDIDATES or preselect is None or (rows and rows[0][4] <= preselect):
                break
        return [ChunkHit(chunk_id=row[0], article_id=row[1], version_id=row[2], keyword=float(row[3])) for row in rows]


# BM25 over the postings, in float8 arithmetic. Chunks are gathered through the query's
# *selective* terms and scored on them; the contribution of *common* terms (in more than
# COMMON_TERM_FRACTION of all chunks: long posting lists, low idf) is added by (chunk, term)
# look-ups for the best CANDIDATE_POOL of those chunks only, instead of reading every posting of
# "cell" or "patient". Then the best PRESELECT chunks are joined with their articles and filtered.
_KEYWORD_SQL = """
    WITH s(term, idf) AS (SELECT * FROM unnest(%s::text[], %s::float8[])),
    c(term, idf) AS (SELECT * FROM unnest(%s::text[], %s::float8[])),
    pool AS MATERIALIZED (
        SELECT p.chunk_id, sum(s.idf * p.tf * (%s::float8 + 1)
                                / (p.tf + %s::float8 * (1 - %s::float8 + %s::float8 * p.chunk_length / %s::float8))) AS score
        FROM s JOIN retrieval_posting p ON p.term = s.term
        GROUP BY p.chunk_id
        ORDER BY score DESC
        LIMIT %s
    ),
    scored AS MATERIALIZED (
        SELECT pool.chunk_id, pool.score + coalesce((
            SELECT sum(c.idf * p.tf * (%s::float8 + 1)
                       / (p.tf + %s::float8 * (1 - %s::float8 + %s::float8 * p.chunk_length / %s::float8)))
            FROM c JOIN retrieval_posting p ON p.chunk_id = pool.chunk_id AND p.term = c.term
        ), 0) AS score
        FROM pool
        ORDER BY score DESC
        LIMIT %s
    )
    SELECT s.chunk_id, c.article_id, c.version_id, s.score, (SELECT count(*) FROM pool)
    FROM scored s
    JOIN retrieval_chunk c ON c.id = s.chunk_id
    JOIN kb_article a ON a.live_version_id = c.version_id
    WHERE {where}
    ORDER BY s.score DESC
    LIMIT %s
"""


def _semantic_hits(query: SearchQuery, today: dt.date, embedder: Embedder, vector=None) -> list[ChunkHit]:
    vector = embedder.embed_query(query.text) if vector is None else vector
    literal = "[" + ",".join(f"{value:.6f}" for value in vector.tolist()) + "]"
    dim = int(embedder.dimension)
    where, params = _article_filters(query, today)
    sql = f"""
        WITH nn AS (
            SELECT e.chunk_id, (e.embedding::halfvec({dim})) <=> %s::halfvec({dim}) AS distance
            FROM retrieval_chunkembedding e
            WHERE e.embedder_key = %s AND e.audience = ANY(%s)
            ORDER BY (e.embedding::halfvec({dim})) <=> %s::halfvec({dim})
            LIMIT %s
        )
        SELECT nn.chunk_id, c.article_id, c.version_id, 1 - nn.distance
        FROM nn
        JOIN retrieval_chunk c ON c.id = nn.chunk_id
        JOIN kb_article a ON a.live_version_id = c.version_id
        WHERE {where}
        ORDER BY nn.distance
    """  # noqa: S608 - dim is an int and `where` is made of constant clauses; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        cursor.execute("SET hnsw.iterative_scan = relaxed_order")
        cursor.execute(sql, [literal, embedder.key, list(query.audiences), literal, CANDIDATES, *params])
        return [ChunkHit(chunk_id=row[0], article_id=row[1], version_id=row[2], semantic=float(row[3])) for row in cursor.fetchall()]


def fuse(keyword: list[ChunkHit], semantic: list[ChunkHit], weight: float = SEMANTIC_WEIGHT) -> list[ChunkHit]:
    """Convex combination of max-normalised BM25 and min-max-normalised cosine similarity."""
    hits: dict[int, ChunkHit] = {}
    top_keyword = max((hit.keyword for hit in keyword), default=0.0) or 1.0
    for hit in keyword:
        hits[hit.chunk_id] = ChunkHit(hit.chunk_id, hit.article_id, hit.version_id, keyword=hit.keyword / top_keyword)
    if semantic:
        high = max(hit.semantic for hit in semantic)
        low = min(hit.semantic for hit in semantic)
        spread = (high - low) or 1.0
        for hit in semantic:
            normalised = (hit.semantic - low) / spread if len(semantic) > 1 else 1.0
            target = hits.setdefault(hit.chunk_id, ChunkHit(hit.chunk_id, hit.article_id, hit.version_id))
            target.semantic = normalised
    kw_weight = 0.0 if not keyword else (1 - weight if semantic else 1.0)
    sem_weight = 0.0 if not semantic else (weight if keyword else 1.0)
    for hit in hits.values():
        hit.score = kw_weight * hit.keyword + sem_weight * hit.semantic
    return sorted(hits.values(), key=lambda hit: hit.score, reverse=True)


def semantic_weight(embedder: Embedder | None = None) -> float:
    """The fusion weight: VERITY_SEMANTIC_WEIGHT if configured, else the one tuned for the embedder."""
    configured = getattr(settings, "VERITY_SEMANTIC_WEIGHT", None)
    if configured is not None and ("VERITY_SEMANTIC_WEIGHT" in os.environ or configured != SETTINGS_FALLBACK_WEIGHT):
        return float(configured)
    tuned = getattr(embedder, "fusion_weight", None) if embedder is not None else None
    return float(tuned) if tuned is not None else SEMANTIC_WEIGHT


_query_embedding = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verity-query-vector")


def chunk_hits(query: SearchQuery, *, embedder: Embedder | None = None) -> list[ChunkHit]:
    """Ranked chunks for a query: the shared core of search, answers and change impact."""
    today = query.today or timezone.localdate()
    locales = [query.locale] if query.locale else []
    locales += [loc for loc in ("de", "en") if loc not in locales]
    pending = None
    if query.mode in {"hybrid", "semantic"}:
        embedder = embedder or active_embedder()
        # the query's vector is computed while the keyword search waits on the database
        pending = _query_embedding.submit(embedder.embed_query, query.text)
    keyword = _keyword_hits(query, today, locales) if query.mode in {"hybrid", "keyword"} else []
    semantic: list[ChunkHit] = []
    if pending is not None:
        vector = pending.result()
        if not embedder_changed(embedder):  # never compare a query with vectors of another model
            semantic = _semantic_hits(query, today, embedder, vector)
    weight = semantic_weight(embedder) if semantic else SEMANTIC_WEIGHT
    return fuse(keyword, semantic, weight)


def _state(article: Article, open_reasons: set[str], now: dt.datetime) -> str:
    if open_reasons & {Flag.Reason.CHANGE_EVENT, Flag.Reason.AGENT_REPORT, Flag.Reason.CONTRADICTION, Flag.Reason.FEEDBACK}:
        return "flagged"
    if Flag.Reason.TRANSLATION_DRIFT in open_reasons:
        return "out_of_sync"
    if article.review_due_at <= now:
        return "review_due"
    return "current"


def snippet_for(text: str, query_text: str, width: int = 240) -> str:
    words = {word for word in tokens(query_text) if len(word) > 3}
    lowered = text.lower()
    positions = [lowered.find(word) for word in words if lowered.find(word) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    excerpt = re.sub(r"\s+", " ", text[start:start + width]).strip()
    return ("…" if start else "") + excerpt + ("…" if start + width < len(text) else "")


def search(query: SearchQuery, *, embedder: Embedder | None = None) -> list[ArticleResult]:
    """Article results: best chunk per article, one article per translation group, requested locale first."""
    with snapshot():
        return _search(query, embedder=embedder)


def _search(query: SearchQuery, *, embedder: Embedder | None = None) -> list[ArticleResult]:
    hits = chunk_hits(query, embedder=embedder)
    by_article: dict[int, list[ChunkHit]] = defaultdict(list)
    for hit in hits:
        by_article[hit.article_id].append(hit)
    # grouping needs only (translation group, locale) of every candidate; whole Article rows are
    # loaded for the results alone
    light = {pk: (group, locale) for pk, group, locale in
             Article.objects.filter(pk__in=list(by_article)).values_list("pk", "translation_of_id", "locale")}
    from retrieval.models import Chunk

    groups: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for article_id, article_hits in by_article.items():
        group, _ = light[article_id]
        best = article_hits[0].score
        # a little credit for several matching passages, bounded so one long article cannot dominate
        bonus = 0.05 * sum(hit.score for hit in article_hits[1:3])
        groups[group or article_id].append((best + bonus, article_id))
    chosen_ids: list[tuple[float, int]] = []
    for members in groups.values():
        group_score = max(score for score, _ in members)
        preferred = [m for m in members if query.locale and light[m[1]][1] == query.locale]
        _, article_id = max(preferred or members, key=lambda member: member[0])
        chosen_ids.append((group_score, article_id))
    chosen_ids.sort(key=lambda item: item[0], reverse=True)
    chosen_ids = chosen_ids[: query.limit]
    articles = Article.objects.in_bulk([article_id for _, article_id in chosen_ids])
    chosen = [(score, articles[article_id]) for score, article_id in chosen_ids]
    now = timezone.now()
    open_reasons: dict[int, set[str]] = defaultdict(set)
    for article_id, reason in Flag.objects.filter(article_id__in=[a.pk for _, a in chosen], state=Flag.State.OPEN).values_list("article_id", "reason"):
        open_reasons[article_id].add(reason)
    chunk_text = dict(Chunk.objects.filter(pk__in=[by_article[a.pk][0].chunk_id for _, a in chosen]).values_list("pk", "text"))
    live_numbers = dict(Article.objects.filter(pk__in=[a.pk for _, a in chosen]).values_list("pk", "live_version__number"))
    results = []
    for score, article in chosen:
        top = by_article[article.pk]
        results.append(ArticleResult(
            article=article, version_number=live_numbers[article.pk], score=round(min(1.0, score), 4),
            snippet=snippet_for(chunk_text[top[0].chunk_id], query.text), state=_state(article, open_reasons[article.pk], now),
            chunks=top[: query.chunks_per_article],
        ))
    return results
