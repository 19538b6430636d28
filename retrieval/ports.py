"""Retrieval's side of governance's port (governance.ports.ServingPort), registered in RetrievalConfig.ready."""

from __future__ import annotations

from django.db import transaction

from kb.models import Article, ArticleVersion
from retrieval.index import indexing
from retrieval.tasks import block_users_reindex, change_event_assess, contradictions_scan_article, suggestion_draft


class RetrievalServing:
    """Publishing makes a version searchable in the publishing transaction; after commit, the
    article is checked for contradictions; a change event is assessed by a Celery task."""

    def article_published(self, *, article: Article, version: ArticleVersion, previous: ArticleVersion | None) -> None:
        if article.is_block:
            # its text lives in the articles using it: once committed, they are re-rendered and re-indexed
            transaction.on_commit(lambda: block_users_reindex.apply_async(args=[article.pk], expires=24 * 3600))
            return
        indexing.article_index_live(article=article, version=version, previous=previous)
        # once committed, look for live articles that now state other values for the same facts
        transaction.on_commit(lambda: contradictions_scan_article.apply_async(args=[article.pk], expires=3600))

    def article_unpublished(self, *, article: Article, version: ArticleVersion) -> None:
        if article.is_block:  # an emergency: its text leaves every article using it in this transaction
            indexing.block_users_rerender(article)
            return
        indexing.article_unindex(article=article)

    def article_settings_changed(self, *, article: Article, changed: set[str]) -> None:
        indexing.article_settings_changed(article=article, changed=changed)

    def change_assess(self, *, event_id: int) -> None:
        change_event_assess.apply_async(args=[event_id], expires=24 * 3600)

    def suggestion_draft(self, *, suggestion_id: int) -> None:
        suggestion_draft.apply_async(args=[suggestion_id], expires=24 * 3600)
