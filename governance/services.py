"""Every write to articles, versions, reviews and flags goes through these services.

Each service checks the actor's permission and the current state, raises a typed
ApplicationError naming what is wrong (changing nothing), and writes exactly one audit event
per transition in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from governance import ports, selectors
from governance.models import AuditEvent, ChangeEvent, Flag, Publication, Review, ReviewApproval, SettingsChange
from kb.models import Article, ArticleVersion, Space, content_hash
from kb.rendering import markdown_problem
from verity.core.errors import (
    ApplicationError,
    ConcurrentEditError,
    InvalidTransitionError,
    PermissionDeniedError,
)

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


# --- audit ----------------------------------------------------------------------------------


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


# --- permissions ----------------------------------------------------------------------------


def _require_perm(actor: AbstractBaseUser, perm: str, doing: str) -> None:
    if not (actor and actor.is_active and actor.has_perm(perm)):
        raise PermissionDeniedError(f"{actor} may not {doing} (missing permission {perm}).")


def _lock_article(article: Article) -> Article:
    # Lock the row alone, without joins: after waiting for a concurrent writer PostgreSQL re-reads
    # the locked row, but rows joined into the same query come from the snapshot taken before the
    # wait, so a version saved meanwhile would be returned as latest_version=None.
    return Article.objects.select_for_update().get(pk=article.pk)


def _open_review(article: Article) -> Review | None:
    return Review.objects.filter(article=article, status=Review.Status.IN_REVIEW).first()


# --- articles and versions ------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    actor: AbstractBaseUser,
    slug: str,
    title: str,
    body: str,
    locale: str,
    space: Space,
    owner: AbstractBaseUser,
    kind: str = Article.Kind.ARTICLE,
    audience: str = Article.Audience.INTERNAL,
    review_interval_days: int | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    tags: Iterable[str] = (),
    translation_of: Article | None = None,
    metadata: dict | None = None,
    change_note: str = "",
    last_verified_at: dt.datetime | None = None,
    audit: bool = True,
) -> Article:
    """Create an article with its first version, as a draft (not served until approved)."""
    _require_perm(actor, "kb.add_article", "create articles")
    if Article.objects.filter(slug=slug).exists():
        raise ApplicationError(f"An article with the slug '{slug}' already exists.", code="slug_taken")
    article = Article(
        slug=slug, title=title, locale=locale, kind=kind, audience=audience, space=space,
        owner=owner, review_interval_days=review_interval_days, valid_from=valid_from,
        valid_until=valid_until, tags=list(tags), translation_of=translation_of,
        metadata=metadata or {}, last_verified_at=last_verified_at or timezone.now(),
    )
    article.review_due_at = article.compute_review_due_at()
    article.full_clean(exclude=["review_due_at"])
    article.save()
    version = _version_insert(article=article, author=actor, title=title, body=body, change_note=change_note)
    if audit:
        audit_record(
            event_type=AuditEvent.Type.ARTICLE_CREATE, actor=actor, article=article, version=version,
            details={"title": title, "locale": locale, "audience": audience, "kind": kind},
        )
    return article


def _version_insert(
    *, article: Article, author: AbstractBaseUser, title: str, body: str, change_note: str,
    based_on: ArticleVersion | None = None,
) -> ArticleVersion:
    if not title.strip():
        raise ApplicationError("A version needs a title.", code="title_required")
    if not body.strip():
        raise ApplicationError("A version needs a body.", code="body_required")
    if problem := markdown_problem(body.strip() + "\n"):
        raise ApplicationError(f"The body cannot be saved: {problem}.", code="body_over_limits")
    number = (article.latest_version.number + 1) if article.latest_version_id else 1
    version = ArticleVersion.objects.create(
        article=article, number=number, title=title.strip(), body=body.strip() + "\n",
        author=author, change_note=change_note, based_on=based_on,
        content_hash=content_hash(title, body),
    )
    article.latest_version = version
    if article.live_version_id is None:
        article.title = version.title
    article.save(update_fields=["latest_version", "title", "updated_at"])
    return version


@transaction.atomic
def version_create(
    *,
    actor: AbstractBaseUser,
    article: Article,
    title: str,
    body: str,
    base_version: int,
    change_note: str = "",
) -> ArticleVersion:
    """Save an edit as a new draft version. Refused if the edit started from an outdated version."""
    _require_perm(actor, "kb.add_articleversion", "edit articles")
    article = _lock_article(article)
    latest = article.latest_version
    if latest is None or latest.number != base_version:
        raise ConcurrentEditError(
            f"Your edit is based on version {base_version}, but version "
            f"{latest.number if latest else 0} was saved in the meantime by "
            f"{latest.author if latest else 'someone'}. Nothing was saved: reload the article, "
            "compare, and apply your change to the current version.",
            details={"base_version": base_version, "latest_version": latest.number if latest else None},
        )
    if _open_review(article):
        raise InvalidTransitionError(
            f"Version {latest.number} of '{article.slug}' is in review; withdraw the review or wait "
            "for the decision before editing."
        )
    if content_hash(title, body) == latest.content_hash:
        raise ApplicationError("Nothing changed: the title and body equal the current version.", code="no_change")
    version = _version_insert(
        article=article, author=actor, title=title, body=body, change_note=change_note, based_on=latest
    )
    audit_record(
        event_type=AuditEvent.Type.VERSION_CREATE, actor=actor, article=article, version=version,
        details={"based_on": latest.number, "change_note": change_note},
    )
    return version


def settings_needing_review(*, article: Article, changes: dict[str, Any]) -> set[str]:
    """Which of `changes` (settings that differ from the article's) may only take effect through review.

    None for an article never published and not in review: its first version's review covers them,
    and nothing of it is served before. Making the audience narrower (public to internal) never
    needs review: it only takes content out of public view.
    """
    if article.live_version_id is None and not _open_review(article):
        return set()
    needed = set()
    for field in REVIEWED_SETTINGS_FIELDS:
        if field not in changes or getattr(article, field) == changes[field]:
            continue
        if field == "audience" and changes[field] == Article.Audience.INTERNAL:
            continue
        needed.add(field)
    return needed


@transaction.atomic
def article_update_settings(*, actor: AbstractBaseUser, article: Article, **changes: Any) -> Article:
    """Change an article's settings that need no review (interval, tags, kind, a narrower audience, ...).

    Settings that need review (see settings_needing_review) are refused, changing nothing:
    propose them with settings_change_propose.
    """
    _require_perm(actor, "kb.change_article", "change article settings")
    unknown = set(changes) - set(ARTICLE_SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown article settings: {', '.join(sorted(unknown))}.", code="unknown_settings")
    article = _lock_article(article)
    gated = settings_needing_review(article=article, changes=changes)
    if gated:
        raise ApplicationError(
            f"Changing {', '.join(sorted(gated))} of '{article.slug}' needs an approver's review: propose the change "
            "(settings_change_propose, or save it in the admin) and another approver approves it. Nothing was changed.",
            code="review_required",
        )
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        old = getattr(article, field)
        if old != value:
            diff[field] = [_plain(old), _plain(value)]
            setattr(article, field, value)
    if not diff:
        return article
    article.review_due_at = article.compute_review_due_at()
    article.full_clean(exclude=["review_due_at", "live_version", "latest_version"])
    article.save()
    audit_record(event_type=AuditEvent.Type.ARTICLE_EDIT, actor=actor, article=article, details={"changed": diff})
    ports.serving().article_settings_changed(article=article, changed=set(diff))
    return article


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


@transaction.atomic
def version_rollback(
    *, actor: AbstractBaseUser, article: Article, to_version: ArticleVersion, base_version: int
) -> ArticleVersion:
    """Create a new draft version with the content of an older one; it goes through review."""
    _require_perm(actor, "kb.add_articleversion", "roll back articles")
    article = _lock_article(article)
    if to_version.article_id != article.pk:
        raise ApplicationError("That version belongs to another article.", code="wrong_article")
    latest = article.latest_version
    if latest.number != base_version:
        raise ConcurrentEditError(
            f"Version {latest.number} was saved after version {base_version} that you were looking at. "
            "Nothing was rolled back: reload and try again."
        )
    if _open_review(article):
        raise InvalidTransitionError(f"'{article.slug}' has a version in review; decide or withdraw it first.")
    if not Publication.objects.filter(version=to_version).exists() and article.live_version_id != to_version.pk:
        # Restoring an unreviewed draft would make its text someone else's version, which its
        # author could then approve (four-eyes looks at the version's author).
        raise ApplicationError(
            f"Version {to_version.number} of '{article.slug}' was never published: only versions that were live "
            "can be restored. Nothing was changed.",
            code="never_published",
        )
    if to_version.content_hash == latest.content_hash:
        raise ApplicationError(f"Version {latest.number} already has the content of version {to_version.number}.", code="no_change")
    version = _version_insert(
        article=article, author=actor, title=to_version.title, body=to_version.body,
        change_note=f"Rollback to version {to_version.number}", based_on=to_version,
    )
    audit_record(
        event_type=AuditEvent.Type.VERSION_ROLLBACK, actor=actor, article=article, version=version,
        details={"restored_version": to_version.number, "replaced_version": latest.number},
    )
    return version


# --- the approval workflow ------------------------------------------------------------------


@transaction.atomic
def version_submit(*, actor: AbstractBaseUser, version: ArticleVersion) -> Review:
    """Submit the latest draft version of an article for review."""
    _require_perm(actor, "kb.add_articleversion", "submit versions for review")
    article = _lock_article(version.article)
    if article.latest_version_id != version.pk:
        raise InvalidTransitionError(
            f"Only the latest version (v{article.latest_version.number}) can be submitted, not v{version.number}."
        )
    if article.live_version_id == version.pk:
        raise InvalidTransitionError(f"Version {version.number} is already published.")
    if _open_review(article):
        raise InvalidTransitionError(f"'{article.slug}' already has a version in review.")
    required = 2 if article.space.requires_extra_approval else 1
    try:
        with transaction.atomic():
            review = Review.objects.create(
                article=article, version=version, submitted_by=actor, required_approvals=required
            )
    except IntegrityError as error:
        raise InvalidTransitionError(f"'{article.slug}' already has a version in review.") from error
    audit_record(
        event_type=AuditEvent.Type.VERSION_SUBMIT, actor=actor, article=article, version=version,
        details={"review": review.pk, "required_approvals": required},
    )
    return review


def _lock_open_review(review: Review) -> Review:
    review = Review.objects.select_for_update(of=("self",)).select_related("version", "article").get(pk=review.pk)
    if review.status != Review.Status.IN_REVIEW:
        raise InvalidTransitionError(
            f"This review of {review.version} is already {review.get_status_display().lower()}; nothing was changed."
        )
    return review


def _require_four_eyes(actor: AbstractBaseUser, review: Review, doing: str) -> None:
    if actor.pk == review.version.author_id:
        raise PermissionDeniedError(
            f"{actor} wrote version {review.version.number} and may not {doing} it (four-eyes rule).",
            code="four_eyes",
        )


@transaction.atomic
def version_approve(*, actor: AbstractBaseUser, review: Review, comment: str = "") -> Review:
    """Approve a review step; the last required approval publishes exactly the reviewed version."""
    _require_perm(actor, "kb.approve_version", "approve versions")
    review = _lock_open_review(review)
    _require_four_eyes(actor, review, "approve")
    if review.approvals.filter(approver=actor).exists():
        raise PermissionDeniedError(
            f"{actor} already approved step 1; the extra approval step needs a different approver.",
            code="same_approver",
        )
    step = review.approvals.count() + 1
    ReviewApproval.objects.create(review=review, approver=actor, step=step, comment=comment)
    audit_record(
        event_type=AuditEvent.Type.VERSION_APPROVE, actor=actor, article=review.article, version=review.version,
        details={"review": review.pk, "step": step, "of": review.required_approvals, "comment": comment},
    )
    if step >= review.required_approvals:
        review.status = Review.Status.APPROVED
        review.decided_at = timezone.now()
        review.save(update_fields=["status", "decided_at"])
        version_publish(actor=actor, version=review.version)
    return review


@transaction.atomic
def version_request_changes(*, actor: AbstractBaseUser, review: Review, comment: str) -> Review:
    """Send a version back to its author with a comment; the article stays as it is served."""
    _require_perm(actor, "kb.approve_version", "request changes")
    if not comment.strip():
        raise ApplicationError("Say what must change: a comment is required.", code="comment_required")
    review = _lock_open_review(review)
    _require_four_eyes(actor, review, "review")
    review.status = Review.Status.CHANGES_REQUESTED
    review.comment = comment.strip()
    review.decided_at = timezone.now()
    review.save(update_fields=["status", "comment", "decided_at"])
    audit_record(
        event_type=AuditEvent.Type.VERSION_REQUEST_CHANGES, actor=actor, article=review.article,
        version=review.version, details={"review": review.pk, "comment": review.comment},
    )
    return review


@transaction.atomic
def review_withdraw(*, actor: AbstractBaseUser, review: Review) -> Review:
    """The submitter (or a knowledge admin) takes a version back out of review."""
    review = _lock_open_review(review)
    if actor.pk != review.submitted_by_id and not actor.has_perm("kb.change_space"):
        raise PermissionDeniedError(f"Only {review.submitted_by} or a knowledge admin may withdraw this review.")
    review.status = Review.Status.WITHDRAWN
    review.decided_at = timezone.now()
    review.save(update_fields=["status", "decided_at"])
    audit_record(
        event_type=AuditEvent.Type.VERSION_WITHDRAW, actor=actor, article=review.article,
        version=review.version, details={"review": review.pk},
    )
    return review


# --- the settings review ----------------------------------------------------------------------


def _settings_value_plain(field: str, value: Any) -> Any:
    """A setting as stored in a SettingsChange: model instances by primary key, dates in ISO format."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _settings_value_from_plain(field: str, value: Any) -> Any:
    if value is None:
        return None
    model_field = Article._meta.get_field(field)
    if model_field.is_relation:
        return model_field.related_model._default_manager.get(pk=value)
    if isinstance(model_field, models.DateField):
        return dt.date.fromisoformat(value)
    return value


@transaction.atomic
def settings_change_propose(
    *, actor: AbstractBaseUser, article: Article, note: str = "", **changes: Any
) -> SettingsChange:
    """Propose settings for an article; they take effect when an approver other than `actor` approves.

    Refused, storing nothing, when a setting is unknown, nothing would change, the values are
    invalid together (e.g. valid_until before valid_from), or a proposal is already pending.
    """
    _require_perm(actor, "kb.change_article", "propose article settings")
    unknown = set(changes) - set(ARTICLE_SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown article settings: {', '.join(sorted(unknown))}.", code="unknown_settings")
    article = _lock_article(article)
    changed = {field: value for field, value in changes.items() if getattr(article, field) != value}
    if not changed:
        raise ApplicationError(f"Nothing changed: '{article.slug}' already has these settings.", code="no_change")
    candidate = Article.objects.get(pk=article.pk)
    for field, value in changed.items():
        setattr(candidate, field, value)
    try:
        candidate.full_clean(exclude=["review_due_at", "live_version", "latest_version"])
    except ValidationError as error:
        raise ApplicationError(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()),
            code="invalid_settings",
        ) from None
    target_space = changed.get("space", article.space)
    required = 2 if (article.space.requires_extra_approval or target_space.requires_extra_approval) else 1
    try:
        with transaction.atomic():
            proposal = SettingsChange.objects.create(
                article=article, proposed_by=actor, required_approvals=required, note=note.strip(),
                proposed={field: _settings_value_plain(field, value) for field, value in changed.items()},
                previous={field: _settings_value_plain(field, getattr(article, field)) for field in changed},
            )
    except IntegrityError as error:
        raise InvalidTransitionError(
            f"'{article.slug}' already has a settings change awaiting approval; decide or withdraw it first.",
        ) from error
    audit_record(
        event_type=AuditEvent.Type.SETTINGS_PROPOSE, actor=actor, article=article,
        details={"settings_change": proposal.pk, "required_approvals": required,
                 "changed": {field: [_plain(getattr(article, field)), _plain(value)] for field, value in changed.items()}},
    )
    return proposal


def _lock_pending_settings_change(change: SettingsChange) -> SettingsChange:
    change = SettingsChange.objects.select_for_update(of=("self",)).select_related("article", "proposed_by").get(pk=change.pk)
    if change.status != SettingsChange.Status.PENDING:
        raise InvalidTransitionError(
            f"This settings change of '{change.article.slug}' is already {change.get_status_display().lower()}; "
            "nothing was changed."
        )
    return change


def _require_settings_four_eyes(actor: AbstractBaseUser, change: SettingsChange, doing: str) -> None:
    if actor.pk == change.proposed_by_id:
        raise PermissionDeniedError(
            f"{actor} proposed this settings change and may not {doing} it (four-eyes rule).", code="four_eyes",
        )


@transaction.atomic
def settings_change_approve(*, actor: AbstractBaseUser, change: SettingsChange, comment: str = "") -> SettingsChange:
    """Approve a proposed settings change; the last required approval applies it, all at once."""
    _require_perm(actor, "kb.approve_version", "approve settings changes")
    change = _lock_pending_settings_change(change)
    _require_settings_four_eyes(actor, change, "approve")
    if change.first_approver_id == actor.pk:
        raise PermissionDeniedError(
            f"{actor} already approved step 1; the second step needs a different approver.", code="same_approver",
        )
    step = change.approvals_given + 1
    details: dict[str, Any] = {"settings_change": change.pk, "step": step, "of": change.required_approvals,
                               "comment": comment, "proposed_by": change.proposed_by.get_username()}
    if step < change.required_approvals:
        change.first_approver = actor
        change.save(update_fields=["first_approver"])
        audit_record(event_type=AuditEvent.Type.SETTINGS_APPROVE, actor=actor, article=change.article,
                     details={**details, "applied": False})
        return change
    article = _lock_article(change.article)
    stale = sorted(field for field, value in change.previous.items()
                   if _settings_value_plain(field, getattr(article, field)) != value)
    if stale:
        raise InvalidTransitionError(
            f"The {', '.join(stale)} of '{article.slug}' changed since this change was proposed; nothing was applied. "
            "Reject it, and propose it again against the current settings."
        )
    diff: dict[str, list[Any]] = {}
    for field, plain in change.proposed.items():
        value = _settings_value_from_plain(field, plain)
        diff[field] = [_plain(getattr(article, field)), _plain(value)]
        setattr(article, field, value)
    article.review_due_at = article.compute_review_due_at()
    try:
        article.full_clean(exclude=["review_due_at", "live_version", "latest_version"])
    except ValidationError as error:
        raise ApplicationError(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()),
            code="invalid_settings",
        ) from None
    article.save()
    change.status = SettingsChange.Status.APPROVED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.comment = comment.strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    audit_record(event_type=AuditEvent.Type.SETTINGS_APPROVE, actor=actor, article=article,
                 details={**details, "applied": True, "changed": diff})
    ports.serving().article_settings_changed(article=article, changed=set(diff))
    return change


