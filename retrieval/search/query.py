"""A search query, the chunk hits it yields, and its filters: kb's servable rule, then the query's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from kb.models import Article
from retrieval.text.tokens import detect_language

Mode = Literal["hybrid", "keyword", "semantic"]


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


def detect_locale(text: str, default: str = "de") -> str:
    """German or English by stop words and umlauts (general language knowledge)."""
    return detect_language(text, default)


def article_filters(query: SearchQuery, today: dt.date) -> tuple[str, list]:
    """The SQL condition on `kb_article` for a query: kb's servable rule for the query's audiences
    on `today`, and the query's own filters (spaces, kinds, tags)."""
    servable, params = Article.objects.servable_sql(query.audiences, on=today)
    clauses = [servable]
    if query.spaces:
        clauses.append("kb_article.space_id IN (SELECT id FROM kb_space WHERE slug = ANY(%s))")
        params.append(list(query.spaces))
    if query.kinds:
        clauses.append("kb_article.kind = ANY(%s)")
        params.append(list(query.kinds))
    if query.tags:
        clauses.append("kb_article.tags && %s::varchar[]")
        params.append(list(query.tags))
    return " AND ".join(clauses), params
