"""Indexing: chunk a version, write its postings and vectors; swap versions atomically on publish.

`article_index_live` runs inside the publishing transaction (through governance's serving port), so
the new version becomes searchable and the previous one stops being served in the same commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from kb.blocks import articles_using, render_blocks
from kb.models import Article, ArticleVersion
from retrieval.index.chunking import chunk_markdown
from retrieval.index.corpus import stats_invalidate
from retrieval.index.embeddings import Embedder, active_embedder
from retrieval.index.readable import readable_text
from retrieval.models import Chunk, ChunkEmbedding, IndexState, Posting
from retrieval.text.tokens import term_frequencies

logger = logging.getLogger(__name__)


def chunk_index_text(chunk: Chunk | None = None, *, heading_path: str = "", text: str = "") -> str:
    """What is indexed and embedded for a chunk: its heading path, then its text."""
    if chunk is not None:
        heading_path, text = chunk.heading_path, chunk.text
    return f"{heading_path}\n{text}"


def vector_index_name(embedder_key: str) -> str:
    return "chunkemb_hnsw_" + hashlib.sha1(embedder_key.encode()).hexdigest()[:12]  # noqa: S324 - a name, not security


def ensure_vector_index(embedder: Embedder) -> None:
    """A partial HNSW index (halfvec, cosine) over this embedder's vectors."""
    name = vector_index_name(embedder.key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        if cursor.fetchone():
            return
        if connection.in_atomic_block:
            # pending deferred FK checks of rows just inserted would block CREATE INDEX
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON retrieval_chunkembedding "
            f"USING hnsw ((embedding::halfvec({embedder.dimension})) halfvec_cosine_ops) "
            f"WITH (m = 16, ef_construction = 64) WHERE embedder_key = %s",
            [embedder.key],
        )


def _chunks_for(version: ArticleVersion) -> list[Chunk]:
    existing = list(Chunk.objects.filter(version=version).order_by("ordinal"))
    if existing:
        return existing
    article = version.article
    # the text as the article shows it: each content block's live text in place of its reference
    drafts = chunk_markdown(version.title, render_blocks(version.body, audience=article.audience))
    return Chunk.objects.bulk_create([
        Chunk(
            version=version, article=article, ordinal=draft.ordinal, heading_path=draft.heading_path,
            text=draft.text, readable=readable_text(draft.text), locale=article.locale,
            length=sum(term_frequencies(chunk_index_text(heading_path=draft.heading_path, text=draft.text), article.locale).values()),
        )
        for draft in drafts
    ])


def versions_index(versions: Iterable[ArticleVersion], *, embedder: Embedder | None = None) -> int:
    """Write postings and vectors for the chunks of these versions (idempotent). Returns chunks indexed."""
    embedder = embedder or active_embedder()
    chunks: list[Chunk] = []
    for version in versions:
        chunks.extend(chunk for chunk in _chunks_for(version) if not chunk.is_indexed)
    if not chunks:
        return 0
    texts = [chunk_index_text(chunk) for chunk in chunks]
    vectors = embedder.embed_documents(texts)
    postings = []
    for chunk, text in zip(chunks, texts, strict=True):
        frequencies = term_frequencies(text, chunk.locale)
        postings.extend(
            Posting(term=term[:100], chunk=chunk, tf=min(count, 32767), chunk_length=chunk.length)
            for term, count in frequencies.items()
        )
    # Written in term order: a term's postings of one batch then share table pages, so keyword
    # search reads a few pages per batch for a common term instead of one page per posting.
    postings.sort(key=lambda posting: (posting.term, posting.chunk_id))
    Posting.objects.bulk_create(postings, batch_size=5000, ignore_conflicts=True)
    audiences = dict(Article.objects.filter(pk__in={c.article_id for c in chunks}).values_list("pk", "audience"))
    ChunkEmbedding.objects.bulk_create(
        [
            ChunkEmbedding(chunk=chunk, embedder_key=embedder.key, audience=audiences[chunk.article_id],
                           locale=chunk.locale, embedding=vector.tolist())
            for chunk, vector in zip(chunks, vectors, strict=True)
        ],
        batch_size=1000, ignore_conflicts=True,
    )
    Chunk.objects.filter(pk__in=[chunk.pk for chunk in chunks]).update(is_indexed=True)
    _state_ensure(embedder)
    return len(chunks)


def chunks_unindex(chunk_ids: list[int]) -> None:
    if not chunk_ids:
        return
    Posting.objects.filter(chunk_id__in=chunk_ids).delete()
    ChunkEmbedding.objects.filter(chunk_id__in=chunk_ids).delete()
    Chunk.objects.filter(pk__in=chunk_ids).update(is_indexed=False)