@transaction.atomic
def settings_change_reject(*, actor: AbstractBaseUser, change: SettingsChange, comment: str) -> SettingsChange:
    """An approver (not the proposer) rejects a proposed settings change, saying why."""
    _require_perm(actor, "kb.approve_version", "reject settings changes")
    if not comment.strip():
        raise ApplicationError("Say why: a comment is required to reject a settings change.", code="comment_required")
    change = _lock_pending_settings_change(change)
    _require_settings_four_eyes(actor, change, "reject")
    change.status = SettingsChange.Status.REJECTED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.comment = comment.strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    audit_record(event_type=AuditEvent.Type.SETTINGS_REJECT, actor=actor, article=change.article,
                 details={"settings_change": change.pk, "comment": change.comment})
    return change


@transaction.atomic
def settings_change_withdraw(*, actor: AbstractBaseUser, change: SettingsChange) -> SettingsChange:
    """The proposer (or a knowledge admin) takes a settings change back."""
    change = _lock_pending_settings_change(change)
    if actor.pk != change.proposed_by_id and not actor.has_perm("kb.change_space"):
        raise PermissionDeniedError(f"Only {change.proposed_by} or a knowledge admin may withdraw this settings change.")
    change.status = SettingsChange.Status.WITHDRAWN
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(event_type=AuditEvent.Type.SETTINGS_WITHDRAW, actor=actor, article=change.article,
                 details={"settings_change": change.pk})
    return change


