"""Keyword search: BM25 over the postings stored in PostgreSQL, filtered by the servable rule."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from retrieval.index.corpus import bm25_idf, common_df_cached, common_df_remember, corpus_stats, document_frequencies
from retrieval.search.query import ChunkHit, SearchQuery, article_filters
from retrieval.text.tokens import query_terms
from retrieval.tuning import (
    CANDIDATE_POOL,
    CANDIDATES,
    COMMON_TERM_FRACTION,
    COMMON_TERM_MIN_DF,
    K1,
    PRESELECT,
    SECONDARY_LANGUAGE_WEIGHT,
    B,
)


def keyword_hits(query: SearchQuery, today: dt.date, locales: list[str]) -> list[ChunkHit]:
    # without a query locale no language is the query's own: every analysis counts fully
    weights = query_terms(query.text, locales, secondary_weight=SECONDARY_LANGUAGE_WEIGHT) if query.locale else query_terms(query.text, locales, secondary_weight=1.0)
    if not weights:
        return []
    n, avgdl = corpus_stats()
    if n == 0:
        return []
    where, params = article_filters(query, today)
    terms = list(weights)
    with connection.cursor() as cursor:
        limit = max(COMMON_TERM_MIN_DF, COMMON_TERM_FRACTION * n)
        df = common_df_cached(terms)
        missing = [t for t in terms if t not in df]
        if missing:
            counted = document_frequencies(missing)
            df.update(counted)
            common_df_remember({t: count for t, count in counted.items() if count > limit})
        if not df:
            return []
        # query weight x Lucene's BM25 idf
        idf = {t: weights[t] * bm25_idf(n, df[t]) for t in terms if t in df}
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
    JOIN kb_article ON kb_article.live_version_id = c.version_id
    WHERE {where}
    ORDER BY s.score DESC
    LIMIT %s
"""
