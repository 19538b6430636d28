"""Reviewed settings changes (audience, validity, space, owner): propose, approve, reject, withdraw."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports, selectors
from governance.models import AuditEvent, Notification, SettingsChange
from governance.services.articles import _plain, block_references_check
from governance.services.base import (
    ARTICLE_SETTINGS_FIELDS,
    _lock_article,
    _require_perm,
    audit_record,
    setting_names,
)
from governance.services.notifications import notifications_settle, notify
from kb.models import Article
from verity.core.errors import (
    ApplicationError,
    InvalidTransitionError,
    PermissionDeniedError,
)


def _settings_value_plain(field: str, value: Any) -> Any:
    """A setting as stored in a SettingsChange: model instances by primary key, dates in ISO format."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _invalid_settings(error: ValidationError) -> ApplicationError:
    """Article.full_clean()'s errors as one message, each setting by its name."""
    return ApplicationError(
        "; ".join(f"{setting_names([field]) if field in ARTICLE_SETTINGS_FIELDS else field}: {' '.join(messages)}"
                  for field, messages in error.message_dict.items()),
        code="invalid_settings",
    )


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
    _require_perm(actor, "kb.change_article", _("You may not propose article settings."))
    unknown = set(changes) - set(ARTICLE_SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown article settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
                               code="unknown_settings")
    article = _lock_article(article)
    changed = {field: value for field, value in changes.items() if getattr(article, field) != value}
    if not changed:
        raise ApplicationError(_("Nothing changed: “%(slug)s” already has these settings.") % {"slug": article.slug},
                               code="no_change")
    candidate = Article.objects.get(pk=article.pk)
    for field, value in changed.items():
        setattr(candidate, field, value)
    try:
        candidate.full_clean(exclude=["review_due_at", "live_version", "latest_version"])
    except ValidationError as error:
        raise _invalid_settings(error) from None
    _blocks_check(candidate)
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
            _("“%(slug)s” already has a settings change awaiting approval: decide or withdraw it first.")
            % {"slug": article.slug},
        ) from error
    audit_record(
        event_type=AuditEvent.Type.SETTINGS_PROPOSE, actor=actor, article=article,
        details={"settings_change": proposal.pk, "required_approvals": required,
                 "changed": {field: [_plain(getattr(article, field)), _plain(value)] for field, value in changed.items()}},
    )
    notify(recipients=selectors.settings_change_deciders(proposal), kind=Notification.Kind.SETTINGS_PROPOSED,
           actor=actor, settings_change=proposal)
    return proposal


def _blocks_check(article: Article) -> None:
    """An article made public may not show internal content blocks, in its live text nor in its draft."""
    if article.audience != Article.Audience.PUBLIC:
        return
    for version in {article.live_version, article.latest_version} - {None}:
        block_references_check(article=article, body=version.body, audience=article.audience)


def _lock_pending_settings_change(change: SettingsChange) -> SettingsChange:
    change = SettingsChange.objects.select_for_update(of=("self",)).select_related("article", "proposed_by").get(pk=change.pk)
    if change.status != SettingsChange.Status.PENDING:
        raise InvalidTransitionError(
            _("This settings change of “%(slug)s” was already decided (%(status)s); nothing was changed.")
            % {"slug": change.article.slug, "status": change.get_status_display()}
        )
    return change


def _require_settings_four_eyes(actor: AbstractBaseUser, change: SettingsChange, refusal: str) -> None:
    if actor.pk == change.proposed_by_id:
        raise PermissionDeniedError(refusal, code="four_eyes")


@transaction.atomic
def settings_change_approve(*, actor: AbstractBaseUser, change: SettingsChange, comment: str = "") -> SettingsChange:
    """Approve a proposed settings change; the last required approval applies it, all at once."""
    _require_perm(actor, "kb.approve_version", _("You may not approve settings changes."))
    change = _lock_pending_settings_change(change)
    _require_settings_four_eyes(actor, change, _(
        "You proposed this settings change and may not approve it yourself: another approver must (four-eyes rule)."
    ))
    if change.first_approver_id == actor.pk:
        raise PermissionDeniedError(
            _("You already approved step 1; the second step needs a different approver."), code="same_approver",
        )
    step = change.approvals_given + 1
    details: dict[str, Any] = {"settings_change": change.pk, "step": step, "of": change.required_approvals,
                               "comment": comment, "proposed_by": change.proposed_by.get_username()}
    if step < change.required_approvals:
        change.first_approver = actor
        change.save(update_fields=["first_approver"])
        audit_record(event_type=AuditEvent.Type.SETTINGS_APPROVE, actor=actor, article=change.article,
                     details={**details, "applied": False})
        notifications_settle(settings_change=change, recipient=actor)  # the others' still ask them
        return change
    article = _lock_article(change.article)
    stale = sorted(field for field, value in change.previous.items()
                   if _settings_value_plain(field, getattr(article, field)) != value)
    if stale:
        raise InvalidTransitionError(
            _("Since this change was proposed, these settings of “%(slug)s” changed: %(settings)s. Nothing was "
              "applied: reject it, and propose it again against the current settings.")
            % {"settings": setting_names(stale), "slug": article.slug},
            details={"settings": stale},
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
        raise _invalid_settings(error) from None
    _blocks_check(article)
    article.save()
    change.status = SettingsChange.Status.APPROVED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.comment = comment.strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    audit_record(event_type=AuditEvent.Type.SETTINGS_APPROVE, actor=actor, article=article,
                 details={**details, "applied": True, "changed": diff})
    notifications_settle(settings_change=change)
    ports.serving().article_settings_changed(article=article, changed=set(diff))
    return change


@transaction.atomic
def settings_change_reject(*, actor: AbstractBaseUser, change: SettingsChange, comment: str) -> SettingsChange:
    """An approver (not the proposer) rejects a proposed settings change, saying why."""
    _require_perm(actor, "kb.approve_version", _("You may not reject settings changes."))
    if not comment.strip():
        raise ApplicationError(_("Say why: a comment is required to reject a settings change."), code="comment_required")
    change = _lock_pending_settings_change(change)
    _require_settings_four_eyes(actor, change, _(
        "You proposed this settings change and may not reject it yourself: another approver decides (four-eyes rule)."
    ))
    change.status = SettingsChange.Status.REJECTED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.comment = comment.strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    audit_record(event_type=AuditEvent.Type.SETTINGS_REJECT, actor=actor, article=change.article,
                 details={"settings_change": change.pk, "comment": change.comment})
    notifications_settle(settings_change=change)
    return change


@transaction.atomic
def settings_change_withdraw(*, actor: AbstractBaseUser, change: SettingsChange) -> SettingsChange:
    """The proposer (or a knowledge admin) takes a settings change back."""
    change = _lock_pending_settings_change(change)
    if actor.pk != change.proposed_by_id and not actor.has_perm("kb.change_space"):
        raise PermissionDeniedError(
            _("Only %(person)s or a knowledge admin may withdraw this settings change.") % {"person": change.proposed_by}
        )
    change.status = SettingsChange.Status.WITHDRAWN
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(event_type=AuditEvent.Type.SETTINGS_WITHDRAW, actor=actor, article=change.article,
                 details={"settings_change": change.pk})
    notifications_settle(settings_change=change)
    return change