def version_publish(*, actor: AbstractBaseUser | None, version: ArticleVersion, audit: bool = True) -> Article:
    """Make `version` the live version. Called by approval and import, inside their transaction.

    Publishing counts as a verification: the content was just reviewed.
    """
    article = _lock_article(version.article)
    previous = article.live_version
    now = timezone.now()
    article.live_version = version
    article.title = version.title
    article.last_verified_at = now
    article.review_due_at = article.compute_review_due_at()
    article.save(update_fields=["live_version", "title", "last_verified_at", "review_due_at", "updated_at"])
    Publication.objects.create(article=article, version=version, published_by=actor if actor and actor.pk else None,
                               published_at=now)
    if audit:
        audit_record(
            event_type=AuditEvent.Type.VERSION_PUBLISH, actor=actor, article=article, version=version,
            details={"previous_version": previous.number if previous else None},
        )
    # the serving side (retrieval) makes the version searchable in this same transaction
    ports.serving().article_published(article=article, version=version, previous=previous)
    _flags_resolve(article=article, reasons=CONTENT_FLAG_REASONS, actor=actor, version=version,
                   note=f"Addressed by version {version.number}, reviewed and published.")
    if previous is not None:
        _translations_flag_drift(article=article, previous=previous, version=version)
    return article


# What a new published version addresses: everything about the content (not expiry, which is a date).
CONTENT_FLAG_REASONS = [Flag.Reason.REVIEW_DUE, *sorted(selectors.CONTENT_FLAG_REASONS)]


