"""Fusion of keyword and semantic hits: one convex combination, its weight a parameter.

fused = (1 - w) * keyword + w * semantic, both normalised to [0, 1]. /search and /answer use the
same w: `semantic_weight(embedder)`.
"""

from __future__ import annotations

from django.conf import settings

from retrieval.index.embeddings import Embedder
from retrieval.search.query import ChunkHit
from retrieval.tuning import SEMANTIC_WEIGHT


def fuse(keyword: list[ChunkHit], semantic: list[ChunkHit], weight: float) -> list[ChunkHit]:
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
    if configured is not None:
        return float(configured)
    tuned = getattr(embedder, "fusion_weight", None) if embedder is not None else None
    return float(tuned) if tuned is not None else SEMANTIC_WEIGHT
