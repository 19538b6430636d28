"""Hybrid search over live, valid chunks: BM25 keyword scores and HNSW vector similarity, fused.

Every query joins the article table and keeps only chunks of the article's *live* version, of
an allowed audience, valid today: that join is the gate; the pre-filters on the vector table
are only there to make the index scan efficient.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.utils import timezone

from governance.selectors import UNCONFIRMED_REPORT, article_state, open_flag_reasons
from kb.models import Article
from retrieval.index.corpus import snapshot
from retrieval.index.embeddings import Embedder, active_embedder
from retrieval.index.indexing import embedder_changed
from retrieval.models import Chunk
from retrieval.search.fusion import fuse, semantic_weight
from retrieval.search.keyword import keyword_hits
from retrieval.search.query import ChunkHit, SearchQuery
from retrieval.search.semantic import semantic_hits
from retrieval.search.snippets import snippets_for
from retrieval.text.snippets import Segment, snippet_text


@dataclass
class ArticleResult:
    article: Article
    version_number: int
    score: float
    snippet: str  # rendered text (no Markdown), cut at word boundaries
    state: str
    chunks: list[ChunkHit] = field(default_factory=list)
    reported: bool = False  # an agent's report awaits the owner's confirmation (shown to agents, not in `state`)
    snippet_segments: list[Segment] = field(default_factory=list)  # the snippet, the query's words marked


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
    keyword = keyword_hits(query, today, locales) if query.mode in {"hybrid", "keyword"} else []
    semantic: list[ChunkHit] = []
    if pending is not None:
        vector = pending.result()
        if not embedder_changed(embedder):  # never compare a query with vectors of another model
            semantic = semantic_hits(query, today, embedder, vector)
    # one weight for /search and /answer: the one tuned for the embedder (or configured)
    return fuse(keyword, semantic, semantic_weight(embedder))


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
    open_reasons = open_flag_reasons([a.pk for _, a in chosen])
    chunk_text = {pk: (text, readable) for pk, text, readable in
                  Chunk.objects.filter(pk__in=[by_article[a.pk][0].chunk_id for _, a in chosen]).values_list("pk", "text", "readable")}
    live_numbers = dict(Article.objects.filter(pk__in=[a.pk for _, a in chosen]).values_list("pk", "live_version__number"))
    query_locales = [query.locale] if query.locale else []
    query_locales += [loc for loc in ("de", "en") if loc not in query_locales]
    snippets = snippets_for([(*chunk_text[by_article[article.pk][0].chunk_id], article.locale) for _, article in chosen],
                            query.text, query_locales=query_locales)
    results = []
    for (score, article), segments in zip(chosen, snippets, strict=True):
        top = by_article[article.pk]
        results.append(ArticleResult(
            article=article, version_number=live_numbers[article.pk], score=round(min(1.0, score), 4),
            snippet=snippet_text(segments), snippet_segments=segments, state=article_state(article, open_reasons.get(article.pk, set()), now=now),
            chunks=top[: query.chunks_per_article], reported=UNCONFIRMED_REPORT in open_reasons.get(article.pk, set()),
        ))
    return results