def _translations_flag_drift(*, article: Article, previous: ArticleVersion, version: ArticleVersion) -> None:
    """A source's new live version makes each live translation out of sync, with the diff of the source."""
    import difflib

    diff = "\n".join(
        line for line in difflib.unified_diff(
            previous.body.splitlines(), version.body.splitlines(),
            fromfile=f"{article.slug} v{previous.number}", tofile=f"{article.slug} v{version.number}", lineterm="", n=1,
        )
    )
    if previous.title != version.title:
        diff = f"title: {previous.title} -> {version.title}\n{diff}"
    for translation in article.translations.filter(live_version__isnull=False).select_related("owner"):
        flag_raise(
            article=translation, reason=Flag.Reason.TRANSLATION_DRIFT,
            summary=f"Its source '{article.slug}' ({article.locale}) was updated from v{previous.number} to "
                    f"v{version.number}; update this translation.",
            evidence=diff[:20000],
        )


@transaction.atomic
def article_verify(*, actor: AbstractBaseUser, article: Article, note: str = "") -> Article:
    """The owner (or an approver) confirms the live content is still correct: resets the review clock."""
    if actor.pk != article.owner_id:
        _require_perm(actor, "kb.verify_article", "verify articles they do not own")
    article = _lock_article(article)
    if article.live_version_id is None:
        raise InvalidTransitionError(f"'{article.slug}' has no published version to verify.")
    previous_due = article.review_due_at
    article.last_verified_at = timezone.now()
    article.review_due_at = article.compute_review_due_at()
    article.save(update_fields=["last_verified_at", "review_due_at", "updated_at"])
    audit_record(
        event_type=AuditEvent.Type.ARTICLE_VERIFY, actor=actor, article=article, version=article.live_version,
        details={"note": note, "previous_due": previous_due.isoformat(), "next_due": article.review_due_at.isoformat()},
    )
    _flags_resolve(article=article, reasons=[Flag.Reason.REVIEW_DUE], actor=actor, version=None,
                   note=f"Verified as still correct by {actor}.")
    return article


