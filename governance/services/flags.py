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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance import selectors
from governance.models import AuditEvent, ChangeEvent, Flag
from governance.services.base import _require_perm, article_language, audit_record
from kb.models import Article, ArticleVersion
from verity.core.errors import (
    ApplicationError,
    InvalidTransitionError,
)
from verity.core.i18n import written_in

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
def flag_dismiss(*, actor: AbstractBaseUser, flag: Flag, reason: str) -> Flag:
    """An owner or approver dismisses a flag; a written reason is required."""
    if not reason.strip():
        raise ApplicationError(_("Dismissing a flag needs a written reason."), code="reason_required")
    flag = Flag.objects.select_for_update(of=("self",)).select_related("article").get(pk=flag.pk)
    if flag.state != Flag.State.OPEN:
        raise InvalidTransitionError(
            _("This flag is closed already (%(state)s).") % {"state": flag.get_state_display()}
        )
    if actor.pk != flag.owner_id:
        _require_perm(actor, "kb.approve_version", _("You may not dismiss flags of articles you do not own."))
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
        with article_language(article):
            summary = ngettext(
                "Review due since %(date)s (every %(days)s day).", "Review due since %(date)s (every %(days)s days).",
                article.effective_review_interval_days,
            ) % {"date": f"{timezone.localdate(article.review_due_at):%Y-%m-%d}",
                 "days": article.effective_review_interval_days}
        if flag_raise(article=article, reason=Flag.Reason.REVIEW_DUE, due_at=article.review_due_at, summary=summary):
            raised_due += 1
    for article in live.filter(valid_until__lte=today):
        with article_language(article):
            summary = _("Expired on %(date)s: no longer served. Extend, replace or retire it.") % {
                "date": f"{article.valid_until:%Y-%m-%d}"}
        if flag_raise(article=article, reason=Flag.Reason.EXPIRED, due_at=now, summary=summary):
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
        if owner.email:
            with written_in(selectors.user_language(owner)):
                subject, body = _digest(owner, flags)
            send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[owner.email])
        Flag.objects.filter(pk__in=[flag.pk for flag in flags]).update(notified_at=now)
    return len(by_owner)


def _digest(owner: AbstractBaseUser, flags: list[Flag]) -> tuple[str, str]:
    """An owner's digest, subject and text, in the active language (the flags' own reasons as written)."""
    count = len({flag.article_id for flag in flags})
    lines = [
        f"- {flag.article.title} ({flag.article.slug}, {flag.article.locale}): {flag.get_reason_display()} - {flag.summary}"
        for flag in flags
    ]
    inbox = f"{settings.VERITY_BASE_URL}/admin/governance/flag/?state__exact=open&owner__id__exact={owner.pk}"
    subject = "[Verity] " + ngettext(
        "%(count)s article needs your attention", "%(count)s articles need your attention", count,
    ) % {"count": count}
    body = "\n\n".join([
        _("Hello %(name)s,") % {"name": owner.get_full_name() or owner.get_username()},
        ngettext("%(count)s article you own needs your attention:", "%(count)s articles you own need your attention:",
                 count) % {"count": count},
        "\n".join(lines),
        _("Open your inbox: %(url)s") % {"url": inbox},
    ]) + "\n"
    return subject, body
