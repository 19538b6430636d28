"""The audit log, permission checks and row locks every service shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.functional import Promise

from governance.models import AuditEvent, Review
from kb.models import Article, ArticleVersion
from verity.core.errors import (
    PermissionDeniedError,
)
from verity.core.i18n import written_in

User = Any  # a django.contrib.auth user; typed loosely to avoid importing the swappable model


ARTICLE_SETTINGS_FIELDS = (
    "locale", "kind", "audience", "space", "owner", "review_interval_days",
    "valid_from", "valid_until", "tags", "translation_of", "metadata",
)


# Settings of a published article that change who may see it, when it is served, which approval
# rules apply to it (the space) or who may verify it and dismiss its flags (the owner): they take
# effect only through a settings review (settings_change_*), except making the audience narrower.
# translation_of is not among them: it changes neither what is served nor to whom nor who may act,
# only where drift and change flags are routed, and its changes are audited.
REVIEWED_SETTINGS_FIELDS = ("audience", "valid_from", "valid_until", "space", "owner")


def audit_record(
    *,
    event_type: str,
    actor: AbstractBaseUser | None,
    article: Article | None = None,
    version: ArticleVersion | None = None,
    details: dict | None = None,
    target_label: str | None = None,
) -> AuditEvent:
    if target_label is None:
        target_label = str(version) if version else (article.slug if article else "")
    return AuditEvent.objects.create(
        event_type=event_type,
        actor=actor if actor and actor.pk else None,
        actor_label=(actor.get_username() if actor and actor.pk else "system"),
        article=article,
        version=version,
        target_label=target_label,
        details=details or {},
    )


def _require_perm(actor: AbstractBaseUser, perm: str, refusal: str | Promise) -> None:
    """Refuse with `refusal`, a sentence for the person ("You may not approve versions."); the
    permission's codename is in the error's details, for logs and API clients, never in the message."""
    if not (actor and actor.is_active and actor.has_perm(perm)):
        raise PermissionDeniedError(str(refusal), details={"permission": perm})


def setting_names(fields: Iterable[str]) -> str:
    """Article settings by their names in the active language ("Zielgruppe, Verantwortlich")."""
    return ", ".join(str(Article._meta.get_field(field).verbose_name) for field in sorted(fields))


def article_language(article: Article):
    """Stored text about an article (flag reasons, resolution and change notes) is written in its language."""
    return written_in(article.locale)


# Knowledge admins are the role that manages spaces; the services recognise them by that permission.
KNOWLEDGE_ADMIN_PERMISSION = "kb.change_space"


def _require_knowledge_admin(actor: AbstractBaseUser, refusal: str | Promise) -> None:
    _require_perm(actor, KNOWLEDGE_ADMIN_PERMISSION, refusal)


def _lock_article(article: Article) -> Article:
    # Lock the row alone, without joins: after waiting for a concurrent writer PostgreSQL re-reads
    # the locked row, but rows joined into the same query come from the snapshot taken before the
    # wait, so a version saved meanwhile would be returned as latest_version=None.
    return Article.objects.select_for_update().get(pk=article.pk)


def _open_review(article: Article) -> Review | None:
    return Review.objects.filter(article=article, status=Review.Status.IN_REVIEW).first()


def _scheduled_review(article: Article) -> Review | None:
    """The article's approved version waiting for its go-live time (at most one, a constraint says)."""
    return Review.objects.filter(article=article, status=Review.Status.SCHEDULED).select_related("version").first()


def local_minute(moment: dt.datetime) -> str:
    """A moment as people here read it in messages: local time, to the minute."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
