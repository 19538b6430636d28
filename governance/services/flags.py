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
    PermissionDeniedError,
)
from verity.core.i18n import written_in

# What a new published version addresses: everything about the content (not expiry, which is a date).
CONTENT_FLAG_REASONS = [Flag.Reason.REVIEW_DUE, *sorted(selectors.CONTENT_FLAG_REASONS)]


def flag_raise(
    *, article: Article, reason: str, summary: str, evidence: str = "", due_at: dt.datetime | None = None,
    raised_by: AbstractBaseUser | None = None, change_event: ChangeEvent | None = None, score: float | None = None,
    related_article: Article | None = None, follows: Flag | None = None,
) -> Flag | None:
    """Open a flag for the article's owner; a flag of the same kind (or change) is opened at most once.

    `related_article` names the other article of a contradiction; `follows` is the source's flag a
    translation's change flag is raised for (it is then closed with it, see _flag_close).
    """
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                article=article, reason=reason, summary=summary, evidence=evidence,
                owner=article.owner, due_at=due_at or timezone.now(), raised_by=raised_by,
                change_event=change_event, score=score, flagged_version_id=article.live_version_id,
                related_article=related_article, follows=follows,
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
        _flag_close(flag, state=Flag.State.RESOLVED, actor=actor, note=note, version=version)
    return len(flags)


