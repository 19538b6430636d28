"""What governance needs from the side that serves the knowledge, as a Protocol.

Governance never imports retrieval: the serving side implements `ServingPort` and registers it in
its `AppConfig.ready` (retrieval.apps). Publishing calls it inside its transaction, so that a
version becomes searchable in the same commit; a change event asks it for an assessment after
commit. With nothing registered (governance alone), nothing is served and nothing is assessed.
"""

from __future__ import annotations

from typing import Protocol

from kb.models import Article, ArticleVersion


class ServingPort(Protocol):
    def article_published(self, *, article: Article, version: ArticleVersion, previous: ArticleVersion | None) -> None:
        """Inside the publishing transaction: serve `version` and nothing else of this article."""

    def article_unpublished(self, *, article: Article, version: ArticleVersion) -> None:
        """Inside the unpublishing transaction: serve nothing of `article` any more (`version` was live)."""

    def article_settings_changed(self, *, article: Article, changed: set[str]) -> None:
        """Inside the same transaction: an article's settings (audience, locale, ...) changed."""

    def change_assess(self, *, event_id: int) -> None:
        """After commit: find what the change event makes wrong (e.g. enqueue a task)."""

    def suggestion_draft(self, *, suggestion_id: int) -> None:
        """After commit: draft the suggestion with the language model (e.g. enqueue a task)."""


class _NothingServed:
    def article_published(self, *, article: Article, version: ArticleVersion, previous: ArticleVersion | None) -> None:
        return None

    def article_unpublished(self, *, article: Article, version: ArticleVersion) -> None:
        return None

    def article_settings_changed(self, *, article: Article, changed: set[str]) -> None:
        return None

    def change_assess(self, *, event_id: int) -> None:
        return None

    def suggestion_draft(self, *, suggestion_id: int) -> None:
        from django.utils.translation import gettext as _

        from governance.services.suggestions import suggestion_fail

        suggestion_fail(suggestion_id=suggestion_id, error=_("No language model is installed to draft with."))


_serving: ServingPort = _NothingServed()


def serving_register(port: ServingPort) -> None:
    """Register the serving side (once, from an AppConfig.ready; registering again replaces it)."""
    global _serving
    _serving = port


def serving() -> ServingPort:
    return _serving
