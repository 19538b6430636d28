"""Notifications: who is told what when a version or settings change moves, the hourly digest, "read".

Created by the review services in their transaction (never by signals). A notification asking someone
to act (a review to decide) no longer needs them once the review is decided: it is then marked read,
so it is neither e-mailed nor counted as new. Reading is a person's own bookkeeping: not audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance import selectors
from governance.models import Notification, Review, SettingsChange
from verity.core.i18n import written_in

# Notifications asking the recipient to decide something: settled when it is decided.
NOTIFICATION_ACTION_KINDS = (
    Notification.Kind.REVIEW_REQUESTED, Notification.Kind.SECOND_APPROVAL, Notification.Kind.REVIEW_ASSIGNED,
    Notification.Kind.SETTINGS_PROPOSED,
)


def notify(
    *, recipients: Iterable[AbstractBaseUser], kind: str, actor: AbstractBaseUser | None, review: Review | None = None,
    settings_change: SettingsChange | None = None, comment: str = "",
) -> list[Notification]:
    """One notification per recipient (never the actor themself), about a review or a settings change."""
    if review is not None:
        article, version = review.article, review.version
    else:
        article, version = settings_change.article, None
    actor_pk = actor.pk if actor is not None else None
    people = {person.pk: person for person in recipients if person is not None and person.pk != actor_pk}
    return Notification.objects.bulk_create([
        Notification(recipient=person, kind=kind, article=article, version=version, review=review,
                     settings_change=settings_change, actor=actor if actor_pk else None, comment=comment)
        for person in people.values()
    ])


def notifications_settle(*, review: Review | None = None, settings_change: SettingsChange | None = None,
                         kinds: Iterable[str] = NOTIFICATION_ACTION_KINDS, recipient: AbstractBaseUser | None = None) -> int:
    """Mark read what asked people (or one `recipient`) to decide a review or settings change that no longer needs them."""
    pending = Notification.objects.filter(read_at__isnull=True, kind__in=list(kinds))
    if recipient is not None:
        pending = pending.filter(recipient_id=recipient.pk)
    pending = pending.filter(review=review) if review is not None else pending.filter(settings_change=settings_change)
    return pending.update(read_at=timezone.now())


@transaction.atomic
def notifications_mark_read(*, user: AbstractBaseUser, ids: Iterable[int] | None = None, article_id: int | None = None) -> int:
    """Mark the person's own notifications read: these ids, those about one article, or (neither) all."""
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    if article_id is not None:
        unread = unread.filter(article_id=article_id)
    return unread.update(read_at=timezone.now())


@transaction.atomic
def notifications_send_digest(*, now: dt.datetime | None = None) -> int:
    """Hourly: e-mail each person their unread notifications not e-mailed yet, in their language.

    Returns the people mailed. Idempotent: each notification is e-mailed once; one read in the admin
    first is not e-mailed; a concurrent run skips the rows this one holds.
    """
    now = now or timezone.now()
    pending = (
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(read_at__isnull=True, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient", "article", "version", "actor")
        .order_by("recipient_id", "created_at", "pk")
    )
    by_recipient: dict[int, list[Notification]] = defaultdict(list)
    for notification in pending:
        if selectors.can_log_in(notification.recipient):
            by_recipient[notification.recipient_id].append(notification)
    for notifications in by_recipient.values():
        recipient = notifications[0].recipient
        with written_in(selectors.user_language(recipient)):
            subject, body = _digest(recipient, notifications)
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[recipient.email])
    Notification.objects.filter(pk__in=[n.pk for group in by_recipient.values() for n in group]).update(emailed_at=now)
    return len(by_recipient)


def _digest(recipient: AbstractBaseUser, notifications: list[Notification]) -> tuple[str, str]:
    """One person's digest, subject and text, in the active language (titles and comments as written)."""
    count = len(notifications)
    lines = []
    for notification in notifications:
        line = f"- {selectors.notification_text(notification)}"
        if notification.comment:
            line += "\n  " + _("Comment: %(comment)s") % {"comment": notification.comment}
        lines.append(line)
    parts = [
        _("Hello %(name)s,") % {"name": recipient.get_full_name() or recipient.get_username()},
        ngettext("Since the last message, %(count)d thing happened in Verity that concerns you:",
                 "Since the last message, %(count)d things happened in Verity that concern you:", count) % {"count": count},
        "\n".join(lines),
        _("Open your inbox: %(url)s") % {"url": f"{settings.VERITY_BASE_URL}/admin/inbox/"},
    ]
    subject = "[Verity] " + ngettext("%(count)d new notification", "%(count)d new notifications", count) % {"count": count}
    return subject, "\n\n".join(parts) + "\n"