# --- flags and the review cycle -------------------------------------------------------------


def flag_raise(
    *, article: Article, reason: str, summary: str, evidence: str = "", due_at: dt.datetime | None = None,
    raised_by: AbstractBaseUser | None = None, change_event: ChangeEvent | None = None, score: float | None = None,
) -> Flag | None:
    """Open a flag for the article's owner; a flag of the same kind (or change) is opened at most once."""
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                article=article, reason=reason, summary=summary, evidence=evidence,
                owner=article.owner, due_at=due_at or timezone.now(), raised_by=raised_by,
                change_event=change_event, score=score, flagged_version_id=article.live_version_id,
            )
            audit_record(
                event_type=AuditEvent.Type.FLAG_RAISE, actor=raised_by, article=article,
                version=article.live_version, details={"flag": flag.pk, "reason": reason, "summary": summary},
            )
    except IntegrityError:
        return None  # an open flag of this kind already exists
    return flag


def _flags_resolve(
    *, article: Article, reasons: list[str], actor: AbstractBaseUser | None, version: ArticleVersion | None,
    note: str,
) -> int:
    flags = list(Flag.objects.select_for_update().filter(article=article, reason__in=reasons, state=Flag.State.OPEN))
    for flag in flags:
        flag.state = Flag.State.RESOLVED
        flag.closed_at = timezone.now()
        flag.closed_by = actor if actor and actor.pk else None
        flag.resolution_note = note
        flag.resolved_by_version = version
        flag.save(update_fields=["state", "closed_at", "closed_by", "resolution_note", "resolved_by_version"])
        audit_record(
            event_type=AuditEvent.Type.FLAG_RESOLVE, actor=actor, article=article, version=version,
            details={"flag": flag.pk, "reason": flag.reason, "note": note},
        )
    return len(flags)