def article_index_live(*, article: Article, version: ArticleVersion, previous: ArticleVersion | None) -> None:
    """On publish (governance.ports.ServingPort.article_published): serve `version`'s chunks and nothing else of this article, in the caller's transaction.

    A content block is never served on its own (its text is indexed inside the articles using it,
    re-rendered by block_users_rerender), so nothing of it is indexed.
    """
    if article.is_block:
        return
    stale = list(Chunk.objects.filter(article=article, is_indexed=True).exclude(version=version).values_list("pk", flat=True))
    chunks_unindex(stale)
    versions_index([version])
    transaction.on_commit(stats_invalidate)


def article_unindex(*, article: Article) -> None:
    """On an emergency unpublish (governance.ports.ServingPort.article_unpublished): nothing of this
    article stays searchable, in the caller's transaction (search also joins on the live version)."""
    chunks_unindex(list(Chunk.objects.filter(article=article, is_indexed=True).values_list("pk", flat=True)))
    transaction.on_commit(stats_invalidate)


def block_user_versions(block: Article) -> list[int]:
    """The live versions of the articles using a content block: what changes when the block does."""
    return list(articles_using(block, live_only=True).order_by("pk").values_list("live_version_id", flat=True))


def block_users_rerender(block: Article) -> int:
    """Re-render and re-index, in the caller's transaction, every article using `block` (after it was
    unpublished or its audience narrowed: its text must leave them at once). Returns chunks indexed."""
    version_ids = block_user_versions(block)
    return reindex_batch(version_ids) if version_ids else 0


def article_settings_changed(*, article: Article, changed: set[str]) -> None:
    """On settings change (governance.ports.ServingPort): keep the vectors' pre-filter columns in step with the article."""
    if article.is_block:
        if "audience" in changed:  # e.g. made internal: public articles using it show it no more
            block_users_rerender(article)
        return
    if "audience" in changed and article.live_version_id and article.live_version.block_references.exists():
        # which blocks the article may show depends on its audience
        reindex_batch([article.live_version_id])
    if {"audience", "locale"} & changed:
        ChunkEmbedding.objects.filter(chunk__article=article).update(audience=article.audience, locale=article.locale)
        Chunk.objects.filter(article=article).update(locale=article.locale)
    if "locale" in changed:
        # stems depend on the language: rebuild this article's postings
        live = article.live_version
        if live is not None:
            chunks_unindex(list(Chunk.objects.filter(article=article, is_indexed=True).values_list("pk", flat=True)))
            Chunk.objects.filter(version=live).delete()
            versions_index([live])


def _state_ensure(embedder: Embedder) -> None:
    state = IndexState.objects.first()
    if state is None:
        IndexState.objects.create(embedder_key=embedder.key, dimension=embedder.dimension)
    elif state.embedder_key != embedder.key:
        return  # a reindex is switching spaces; reindex_finish records the new one
    ensure_vector_index(embedder)


def embedder_changed(embedder: Embedder | None = None) -> bool:
    """True when the served vectors were made by another model than the configured one."""
    embedder = embedder or active_embedder()
    state = IndexState.objects.first()
    return state is not None and state.embedder_key != embedder.key


def live_versions_to_index() -> list[int]:
    return list(Article.objects.filter(live_version__isnull=False).exclude(kind=Article.Kind.BLOCK)
                .order_by("pk").values_list("live_version_id", flat=True))


def reindex_batch(version_ids: list[int], *, embedder: Embedder | None = None) -> int:
    """Rebuild postings and vectors for these (live) versions in one transaction."""
    embedder = embedder or active_embedder()
    with transaction.atomic():
        versions = list(ArticleVersion.objects.filter(pk__in=version_ids).select_related("article"))
        live = [v for v in versions if v.article.live_version_id == v.pk]
        chunk_ids = list(Chunk.objects.filter(version__in=live).values_list("pk", flat=True))
        chunks_unindex(chunk_ids)
        Chunk.objects.filter(pk__in=chunk_ids).delete()
        count = versions_index(live, embedder=embedder)
        # chunks of versions no longer live must not be served
        stale = Chunk.objects.filter(version_id__in=version_ids, is_indexed=True).exclude(version__in=live)
        chunks_unindex(list(stale.values_list("pk", flat=True)))
    return count


def reindex_finish(*, embedder: Embedder | None = None) -> None:
    """After a full reindex: record the embedding space, drop vectors of other spaces."""
    embedder = embedder or active_embedder()
    with transaction.atomic():
        IndexState.objects.all().delete()
        IndexState.objects.create(embedder_key=embedder.key, dimension=embedder.dimension, updated_at=timezone.now())
        ChunkEmbedding.objects.exclude(embedder_key=embedder.key).delete()
        ensure_vector_index(embedder)
        # anything indexed but no longer live (e.g. an interrupted earlier run)
        stale = Chunk.objects.filter(is_indexed=True).exclude(version_id__in=Article.objects.filter(live_version__isnull=False).values("live_version_id"))
        chunks_unindex(list(stale.values_list("pk", flat=True)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE retrieval_posting; ANALYZE retrieval_chunkembedding; ANALYZE retrieval_chunk")

