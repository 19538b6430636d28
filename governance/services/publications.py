"""Publication over time: scheduled versions going live, a scheduled publication cancelled, and the
emergency unpublish of a live version.

A version approved with a go-live time (reviews.version_approve) waits as a `scheduled` review; the
beat task runs publications_publish_due every minute, which publishes each due version exactly like
an approval does (one transaction: live pointer, search index, flags, audit). The old version is
served until that commit, the new one from it: never neither.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports
from governance.models import AuditEvent, Review
from governance.services.base import _lock_article, _require_knowledge_admin, audit_record
from governance.services.reviews import version_publish
from kb.models import Article
from verity.core.errors import ApplicationError, InvalidTransitionError

logger = logging.getLogger("verity.governance")


def publications_publish_due(*, now: dt.datetime | None = None) -> list[int]:
    """Publish every scheduled version whose go-live time has come; returns the reviews published.

    Each in its own transaction, so one that fails (it is logged and stays scheduled for the next run)
    does not hold up the others. Idempotent: a review is published once, and a run that finds one
    locked by a concurrent run leaves it to that run.
    """
    now = now or timezone.now()
    due = list(
        Review.objects.filter(status=Review.Status.SCHEDULED, go_live_at__lte=now)
        .order_by("go_live_at", "pk").values_list("pk", flat=True)
    )
    published = []
    for review_id in due:
        try:
            with transaction.atomic():
                review = (
                    Review.objects.select_for_update(of=("self",), skip_locked=True)
                    .select_related("version", "article").filter(pk=review_id, status=Review.Status.SCHEDULED).first()
                )
                if review is not None and _publish_scheduled(review):
                    published.append(review_id)
        except Exception:  # noqa: BLE001 - logged; the review stays scheduled and the next run tries again
            logger.exception("scheduled publication of review %s failed", review_id)
    return published


def _publish_scheduled(review: Review) -> bool:
    article = _lock_article(review.article)
    approvals = list(review.approvals.select_related("approver").order_by("step"))
    details = {"review": review.pk, "scheduled": True, "go_live_at": review.go_live_at.isoformat(),
               "approved_by": [approval.approver.get_username() for approval in approvals]}
    live = article.live_version
    if live is not None and live.number > review.version.number:
        # a newer version went live in the meantime: going back to this one would undo it
        review.status = Review.Status.CANCELLED
        review.save(update_fields=["status"])
        audit_record(event_type=AuditEvent.Type.VERSION_SCHEDULE_CANCEL, actor=None, article=article,
                     version=review.version, details={**details, "reason": f"v{live.number} is live already"})
        return False
    review.status = Review.Status.APPROVED
    review.save(update_fields=["status"])
    version_publish(actor=None, version=review.version, audit_details=details)
    return True


@transaction.atomic
def publication_cancel(*, actor: AbstractBaseUser, review: Review, reason: str = "") -> Review:
    """A knowledge admin cancels a scheduled publication: the version is a draft again (submit it to
    publish it), the article stays as it is served."""
    _require_knowledge_admin(actor, _("You may not cancel scheduled publications."))
    review = Review.objects.select_for_update(of=("self",)).select_related("version", "article").get(pk=review.pk)
    if review.status != Review.Status.SCHEDULED:
        raise InvalidTransitionError(
            _("Version %(number)s of '%(slug)s' is not scheduled to go live (it is %(status)s); nothing was changed.")
            % {"number": review.version.number, "slug": review.article.slug, "status": review.get_status_display().lower()}
        )
    review.status = Review.Status.CANCELLED
    review.save(update_fields=["status"])
    audit_record(
        event_type=AuditEvent.Type.VERSION_SCHEDULE_CANCEL, actor=actor, article=review.article, version=review.version,
        details={"review": review.pk, "go_live_at": review.go_live_at.isoformat(), "reason": reason.strip()},
    )
    return review


@transaction.atomic
def article_unpublish(*, actor: AbstractBaseUser, article: Article, reason: str) -> Article:
    """Emergency: a knowledge admin withdraws the live version at once, saying why.

    In the same transaction the article leaves search and answers (nothing of it is served, and no
    cached answer can cite it: the cache is keyed on the passages retrieved), and a scheduled
    publication of it is cancelled. It is published again through the normal path: a version is
    submitted and approved (the withdrawn one, or a corrected one).
    """
    _require_knowledge_admin(actor, _("You may not unpublish articles."))
    if not reason.strip():
        raise ApplicationError(_("An emergency unpublish needs a written reason."), code="reason_required")
    article = _lock_article(article)
    withdrawn = article.live_version
    if withdrawn is None:
        raise InvalidTransitionError(_("'%(slug)s' has no live version to unpublish.") % {"slug": article.slug})
    scheduled = Review.objects.select_for_update(of=("self",)).filter(
        article=article, status=Review.Status.SCHEDULED).select_related("version").first()
    if scheduled is not None:
        scheduled.status = Review.Status.CANCELLED
        scheduled.save(update_fields=["status"])
        audit_record(
            event_type=AuditEvent.Type.VERSION_SCHEDULE_CANCEL, actor=actor, article=article, version=scheduled.version,
            details={"review": scheduled.pk, "go_live_at": scheduled.go_live_at.isoformat(),
                     "reason": _("cancelled by the emergency unpublish of v%(number)s") % {"number": withdrawn.number}},
        )
    article.live_version = None
    article.save(update_fields=["live_version", "updated_at"])
    audit_record(
        event_type=AuditEvent.Type.VERSION_UNPUBLISH, actor=actor, article=article, version=withdrawn,
        details={"reason": reason.strip(), "cancelled_scheduled_version": scheduled.version.number if scheduled else None},
    )
    ports.serving().article_unpublished(article=article, version=withdrawn)
    return article
