"""The review workflow of a version: submit, approve (four-eyes), request changes, withdraw, publish."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports, selectors
from governance.models import AuditEvent, Flag, Notification, Publication, Review, ReviewApproval
from governance.services.articles import block_references_check
from governance.services.base import (
    _lock_article,
    _open_review,
    _require_perm,
    _scheduled_review,
    article_language,
    audit_record,
    local_minute,
)
from governance.services.flags import CONTENT_FLAG_REASONS, _flags_resolve, flag_raise
from governance.services.notifications import notifications_settle, notify
from kb import blocks
from kb.models import Article, ArticleVersion
from verity.core.errors import (
    ApplicationError,
    InvalidTransitionError,
    PermissionDeniedError,
)


@transaction.atomic
def version_submit(*, actor: AbstractBaseUser, version: ArticleVersion) -> Review:
    """Submit the latest draft version of an article for review."""
    _require_perm(actor, "kb.add_articleversion", _("You may not submit versions for review."))
    article = _lock_article(version.article)
    if article.latest_version_id != version.pk:
        raise InvalidTransitionError(
            _("Only the latest version (v%(latest)s) can be submitted, not v%(number)s.")
            % {"latest": article.latest_version.number, "number": version.number}
        )
    if article.live_version_id == version.pk:
        raise InvalidTransitionError(_("Version %(number)s is already published.") % {"number": version.number})
    if _open_review(article):
        raise InvalidTransitionError(_("“%(slug)s” already has a version in review.") % {"slug": article.slug})
    if scheduled := _scheduled_review(article):
        raise InvalidTransitionError(
            _("Version %(number)s of '%(slug)s' is approved and goes live on %(when)s; another version can be "
              "submitted once it is live, or after a knowledge admin cancels that publication.")
            % {"number": scheduled.version.number, "slug": article.slug, "when": local_minute(scheduled.go_live_at)},
            code="publication_scheduled",
        )
    required = 2 if article.space.requires_extra_approval else 1
    try:
        with transaction.atomic():
            review = Review.objects.create(
                article=article, version=version, submitted_by=actor, required_approvals=required
            )
    except IntegrityError as error:
        raise InvalidTransitionError(_("“%(slug)s” already has a version in review.") % {"slug": article.slug}) from error
    audit_record(
        event_type=AuditEvent.Type.VERSION_SUBMIT, actor=actor, article=article, version=version,
        details={"review": review.pk, "required_approvals": required},
    )
    notify(recipients=selectors.review_deciders(review), kind=Notification.Kind.REVIEW_REQUESTED, actor=actor,
           review=review)
    return review


def _lock_open_review(review: Review) -> Review:
    review = Review.objects.select_for_update(of=("self",)).select_related("version", "article").get(pk=review.pk)
    if review.status != Review.Status.IN_REVIEW:
        raise InvalidTransitionError(
            _("This review of version %(number)s was already decided (%(status)s); nothing was changed.")
            % {"number": review.version.number, "status": review.get_status_display()}
        )
    return review


def _require_four_eyes(actor: AbstractBaseUser, review: Review, refusal: str) -> None:
    """`refusal` names the version's number as %(number)s."""
    if actor.pk == review.version.author_id:
        raise PermissionDeniedError(refusal % {"number": review.version.number}, code="four_eyes")


@transaction.atomic
def version_approve(
    *, actor: AbstractBaseUser, review: Review, comment: str = "", go_live_at: dt.datetime | None = None,
) -> Review:
    """Approve a review step; the last required approval publishes exactly the reviewed version.

    With `go_live_at` (a future moment, chosen with the last approval) the version is approved now and
    scheduled: until then the article is served as before, and the beat task publications_publish_due
    publishes it at that time, exactly as an approval would.
    """
    _require_perm(actor, "kb.approve_version", _("You may not approve versions."))
    review = _lock_open_review(review)
    _require_four_eyes(actor, review, _(
        "You wrote version %(number)s and may not approve it yourself: another approver must (four-eyes rule)."
    ))
    # a block the version uses may have been unpublished, or made internal, since it was saved
    block_references_check(article=review.article, body=review.version.body)
    if review.approvals.filter(approver=actor).exists():
        raise PermissionDeniedError(
            _("You already approved step 1; the extra approval step needs a different approver."),
            code="same_approver",
        )
    step = review.approvals.count() + 1
    if go_live_at is not None:
        _check_go_live_at(go_live_at, last_step=step >= review.required_approvals)
    ReviewApproval.objects.create(review=review, approver=actor, step=step, comment=comment)
    details: dict[str, Any] = {"review": review.pk, "step": step, "of": review.required_approvals, "comment": comment}
    if go_live_at is not None:
        details["go_live_at"] = go_live_at.isoformat()
    audit_record(
        event_type=AuditEvent.Type.VERSION_APPROVE, actor=actor, article=review.article, version=review.version,
        details=details,
    )
    if step < review.required_approvals:
        if review.assignee_id == actor.pk:  # the assignee gave step 1: step 2 needs someone else, unassigned
            review.assignee, review.assigned_at = None, None
            review.save(update_fields=["assignee", "assigned_at"])
        notifications_settle(review=review)
        notify(recipients=selectors.review_deciders(review), kind=Notification.Kind.SECOND_APPROVAL, actor=actor,
               review=review)
    else:
        review.decided_at = timezone.now()
        review.decided_by = actor
        notifications_settle(review=review)
        notify(recipients=[review.version.author, review.submitted_by], kind=Notification.Kind.VERSION_APPROVED,
               actor=actor, review=review, comment=comment.strip())
        if go_live_at is None:
            review.status = Review.Status.APPROVED
            review.save(update_fields=["status", "decided_at", "decided_by"])
            version_publish(actor=actor, version=review.version)
        else:
            article = _lock_article(review.article)  # serialised with submit and unpublish of this article
            review.status = Review.Status.SCHEDULED
            review.go_live_at = go_live_at
            review.save(update_fields=["status", "decided_at", "decided_by", "go_live_at"])
            audit_record(
                event_type=AuditEvent.Type.VERSION_SCHEDULE, actor=actor, article=article, version=review.version,
                details={"review": review.pk, "go_live_at": go_live_at.isoformat(),
                         "live_version": article.live_version.number if article.live_version_id else None},
            )
    return review