@transaction.atomic
def flag_dismiss(*, actor: AbstractBaseUser, flag: Flag, reason: str) -> Flag:
    """An owner or approver dismisses a flag; a written reason is required."""
    if not reason.strip():
        raise ApplicationError("Dismissing a flag needs a written reason.", code="reason_required")
    flag = Flag.objects.select_for_update(of=("self",)).select_related("article").get(pk=flag.pk)
    if flag.state != Flag.State.OPEN:
        raise InvalidTransitionError(f"This flag is already {flag.get_state_display().lower()}.")
    if actor.pk != flag.owner_id:
        _require_perm(actor, "kb.approve_version", "dismiss flags they do not own")
    flag.state = Flag.State.DISMISSED
    flag.closed_at = timezone.now()
    flag.closed_by = actor
    flag.resolution_note = reason.strip()
    flag.save(update_fields=["state", "closed_at", "closed_by", "resolution_note"])
    audit_record(
        event_type=AuditEvent.Type.FLAG_DISMISS, actor=actor, article=flag.article,
        details={"flag": flag.pk, "reason": flag.reason, "note": flag.resolution_note},
    )
    return flag


@transaction.atomic
def review_cycle_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Daily: flag live articles whose review is due or whose validity ended, then e-mail owners.

    Idempotent: an open timer flag is never raised twice, and each flag is e-mailed once.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    live = Article.objects.filter(live_version__isnull=False).select_related("owner")
    raised_due = raised_expired = 0
    for article in live.filter(review_due_at__lte=now):
        if flag_raise(
            article=article, reason=Flag.Reason.REVIEW_DUE, due_at=article.review_due_at,
            summary=f"Review due since {timezone.localdate(article.review_due_at):%Y-%m-%d} "
                    f"(every {article.effective_review_interval_days} days).",
        ):
            raised_due += 1
    for article in live.filter(valid_until__lte=today):
        if flag_raise(
            article=article, reason=Flag.Reason.EXPIRED, due_at=now,
            summary=f"Expired on {article.valid_until:%Y-%m-%d}: no longer served. Extend, replace or retire it.",
        ):
            raised_expired += 1
    mailed = flags_notify_owners(now=now)
    return {"review_due": raised_due, "expired": raised_expired, "owners_notified": mailed}


