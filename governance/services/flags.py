"""Flags: raised, resolved and dismissed; the daily review cycle and the owners' digest."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import selectors
from governance.models import AuditEvent, ChangeEvent, Flag
from governance.services.base import _require_perm, audit_record
from kb.models import Article, ArticleVersion
from verity.core.errors import (
    ApplicationError,
    InvalidTransitionError,
)

# What a new published version addresses: everything about the content (not expiry, which is a date).
CONTENT_FLAG_REASONS = [Flag.Reason.REVIEW_DUE, *sorted(selectors.CONTENT_FLAG_REASONS)]


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
def flags_resolve(*, article: Article, reasons: list[str], actor: AbstractBaseUser | None, note: str) -> int:
    """Resolve the article's open flags of these reasons because what they said no longer holds
    (e.g. a page deleted at its source is back); returns how many were resolved."""
    return _flags_resolve(article=article, reasons=reasons, actor=actor, version=None, note=note)


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