def _flag_close(
    flag: Flag, *, state: str, actor: AbstractBaseUser | None, note: str, version: ArticleVersion | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Resolve or dismiss one open (locked) flag, audited; the translations' flags that follow it go with it."""
    flag.state = state
    flag.closed_at = timezone.now()
    flag.closed_by = actor if actor and actor.pk else None
    flag.resolution_note = note
    fields = ["state", "closed_at", "closed_by", "resolution_note"]
    if state == Flag.State.RESOLVED:
        flag.resolved_by_version = version
        fields.append("resolved_by_version")
    flag.save(update_fields=fields)
    audit_record(
        event_type=AuditEvent.Type.FLAG_RESOLVE if state == Flag.State.RESOLVED else AuditEvent.Type.FLAG_DISMISS,
        actor=actor, article=flag.article, version=version if state == Flag.State.RESOLVED else None,
        details={"flag": flag.pk, "reason": flag.reason, "note": note, **(details or {})},
    )
    followers = Flag.objects.select_for_update().select_related("article").filter(follows=flag, state=Flag.State.OPEN)
    for follower in followers:
        with article_language(follower.article):
            if flag.article.is_block and follower.article.translation_of_id != flag.article_id:
                follows_note = _("Follows the decision on the flag of the content block '%(block)s' it uses, for the "
                                 "same change: %(note)s") % {"block": flag.article.slug, "note": note}
            else:
                follows_note = _("Follows the decision on the flag of its source '%(source)s' for the same change: "
                                 "%(note)s") % {"source": flag.article.slug, "note": note}
        _flag_close(
            follower, state=state, actor=actor,
            note=follows_note,
            details={"follows_flag": flag.pk, "source": flag.article.slug},
        )


def _require_may_close(actor: AbstractBaseUser, flag: Flag) -> None:
    if actor.pk != flag.owner_id:
        _require_perm(actor, "kb.approve_version", _("You may not dismiss flags of articles you do not own."))


@transaction.atomic
def flags_resolve(*, article: Article, reasons: list[str], actor: AbstractBaseUser | None, note: str) -> int:
    """Resolve the article's open flags of these reasons because what they said no longer holds
    (e.g. a page deleted at its source is back); returns how many were resolved."""
    return _flags_resolve(article=article, reasons=reasons, actor=actor, version=None, note=note)


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
    _require_may_close(actor, flag)
    _flag_close(flag, state=Flag.State.DISMISSED, actor=actor, note=reason.strip())
    return flag


@transaction.atomic
def flags_close(*, actor: AbstractBaseUser, flags: list[Flag], state: str, note: str) -> list[Flag]:
    """Resolve or dismiss several flags with one written note (the admin's bulk actions), each audited.

    All or nothing: a flag the actor may not close refuses the whole batch. Flags closed meanwhile (e.g.
    a translation's flag that followed its source's in this same batch) are left as they are. Returns
    the flags this call closed itself.
    """
    if state not in (Flag.State.RESOLVED, Flag.State.DISMISSED):
        raise ApplicationError(_("Flags can only be resolved or dismissed."), code="invalid_state")
    if not note.strip():
        raise ApplicationError(_("Resolving or dismissing flags needs a written reason."), code="reason_required")
    locked = list(
        Flag.objects.select_for_update(of=("self",)).select_related("article")
        .filter(pk__in=[flag.pk for flag in flags]).order_by("pk")
    )
    for flag in locked:
        try:
            _require_may_close(actor, flag)
        except PermissionDeniedError:
            raise PermissionDeniedError(
                _("%(actor)s may not close the flag on '%(slug)s' (owned by %(owner)s); nothing was changed.")
                % {"actor": actor, "slug": flag.article.slug, "owner": flag.owner},
            ) from None
    closed = []
    for flag in locked:
        flag.refresh_from_db(fields=["state"])  # a follower may have been closed with its source above
        if flag.state != Flag.State.OPEN:
            continue
        _flag_close(flag, state=state, actor=actor, note=note.strip(), details={"bulk": len(locked)})
        closed.append(flag)
    return closed


@transaction.atomic
def flag_confirm(*, actor: AbstractBaseUser, flag: Flag, note: str = "") -> Flag:
    """The owner (or an approver) confirms an agent's report: from now on it marks the article as flagged
    for everyone; until then agents see it as "reported"."""
    flag = Flag.objects.select_for_update(of=("self",)).select_related("article").get(pk=flag.pk)
    if flag.reason != Flag.Reason.AGENT_REPORT:
        raise InvalidTransitionError(_("Only an agent's report is confirmed; this flag counts already."))
    if flag.state != Flag.State.OPEN:
        raise InvalidTransitionError(_("This report is already closed; nothing was changed."))
    if flag.confirmed_at is not None:
        raise InvalidTransitionError(_("This report was already confirmed by %(user)s.") % {"user": flag.confirmed_by})
    if actor.pk != flag.owner_id:
        _require_perm(actor, "kb.approve_version", _("You may not confirm reports on articles you do not own."))
    flag.confirmed_at = timezone.now()
    flag.confirmed_by = actor
    flag.save(update_fields=["confirmed_at", "confirmed_by"])
    audit_record(
        event_type=AuditEvent.Type.FLAG_CONFIRM, actor=actor, article=flag.article, version=flag.flagged_version,
        details={"flag": flag.pk, "reason": flag.reason, "note": note.strip()},
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
    """Send each owner one digest of their open flags not yet notified; returns the people mailed.

    Flags of owners who cannot log in (inactive, or without a usable password, e.g. imported owners)
    reach every knowledge admin instead, in a section of their own digest.
    """
    pending = Flag.objects.select_for_update().filter(state=Flag.State.OPEN, notified_at__isnull=True)
    by_owner: dict[Any, list[Flag]] = defaultdict(list)
    unreachable: list[Flag] = []
    for flag in pending.select_related("article", "owner").order_by("owner_id", "due_at"):
        if selectors.can_log_in(flag.owner):
            by_owner[flag.owner].append(flag)
        else:
            unreachable.append(flag)
    admins = list(selectors.knowledge_admins()) if unreachable else []
    recipients = list(by_owner) + [admin for admin in admins if admin not in by_owner]
    for recipient in recipients:
        if recipient.email:
            with written_in(selectors.user_language(recipient)):
                subject, body = _digest(recipient, by_owner.get(recipient, []), unreachable if recipient in admins else [])
            send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[recipient.email])
    notified = [flag.pk for flags in by_owner.values() for flag in flags] + [flag.pk for flag in unreachable]
    Flag.objects.filter(pk__in=notified).update(notified_at=now)
    return len(recipients)


def _digest(recipient: AbstractBaseUser, flags: list[Flag], unreachable: list[Flag]) -> tuple[str, str]:
    """One person's digest, subject and text, in the active language (the flags' own reasons as written):
    their own flags, and for a knowledge admin those of owners who cannot log in."""
    count = len({flag.article_id for flag in flags} | {flag.article_id for flag in unreachable})
    parts = [_("Hello %(name)s,") % {"name": recipient.get_full_name() or recipient.get_username()}]
    if flags:
        own = len({flag.article_id for flag in flags})
        parts.append(ngettext("%(count)s article you own needs your attention:",
                              "%(count)s articles you own need your attention:", own) % {"count": own})
        parts.append("\n".join(
            f"- {flag.article.title} ({flag.article.slug}, {flag.article.locale}): {flag.get_reason_display()} - {flag.summary}"
            for flag in flags
        ))
    if unreachable:
        parts.append(ngettext(
            "%(count)d flag of an owner who cannot log in (inactive or without a password) reaches you as a "
            "knowledge admin:",
            "%(count)d flags of owners who cannot log in (inactive or without a password) reach you as a "
            "knowledge admin:",
            len(unreachable),
        ) % {"count": len(unreachable)})
        parts.append("\n".join(
            f"- {flag.article.title} ({flag.article.slug}, {flag.article.locale}), "
            + _("owner %(owner)s") % {"owner": flag.owner.get_username()}
            + f": {flag.get_reason_display()} - {flag.summary}"
            for flag in unreachable
        ))
    inbox = f"{settings.VERITY_BASE_URL}/admin/governance/flag/?state__exact=open&mine=1"
    parts.append(_("Open your inbox: %(url)s") % {"url": inbox})
    subject = "[Verity] " + ngettext(
        "%(count)s article needs your attention", "%(count)s articles need your attention", count,
    ) % {"count": count}
    return subject, "\n\n".join(parts) + "\n"