def flags_notify_owners(*, now: dt.datetime) -> int:
    """Send each owner one digest of their open flags not yet notified; returns owners mailed."""
    pending = Flag.objects.select_for_update().filter(state=Flag.State.OPEN, notified_at__isnull=True)
    by_owner: dict[Any, list[Flag]] = defaultdict(list)
    for flag in pending.select_related("article", "owner").order_by("owner_id", "due_at"):
        by_owner[flag.owner].append(flag)
    for owner, flags in by_owner.items():
        lines = [
            f"- {flag.article.title} ({flag.article.slug}, {flag.article.locale}): "
            f"{flag.get_reason_display()} - {flag.summary}"
            for flag in flags
        ]
        body = (
            f"Hello {owner.get_full_name() or owner.get_username()},\n\n"
            f"{len(flags)} article(s) you own need your attention:\n\n" + "\n".join(lines) +
            f"\n\nOpen your inbox: {settings.VERITY_BASE_URL}/admin/governance/flag/?state__exact=open&owner__id__exact={owner.pk}\n"
        )
        if owner.email:
            send_mail(
                subject=f"[Verity] {len(flags)} article(s) need your attention",
                message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[owner.email],
            )
        Flag.objects.filter(pk__in=[flag.pk for flag in flags]).update(notified_at=now)
    return len(by_owner)


