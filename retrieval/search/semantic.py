"""Semantic search: cosine similarity of chunk vectors (pgvector HNSW), filtered by the servable rule."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from retrieval.index.embeddings import Embedder
from retrieval.search.query import ChunkHit, SearchQuery, article_filters
from retrieval.tuning import CANDIDATES, EF_SEARCH


def semantic_hits(query: SearchQuery, today: dt.date, embedder: Embedder, vector=None) -> list[ChunkHit]:
    vector = embedder.embed_query(query.text) if vector is None else vector
    literal = "[" + ",".join(f"{value:.6f}" for value in vector.tolist()) + "]"
    dim = int(embedder.dimension)
    where, params = article_filters(query, today)
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
        JOIN kb_article ON kb_article.live_version_id = c.version_id
        WHERE {where}
        ORDER BY nn.distance
    """  # noqa: S608 - dim is an int and `where` is made of constant clauses; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        cursor.execute("SET hnsw.iterative_scan = relaxed_order")
        cursor.execute(sql, [literal, embedder.key, list(query.audiences), literal, CANDIDATES, *params])
        return [ChunkHit(chunk_id=row[0], article_id=row[1], version_id=row[2], semantic=float(row[3])) for row in cursor.fetchall()]
