"""Suggested drafts: Verity rewrites what an open change flag says is wrong; the owner edits, accepts or rejects.

The drafting itself (the language model, the checks) runs on the serving side, asked through
governance.ports after commit; these services hold the suggestion's states and their audit events.
An accepted suggestion becomes an ordinary draft version by the person who accepted it, reviewed
like any other (its author cannot approve it); the flag stays open until a version is published.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports
from governance.models import AuditEvent, Flag, Suggestion
from governance.services.articles import version_create
from governance.services.base import KNOWLEDGE_ADMIN_PERMISSION, audit_record
from verity.core.errors import ApplicationError, InvalidTransitionError, PermissionDeniedError


def suggestion_may_act(actor: AbstractBaseUser, article) -> bool:
    """The article's owner and knowledge admins may ask for, accept and reject suggested drafts."""
    return bool(actor and actor.is_active and (actor.pk == article.owner_id or actor.has_perm(KNOWLEDGE_ADMIN_PERMISSION)))


def _require_may_act(actor: AbstractBaseUser, article) -> None:
    if not suggestion_may_act(actor, article):
        raise PermissionDeniedError(
            _("Only the article's owner or a knowledge admin may work with suggested drafts."),
            details={"permission": "owner or " + KNOWLEDGE_ADMIN_PERMISSION},
        )


@transaction.atomic
def suggestion_request(*, actor: AbstractBaseUser, flag: Flag) -> Suggestion:
    """Ask Verity to draft a corrected version from an open change flag (drafted in the background)."""
    flag = Flag.objects.select_for_update(of=("self",)).select_related("article", "change_event").get(pk=flag.pk)
    article = flag.article
    _require_may_act(actor, article)
    if flag.state != Flag.State.OPEN or flag.change_event_id is None:
        raise InvalidTransitionError(_("A draft can only be suggested for an open flag raised by an announced change."),
                                     code="not_open_change_flag")
    live = article.live_version
    if live is None:
        raise InvalidTransitionError(_("The article has no live version to rewrite."), code="no_live_version")
    if Suggestion.objects.filter(flag=flag, status__in=[Suggestion.Status.DRAFTING, Suggestion.Status.READY]).exists():
        raise InvalidTransitionError(_("A suggested draft for this flag is already being drafted or awaits its owner."),
                                     code="suggestion_open")
    event = flag.change_event
    sources = [
        {"kind": "announcement", "title": event.title, "text": event.description,
         "effective_date": f"{event.effective_date:%Y-%m-%d}", "url": event.source_url},
        {"kind": "evidence", "title": live.title, "text": flag.evidence},
    ]
    suggestion = Suggestion.objects.create(
        article=article, flag=flag, change_event=event, base_version=live, title=live.title,
        sources=sources, requested_by=actor,
    )
    audit_record(event_type=AuditEvent.Type.SUGGESTION_CREATE, actor=actor, article=article, version=live,
                 details={"suggestion": suggestion.pk, "flag": flag.pk, "change_event": event.pk})
    transaction.on_commit(lambda: ports.serving().suggestion_draft(suggestion_id=suggestion.pk))
    return suggestion


@transaction.atomic
def suggestion_record(*, suggestion_id: int, body: str, paragraphs: list[dict], generator: str) -> Suggestion:
    """The drafting's result, written at once (a suggestion no longer being drafted is left alone)."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.DRAFTING:
        return suggestion
    suggestion.body, suggestion.paragraphs, suggestion.generator = body, paragraphs, generator
    suggestion.status, suggestion.drafted_at = Suggestion.Status.READY, timezone.now()
    suggestion.save(update_fields=["body", "paragraphs", "generator", "status", "drafted_at"])
    return suggestion


@transaction.atomic
def suggestion_fail(*, suggestion_id: int, error: str) -> Suggestion:
    """Drafting failed (no model, model down): nothing is drafted; the owner sees why and may ask again."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.DRAFTING:
        return suggestion
    suggestion.status, suggestion.error, suggestion.drafted_at = Suggestion.Status.FAILED, error, timezone.now()
    suggestion.save(update_fields=["status", "error", "drafted_at"])
    return suggestion


def _lock_ready(suggestion: Suggestion, actor: AbstractBaseUser) -> Suggestion:
    suggestion = Suggestion.objects.select_for_update(of=("self",)).select_related("article").get(pk=suggestion.pk)
    _require_may_act(actor, suggestion.article)
    if suggestion.status != Suggestion.Status.READY:
        raise InvalidTransitionError(
            _("This suggested draft cannot be decided any more (%(status)s).") % {"status": suggestion.get_status_display()},
            code="suggestion_not_ready")
    return suggestion


@transaction.atomic
def suggestion_accept(*, actor: AbstractBaseUser, suggestion: Suggestion, body: str | None = None,
                      title: str | None = None) -> Suggestion:
    """Accept the suggestion (as edited by the owner): a new draft version by `actor`, for the normal review."""
    suggestion = _lock_ready(suggestion, actor)
    article = suggestion.article
    body = (suggestion.body if body is None else body).replace("\r\n", "\n")
    title = (suggestion.title if title is None else title).strip()
    base = suggestion.base_version
    if base is not None and body.strip() == base.body.strip() and title == base.title:
        raise ApplicationError(_("The text is the same as the live version: there is nothing to accept. "
                                 "Edit it, or reject the suggestion."), code="suggestion_unchanged")
    latest = article.latest_version
    event = suggestion.change_event
    note = _("Suggested by Verity from the change “%(change)s”, accepted by %(user)s.") % {
        "change": event.title if event else "", "user": actor.get_username()}
    version = version_create(actor=actor, article=article, title=title, body=body,
                             base_version=latest.number if latest else 0, change_note=note)
    suggestion.status, suggestion.version = Suggestion.Status.ACCEPTED, version
    suggestion.decided_by, suggestion.decided_at = actor, timezone.now()
    suggestion.body, suggestion.title = version.body, version.title
    suggestion.save(update_fields=["status", "version", "decided_by", "decided_at", "body", "title"])
    audit_record(event_type=AuditEvent.Type.SUGGESTION_ACCEPT, actor=actor, article=article, version=version,
                 details={"suggestion": suggestion.pk, "flag": suggestion.flag_id})
    return suggestion


@transaction.atomic
def suggestion_reject(*, actor: AbstractBaseUser, suggestion: Suggestion, reason: str) -> Suggestion:
    """Reject the suggestion with a written reason; the flag stays open."""
    if not reason.strip():
        raise ApplicationError(_("Rejecting a suggested draft needs a written reason."), code="reason_required")
    suggestion = _lock_ready(suggestion, actor)
    suggestion.status, suggestion.decision_note = Suggestion.Status.REJECTED, reason.strip()
    suggestion.decided_by, suggestion.decided_at = actor, timezone.now()
    suggestion.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    audit_record(event_type=AuditEvent.Type.SUGGESTION_REJECT, actor=actor, article=suggestion.article,
                 version=suggestion.base_version, details={"suggestion": suggestion.pk, "reason": reason.strip()})
    return suggestion