@transaction.atomic
def space_save(*, actor: AbstractBaseUser, space: Space) -> Space:
    """Create or change a space; articles on the space's default interval get a new due date."""
    _require_perm(actor, "kb.change_space" if space.pk else "kb.add_space", "manage spaces")
    space.full_clean()
    space.save()
    for article in Article.objects.select_for_update().filter(space=space, review_interval_days__isnull=True):
        due = article.compute_review_due_at()
        if due != article.review_due_at:
            article.review_due_at = due
            article.save(update_fields=["review_due_at"])
    return space


# --- change events ----------------------------------------------------------------------------

@transaction.atomic
def change_event_create(
    *, kind: str, title: str, description: str, effective_date: dt.date, source_url: str = "",
    author: AbstractBaseUser | None = None, author_label: str = "", assess: bool = True,
    announcing_key_id: int | None = None,
) -> ChangeEvent:
    """Record a policy change or release; its impact is assessed in a Celery task after commit."""
    event = ChangeEvent(
        kind=kind, title=title.strip(), description=description.strip(), effective_date=effective_date,
        source_url=source_url, author=author if author and author.pk else None,
        author_label=author_label or (author.get_username() if author and author.pk else ""),
        announcing_key_id=announcing_key_id,
    )
    try:
        event.full_clean()
    except ValidationError as error:
        raise ApplicationError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()),
                               code="invalid_change") from None
    event.save()
    audit_record(event_type=AuditEvent.Type.CHANGE_CREATE, actor=author, target_label=f"change: {event.title}",
                 details={"change": event.pk, "kind": kind, "effective_date": effective_date.isoformat()})
    if assess:
        transaction.on_commit(lambda: ports.serving().change_assess(event_id=event.pk))
    return event


@dataclass(frozen=True)
class ImpactFinding:
    article: Article
    score: float
    reason: str
    evidence: str


@transaction.atomic
def change_event_record(*, event: ChangeEvent, findings: list[ImpactFinding], elapsed_ms: int) -> list[Flag]:
    """Flag every affected article (and its translations) for its owner; mark the event done. Idempotent."""
    event = ChangeEvent.objects.select_for_update().get(pk=event.pk)
    due = timezone.make_aware(dt.datetime.combine(event.effective_date, dt.time(0, 0)))
    flags: list[Flag] = []
    flagged: set[int] = set()
    for finding in sorted(findings, key=lambda f: f.score, reverse=True):
        flag = flag_raise(article=finding.article, reason=Flag.Reason.CHANGE_EVENT, summary=finding.reason,
                          evidence=finding.evidence, due_at=due, change_event=event, score=round(finding.score, 3))
        flagged.add(finding.article.pk)
        if flag:
            flags.append(flag)
    for finding in findings:
        article = finding.article
        related = list(article.translations.filter(live_version__isnull=False))
        if article.translation_of_id and article.translation_of.live_version_id:
            related.append(article.translation_of)
        for other in related:
            if other.pk in flagged:
                continue
            flagged.add(other.pk)
            flag = flag_raise(
                article=other, reason=Flag.Reason.CHANGE_EVENT, due_at=due, change_event=event, score=round(finding.score, 3),
                summary=f"Translation of '{article.slug}', which this change affects: {finding.reason}",
                evidence=finding.evidence,
            )
            if flag:
                flags.append(flag)
    event.status = ChangeEvent.Status.DONE
    event.assessed_at = timezone.now()
    event.assessment_ms = elapsed_ms
    event.error = ""
    event.save(update_fields=["status", "assessed_at", "assessment_ms", "error"])
    audit_record(event_type=AuditEvent.Type.CHANGE_ASSESS, actor=None, target_label=f"change: {event.title}",
                 details={"change": event.pk, "flagged": sorted(flagged), "ms": elapsed_ms})
    return flags


@transaction.atomic
def change_event_fail(*, event: ChangeEvent, error: str) -> None:
    """Record that assessing a change failed, with the error, and audit it in the same transaction."""
    event = ChangeEvent.objects.select_for_update().get(pk=event.pk)
    event.status = ChangeEvent.Status.FAILED
    event.error = error[:5000]
    event.save(update_fields=["status", "error"])
    audit_record(event_type=AuditEvent.Type.CHANGE_ASSESS, actor=None, target_label=f"change: {event.title}",
                 details={"change": event.pk, "status": "failed", "error": error[:500]})