def _check_go_live_at(go_live_at: dt.datetime, *, last_step: bool) -> None:
    if timezone.is_naive(go_live_at):
        raise ApplicationError(_("The go-live time needs a time zone."), code="go_live_naive")
    if not last_step:
        raise ApplicationError(
            _("The go-live time is chosen with the last approval; approve this step without one."),
            code="go_live_on_last_step",
        )
    if go_live_at <= timezone.now():
        raise ApplicationError(
            _("The go-live time %(when)s has passed: choose a later time, or publish now.") % {"when": local_minute(go_live_at)},
            code="go_live_passed",
        )


@transaction.atomic
def version_request_changes(*, actor: AbstractBaseUser, review: Review, comment: str) -> Review:
    """Send a version back to its author with a comment; the article stays as it is served."""
    _require_perm(actor, "kb.approve_version", _("You may not request changes to versions."))
    if not comment.strip():
        raise ApplicationError(_("Say what must change: a comment is required."), code="comment_required")
    review = _lock_open_review(review)
    _require_four_eyes(actor, review, _(
        "You wrote version %(number)s and may not review it yourself: another approver must (four-eyes rule)."
    ))
    review.status = Review.Status.CHANGES_REQUESTED
    review.comment = comment.strip()
    review.decided_at = timezone.now()
    review.decided_by = actor
    review.save(update_fields=["status", "comment", "decided_at", "decided_by"])
    audit_record(
        event_type=AuditEvent.Type.VERSION_REQUEST_CHANGES, actor=actor, article=review.article,
        version=review.version, details={"review": review.pk, "comment": review.comment},
    )
    notifications_settle(review=review)
    notify(recipients=[review.version.author, review.submitted_by], kind=Notification.Kind.CHANGES_REQUESTED,
           actor=actor, review=review, comment=review.comment)
    return review


@transaction.atomic
def review_withdraw(*, actor: AbstractBaseUser, review: Review) -> Review:
    """The submitter (or a knowledge admin) takes a version back out of review."""
    review = _lock_open_review(review)
    if actor.pk != review.submitted_by_id and not actor.has_perm("kb.change_space"):
        raise PermissionDeniedError(
            _("Only %(person)s or a knowledge admin may withdraw this review.") % {"person": review.submitted_by}
        )
    review.status = Review.Status.WITHDRAWN
    review.decided_at = timezone.now()
    review.decided_by = actor
    review.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(
        event_type=AuditEvent.Type.VERSION_WITHDRAW, actor=actor, article=review.article,
        version=review.version, details={"review": review.pk},
    )
    notifications_settle(review=review)
    return review


@transaction.atomic
def review_assign(*, actor: AbstractBaseUser, review: Review, assignee: AbstractBaseUser | None) -> Review:
    """Ask one approver to review an open review (None: nobody in particular); they are notified.

    The submitter or an approver assigns. The four-eyes rules hold for the assignee as for any decider:
    never the version's author, never whoever approved step 1, and only someone who may approve.
    """
    review = _lock_open_review(review)
    if not (actor and actor.is_active and (actor.pk == review.submitted_by_id or actor.has_perm("kb.approve_version"))):
        raise PermissionDeniedError(_("Only whoever submitted the version or an approver may assign its review."),
                                    details={"permission": "kb.approve_version"})
    previous = review.assignee
    if assignee is not None:
        name = assignee.get_full_name() or assignee.get_username()
        if assignee.pk == review.version.author_id:
            raise PermissionDeniedError(
                _("%(person)s wrote version %(number)s and may not review it (four-eyes rule).")
                % {"person": name, "number": review.version.number}, code="four_eyes")
        if review.approvals.filter(approver=assignee).exists():
            raise PermissionDeniedError(
                _("%(person)s approved step 1 already; the second step needs a different approver.") % {"person": name},
                code="same_approver")
        if not (assignee.is_active and selectors.can_log_in(assignee) and assignee.has_perm("kb.approve_version")):
            raise ApplicationError(_("%(person)s may not approve versions, so cannot review this one.") % {"person": name},
                                   code="assignee_not_approver")
    if (previous.pk if previous else None) == (assignee.pk if assignee else None):
        raise ApplicationError(_("Nothing changed: the review is already assigned so."), code="no_change")
    review.assignee = assignee
    review.assigned_at = timezone.now() if assignee is not None else None
    review.save(update_fields=["assignee", "assigned_at"])
    audit_record(
        event_type=AuditEvent.Type.REVIEW_ASSIGN, actor=actor, article=review.article, version=review.version,
        details={"review": review.pk, "assignee": assignee.get_username() if assignee else None,
                 "previous_assignee": previous.get_username() if previous else None},
    )
    if assignee is not None:
        notifications_settle(review=review, kinds=[Notification.Kind.REVIEW_ASSIGNED])
        notify(recipients=[assignee], kind=Notification.Kind.REVIEW_ASSIGNED, actor=actor, review=review)
    return review


def version_publish(
    *, actor: AbstractBaseUser | None, version: ArticleVersion, audit: bool = True, audit_details: dict | None = None,
) -> Article:
    """Make `version` the live version. Called by approval, a scheduled publication and import, inside their transaction.

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
            details={"previous_version": previous.number if previous else None, **(audit_details or {})},
        )
    # the serving side (retrieval) makes the version searchable in this same transaction
    ports.serving().article_published(article=article, version=version, previous=previous)
    with article_language(article):
        note = _("Addressed by version %(number)s, reviewed and published.") % {"number": version.number}
    _flags_resolve(article=article, reasons=CONTENT_FLAG_REASONS, actor=actor, version=version, note=note)
    if previous is not None:
        _translations_flag_drift(article=article, previous=previous, version=version)
        if article.is_block:
            _block_users_translations_flag_drift(block=article, previous=previous, version=version)
    return article


def _translations_flag_drift(*, article: Article, previous: ArticleVersion, version: ArticleVersion) -> None:
    """A source's new live version makes each live translation out of sync, with the diff of the source."""
    diff = "\n".join(
        line for line in difflib.unified_diff(
            previous.body.splitlines(), version.body.splitlines(),
            fromfile=f"{article.slug} v{previous.number}", tofile=f"{article.slug} v{version.number}", lineterm="", n=1,
        )
    )
    for translation in article.translations.filter(live_version__isnull=False).select_related("owner"):
        with article_language(translation):
            summary = _("Its source “%(slug)s” (%(locale)s) was updated from v%(old)s to v%(new)s: update this "
                        "translation.") % {"slug": article.slug, "locale": article.locale, "old": previous.number,
                                           "new": version.number}
            title = (_("Title: %(old)s -> %(new)s") % {"old": previous.title, "new": version.title} + "\n"
                     if previous.title != version.title else "")
            if translation.is_block:
                users = list(blocks.articles_using(translation, live_only=True).values_list("slug", flat=True))
                if users:
                    summary += " " + _("Articles using this block: %(slugs)s.") % {"slugs": ", ".join(users)}
        flag_raise(article=translation, reason=Flag.Reason.TRANSLATION_DRIFT, summary=summary,
                   evidence=(title + diff)[:20000])


def _block_users_translations_flag_drift(*, block: Article, previous: ArticleVersion, version: ArticleVersion) -> None:
    """A block's new text changes every article using it; a live translation of such an article that shows
    neither this block nor a translation of it still states the old text: it is out of sync."""
    family = {block.pk, *block.translations.values_list("pk", flat=True)}
    for article in blocks.articles_using(block, live_only=True):
        for translation in article.translations.filter(live_version__isnull=False).select_related("owner"):
            if family & {b.pk for b in blocks.blocks_of(translation.live_version)}:
                continue  # it shows the block (or the block's translation, which is flagged itself)
            with article_language(translation):
                summary = _("Its source “%(source)s” (%(locale)s) uses the content block “%(block)s”, which was updated "
                            "from v%(old)s to v%(new)s: update this translation.") % {
                    "source": article.slug, "locale": article.locale, "block": block.slug,
                    "old": previous.number, "new": version.number}
            evidence = "\n".join(difflib.unified_diff(
                previous.body.splitlines(), version.body.splitlines(),
                fromfile=f"{block.slug} v{previous.number}", tofile=f"{block.slug} v{version.number}", lineterm="", n=1,
            ))
            flag_raise(article=translation, reason=Flag.Reason.TRANSLATION_DRIFT, summary=summary, evidence=evidence[:20000])
