"""Read-side queries for the admin and dashboards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.models import (
    AuditEvent,
    Flag,
    Notification,
    Publication,
    Review,
    ReviewApproval,
    SettingsChange,
    UserPreferences,
)
from kb.models import Article, ArticleVersion, Space
from verity.core.i18n import supported_language

# Open flags of these reasons put an article's content in doubt (what agents are warned about): with
# TRANSLATION_DRIFT alone it is "out_of_sync", with any other of them "flagged". The one set, used by
# search results, the desktop, answers' warnings and content health.
CONTENT_FLAG_REASONS = frozenset({
    Flag.Reason.CHANGE_EVENT, Flag.Reason.AGENT_REPORT, Flag.Reason.CONTRADICTION, Flag.Reason.FEEDBACK,
    Flag.Reason.TRANSLATION_DRIFT, Flag.Reason.SOURCE_DELETED,
})
OUT_OF_SYNC_REASONS = frozenset({Flag.Reason.TRANSLATION_DRIFT})
FLAGGED_REASONS = CONTENT_FLAG_REASONS - OUT_OF_SYNC_REASONS


# An agent's report its owner has not confirmed yet: listed among an article's open reasons under this
# key instead of AGENT_REPORT, so agents see it as "reported" while the state stays what it was.
UNCONFIRMED_REPORT = "reported"


def unconfirmed_report_q(prefix: str = "") -> Q:
    """Open flags that are an agent's report not yet confirmed by the owner (`prefix`: a relation path)."""
    return Q(**{f"{prefix}reason": Flag.Reason.AGENT_REPORT, f"{prefix}confirmed_at__isnull": True})


def article_state(article: Article, open_reasons: set[str], *, now: dt.datetime) -> str:
    """The agent-facing state of an article: `flagged`, `out_of_sync`, `review_due` or `current`
    (shared/interfaces.md), from its open flags' reasons and its review date. An unconfirmed agent
    report (UNCONFIRMED_REPORT) does not change it."""
    if open_reasons & FLAGGED_REASONS:
        return "flagged"
    if open_reasons & OUT_OF_SYNC_REASONS:
        return "out_of_sync"
    if article.is_review_due(now):
        return "review_due"
    return "current"


def open_flag_reasons(article_ids: list[int] | set[int]) -> dict[int, set[str]]:
    """The reasons of each article's open flags (articles without any are left out); an agent's report
    its owner has not confirmed counts as UNCONFIRMED_REPORT."""
    reasons: dict[int, set[str]] = {}
    rows = Flag.objects.filter(article_id__in=list(article_ids), state=Flag.State.OPEN).values_list(
        "article_id", "reason", "confirmed_at")
    for article_id, reason, confirmed_at in rows:
        if reason == Flag.Reason.AGENT_REPORT and confirmed_at is None:
            reason = UNCONFIRMED_REPORT
        reasons.setdefault(article_id, set()).add(reason)
    return reasons


def can_log_in(user: AbstractBaseUser) -> bool:
    """Whether a person can sign in to see their inbox: active, with a usable password."""
    return bool(user.is_active and user.password and user.has_usable_password())


def _without_login_q(prefix: str = "") -> Q:
    return (Q(**{f"{prefix}is_active": False}) | Q(**{f"{prefix}password": ""})
            | Q(**{f"{prefix}password__startswith": UNUSABLE_PASSWORD_PREFIX}))


def is_knowledge_admin(user: AbstractBaseUser) -> bool:
    return bool(user.is_active and user.has_perm("kb.change_space"))


def knowledge_admins() -> QuerySet:
    """The knowledge admins who can log in: they receive the flags of owners who cannot.

    Knowledge admins are not assigned per space: every one of them is each space's knowledge admin.
    """
    permission = Permission.objects.filter(content_type__app_label="kb", codename="change_space")
    return (
        get_user_model().objects.filter(
            Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission),
        )
        .exclude(_without_login_q()).distinct().order_by("pk")
    )


def flags_inbox_q(user: AbstractBaseUser) -> Q:
    """The flags in a person's inbox: their own, and for knowledge admins those of owners who cannot log in."""
    mine = Q(owner=user)
    if is_knowledge_admin(user):
        mine |= _without_login_q("owner__")
    return mine


def articles_with_state() -> QuerySet[Article]:
    """Articles annotated with what the state badges need, in one query."""
    open_reviews = Review.objects.filter(article=OuterRef("pk"), status=Review.Status.IN_REVIEW)
    scheduled = Review.objects.filter(article=OuterRef("pk"), status=Review.Status.SCHEDULED)
    unpublished = AuditEvent.objects.filter(
        article_id=OuterRef("pk"), event_type=AuditEvent.Type.VERSION_UNPUBLISH).order_by("-created_at")
    return Article.objects.select_related("space", "owner", "live_version", "latest_version").annotate(
        has_open_review=Exists(open_reviews),
        open_flag_count=Count("flags", filter=Q(flags__state=Flag.State.OPEN) & ~unconfirmed_report_q("flags__"), distinct=True),
        open_report_count=Count("flags", filter=Q(flags__state=Flag.State.OPEN) & unconfirmed_report_q("flags__"), distinct=True),
        scheduled_go_live_at=Subquery(scheduled.values("go_live_at")[:1]),
        scheduled_version_number=Subquery(scheduled.values("version__number")[:1]),
        unpublished_at=Subquery(unpublished.values("created_at")[:1]),
        unpublished_version_id=Subquery(unpublished.values("version_id")[:1]),
    )


def scheduled_publication(article: Article) -> Review | None:
    """The approved version of this article waiting for its go-live time, if any."""
    return (
        Review.objects.filter(article=article, status=Review.Status.SCHEDULED)
        .select_related("version", "version__author").prefetch_related("approvals__approver").first()
    )


def last_unpublish(article: Article) -> AuditEvent | None:
    """The emergency unpublish that took the article out of service, while it is not published again."""
    if article.live_version_id is not None:
        return None
    return AuditEvent.objects.filter(article_id=article.pk, event_type=AuditEvent.Type.VERSION_UNPUBLISH).first()


@dataclass(frozen=True)
class GoLiveChoice:
    """A moment an approver may choose for a version to go live."""

    key: str
    label: str
    at: dt.datetime | None  # None: at once


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def go_live_choices(article: Article, *, now: dt.datetime | None = None) -> list[GoLiveChoice]:
    """When the version in review may go live: now, at the start of the article's future `valid_from`,
    or at the start of the effective date of a future change that flagged it (a date the approver picks
    is the other choice, see the admin)."""
    now = now or timezone.now()
    choices = [GoLiveChoice("now", _("now, with the approval"), None)]
    if article.valid_from and _start_of(article.valid_from) > now:
        choices.append(GoLiveChoice(
            "valid_from", _("on the article's valid-from date, %(date)s 00:00") % {"date": f"{article.valid_from:%Y-%m-%d}"},
            _start_of(article.valid_from)))
    events = {flag.change_event for flag in Flag.objects.filter(article=article, state=Flag.State.OPEN,
                                                                change_event__isnull=False).select_related("change_event")}
    for event in sorted(events, key=lambda event: (event.effective_date, event.pk)):
        if _start_of(event.effective_date) > now:
            choices.append(GoLiveChoice(
                f"change-{event.pk}",
                _("on the effective date of the change “%(title)s”, %(date)s 00:00")
                % {"title": event.title, "date": f"{event.effective_date:%Y-%m-%d}"},
                _start_of(event.effective_date)))
    return choices


def _users_with_permission(app_label: str, codename: str) -> QuerySet:
    """Active people who hold a permission (through a group, directly, or as superusers) and can sign in."""
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        get_user_model().objects.filter(
            Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission),
        )
        .exclude(_without_login_q()).distinct().order_by("username")
    )


def review_deciders(review: Review) -> QuerySet:
    """Who may decide this review now: approvers who can sign in, not the version's author, not whoever
    approved an earlier step (the four-eyes rules of governance.services.reviews)."""
    return (
        _users_with_permission("kb", "approve_version")
        .exclude(pk=review.version.author_id)
        .exclude(pk__in=ReviewApproval.objects.filter(review=review).values("approver_id"))
    )


def settings_change_deciders(change: SettingsChange) -> QuerySet:
    """Who may decide this settings change now: approvers other than its proposer and its first approver."""
    people = _users_with_permission("kb", "approve_version").exclude(pk=change.proposed_by_id)
    return people.exclude(pk=change.first_approver_id) if change.first_approver_id else people


def can_decide_review(user: AbstractBaseUser, review: Review | None) -> bool:
    """Whether `user` may approve or send back this open review (the buttons; the services check again)."""
    return bool(
        review is not None and review.status == Review.Status.IN_REVIEW and user.is_active
        and user.has_perm("kb.approve_version") and review.version.author_id != user.pk
        and not any(approval.approver_id == user.pk for approval in review.approvals.all())
    )


def can_assign_reviewer(user: AbstractBaseUser, review: Review | None) -> bool:
    """The submitter and approvers may ask an approver to review an open review."""
    return bool(
        review is not None and review.status == Review.Status.IN_REVIEW and user.is_active
        and (review.submitted_by_id == user.pk or user.has_perm("kb.approve_version"))
    )


def reviews_awaiting(user: AbstractBaseUser) -> QuerySet[Review]:
    """Open reviews this person may decide, the ones assigned to them first, then the oldest first."""
    if not (user.is_active and user.has_perm("kb.approve_version")):
        return Review.objects.none()
    return (
        Review.objects.filter(status=Review.Status.IN_REVIEW)
        .exclude(version__author=user)
        .exclude(Exists(ReviewApproval.objects.filter(review=OuterRef("pk"), approver=user)))
        .select_related("article", "article__space", "article__live_version", "version", "version__author",
                        "submitted_by", "assignee")
        .prefetch_related("approvals__approver")
        .annotate(assigned_to_me=Case(When(assignee=user, then=Value(1)), default=Value(0)))
        .order_by("-assigned_to_me", "submitted_at", "pk")
    )


def settings_changes_awaiting(user: AbstractBaseUser) -> QuerySet[SettingsChange]:
    """Pending settings changes this person may decide, oldest first."""
    if not (user.is_active and user.has_perm("kb.approve_version")):
        return SettingsChange.objects.none()
    return (
        SettingsChange.objects.filter(status=SettingsChange.Status.PENDING)
        .exclude(proposed_by=user).exclude(first_approver=user)
        .select_related("article", "article__space", "proposed_by", "first_approver")
        .order_by("proposed_at", "pk")
    )


def reviews_sent_back(user: AbstractBaseUser) -> QuerySet[Review]:
    """The person's versions sent back with changes requested, while nothing newer was submitted."""
    newer = Review.objects.filter(article=OuterRef("article"), submitted_at__gt=OuterRef("submitted_at"))
    return (
        Review.objects.filter(status=Review.Status.CHANGES_REQUESTED, version__author=user)
        .exclude(Exists(newer))
        .select_related("article", "version", "decided_by")
        .order_by("-decided_at")
    )


def inbox_count(user: AbstractBaseUser) -> int:
    """How many decisions await this person: the "3 to review" in every admin page's header."""
    if not (user.is_active and user.has_perm("kb.approve_version")):
        return 0
    return reviews_awaiting(user).count() + settings_changes_awaiting(user).count()


def changes_requested_review(article: Article) -> Review | None:
    """The article's latest review when it was sent back: its comment is shown on the article until the
    author submits again."""
    latest = (
        Review.objects.filter(article=article).select_related("version", "decided_by")
        .order_by("-submitted_at", "-pk").first()
    )
    return latest if latest is not None and latest.status == Review.Status.CHANGES_REQUESTED else None


def notifications_for(user: AbstractBaseUser, *, limit: int = 30) -> list[Notification]:
    """The person's notifications, unread first, then newest first."""
    return list(
        Notification.objects.filter(recipient=user)
        .select_related("article", "version", "actor", "review")
        .order_by(F("read_at").desc(nulls_first=True), "-created_at", "-pk")[:limit]
    )


def unread_notification_count(user: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_text(notification: Notification) -> str:
    """What happened, in the active language (titles and the reviewer's comment as written)."""
    values = {
        "title": notification.article.title, "slug": notification.article.slug,
        "number": notification.version.number if notification.version_id else "",
        "person": _person(notification.actor),
    }
    kind = Notification.Kind
    texts = {
        kind.REVIEW_REQUESTED: _("Version %(number)s of “%(title)s” (%(slug)s) awaits your approval; submitted by "
                                 "%(person)s."),
        kind.SECOND_APPROVAL: _("Version %(number)s of “%(title)s” (%(slug)s) was approved in step 1 by %(person)s "
                                "and awaits a second approver."),
        kind.REVIEW_ASSIGNED: _("%(person)s asked you to review version %(number)s of “%(title)s” (%(slug)s)."),
        kind.CHANGES_REQUESTED: _("%(person)s requested changes to version %(number)s of “%(title)s” (%(slug)s)."),
        kind.VERSION_APPROVED: _("Version %(number)s of “%(title)s” (%(slug)s) was approved by %(person)s."),
        kind.SETTINGS_PROPOSED: _("%(person)s proposed a settings change of “%(title)s” (%(slug)s) that awaits "
                                  "your approval."),
    }
    return texts[notification.kind] % values


def _person(user: AbstractBaseUser | None) -> str:
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()


def articles_awaiting_approval(user: AbstractBaseUser) -> QuerySet[Article]:
    """Articles with an open review or a pending settings change this user may decide: not their own
    version or proposal, not yet approved by them."""
    if not user.has_perm("kb.approve_version"):
        return Article.objects.none()
    reviews = (
        Review.objects.filter(article=OuterRef("pk"), status=Review.Status.IN_REVIEW)
        .exclude(version__author=user)
        .exclude(Exists(ReviewApproval.objects.filter(review=OuterRef("pk"), approver=user)))
    )
    settings_changes = (
        SettingsChange.objects.filter(article=OuterRef("pk"), status=SettingsChange.Status.PENDING)
        .exclude(proposed_by=user).exclude(first_approver=user)
    )
    return Article.objects.filter(Exists(reviews) | Exists(settings_changes))


def pending_settings_change(article: Article) -> SettingsChange | None:
    return (
        SettingsChange.objects.filter(article=article, status=SettingsChange.Status.PENDING)
        .select_related("proposed_by", "first_approver").first()
    )


@dataclass(frozen=True)
class SettingRow:
    field: str
    current: str
    proposed: str

    @property
    def label(self) -> str:
        """The setting's name in the active language."""
        return str(Article._meta.get_field(self.field).verbose_name)


def settings_change_rows(change: SettingsChange) -> list[SettingRow]:
    """A proposed settings change as rows of (setting, current value, proposed value) for people."""
    def label(field: str, value: object) -> str:
        if value in (None, ""):
            return "—"
        model = {"space": Space, "owner": get_user_model(), "translation_of": Article}.get(field)
        if model is not None:
            found = model._default_manager.filter(pk=value).first()
            return str(found) if found else f"#{value}"
        if isinstance(value, list):
            return ", ".join(map(str, value))
        choices = dict(Article._meta.get_field(field).flatchoices)
        return str(choices.get(value, value))

    article = change.article
    rows = []
    for field, proposed in sorted(change.proposed.items()):
        current = getattr(article, f"{field}_id", None) if field in {"space", "owner", "translation_of"} else getattr(article, field)
        if hasattr(current, "isoformat"):
            current = current.isoformat()
        rows.append(SettingRow(field, label(field, current), label(field, proposed)))
    return rows


@dataclass(frozen=True)
class Badge:
    key: str
    label: str


def article_badges(article: Article, *, now: dt.datetime | None = None) -> list[Badge]:
    """State badges: live, draft pending, in review, due, expired, not yet valid, flagged."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    badges: list[Badge] = []
    has_open_review = getattr(article, "has_open_review", None)
    if has_open_review is None:
        has_open_review = Review.objects.filter(article=article, status=Review.Status.IN_REVIEW).exists()
    if article.live_version_id:
        badges.append(Badge("live", _("live v%(number)s") % {"number": article.live_version.number}))
    elif _unpublished_at(article) is not None:
        badges.append(Badge("withdrawn", _("withdrawn %(date)s") % {
            "date": f"{timezone.localtime(_unpublished_at(article)):%Y-%m-%d}"}))
    else:
        badges.append(Badge("unpublished", _("not published")))
    if has_open_review:
        badges.append(Badge("in-review", _("in review")))
    elif (go_live := _scheduled(article)) is not None:
        badges.append(Badge("scheduled", _("v%(number)s goes live on %(when)s") % {
            "number": go_live[1], "when": f"{timezone.localtime(go_live[0]):%Y-%m-%d %H:%M}"}))
    elif article.has_unpublished_version and not _is_withdrawn_latest(article):
        badges.append(Badge("draft", _("draft v%(number)s pending") % {"number": article.latest_version.number}))
    if article.is_expired(today):
        badges.append(Badge("expired", _("expired %(date)s") % {"date": f"{article.valid_until:%Y-%m-%d}"}))
    elif article.is_not_yet_valid(today):
        badges.append(Badge("not-yet-valid", _("valid from %(date)s") % {"date": f"{article.valid_from:%Y-%m-%d}"}))
    if article.live_version_id and article.is_review_due(now):
        badges.append(Badge("due", _("review due")))
    flags = getattr(article, "open_flag_count", None)
    if flags is None:
        flags = article.flags.filter(state=Flag.State.OPEN).exclude(unconfirmed_report_q()).count()
    if flags:
        badges.append(Badge("flagged", ngettext("%(count)s open flag", "%(count)s open flags", flags) % {"count": flags}))
    reports = getattr(article, "open_report_count", None)
    if reports is None:
        reports = article.flags.filter(unconfirmed_report_q(), state=Flag.State.OPEN).count()
    if reports:
        badges.append(Badge("reported", ngettext("%(count)d report to confirm", "%(count)d reports to confirm", reports)
                            % {"count": reports}))
    return badges


def _scheduled(article: Article) -> tuple[dt.datetime, int] | None:
    """(go-live time, version number) of the article's scheduled publication, from the list's annotation if there."""
    if hasattr(article, "scheduled_go_live_at"):
        if article.scheduled_go_live_at is None:
            return None
        return article.scheduled_go_live_at, article.scheduled_version_number
    review = Review.objects.filter(article=article, status=Review.Status.SCHEDULED).select_related("version").first()
    return (review.go_live_at, review.version.number) if review else None


def _is_withdrawn_latest(article: Article) -> bool:
    """The latest version is the one withdrawn by an emergency unpublish (no draft: it was live)."""
    if _unpublished_at(article) is None:
        return False
    if hasattr(article, "unpublished_version_id"):
        return article.unpublished_version_id == article.latest_version_id
    event = last_unpublish(article)
    return event is not None and event.version_id == article.latest_version_id


def _unpublished_at(article: Article) -> dt.datetime | None:
    if article.live_version_id is not None:
        return None
    if hasattr(article, "unpublished_at"):
        return article.unpublished_at
    event = last_unpublish(article)
    return event.created_at if event else None


@dataclass(frozen=True)
class VersionRow:
    version: ArticleVersion
    status: str
    is_live: bool


def version_history(article: Article) -> list[VersionRow]:
    """All versions, newest first, each with its workflow status."""
    latest_review: dict[int, Review] = {}
    for review in Review.objects.filter(article=article).order_by("submitted_at"):
        latest_review[review.version_id] = review
    published = set(Publication.objects.filter(article=article).values_list("version_id", flat=True))
    rows = []
    for version in article.versions.select_related("author").order_by("-number"):
        review = latest_review.get(version.pk)
        if version.pk == article.live_version_id:
            status = _("live")
        elif review is not None and review.status == Review.Status.SCHEDULED:
            status = _("approved, goes live on %(when)s") % {"when": f"{timezone.localtime(review.go_live_at):%Y-%m-%d %H:%M}"}
        elif review is not None:
            status = str(review.get_status_display())
            if review.status == Review.Status.APPROVED:
                status = _("published earlier")
        elif article.live_version_id and version.number < article.live_version.number:
            status = _("superseded")
        elif version.pk in published:
            status = _("published earlier")
        else:
            status = _("draft")
        rows.append(VersionRow(version, status, version.pk == article.live_version_id))
    return rows


def article_audit_events(article: Article, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(article_id=article.pk).select_related("version")[:limit]


def open_review(article: Article) -> Review | None:
    return (
        Review.objects.filter(article=article, status=Review.Status.IN_REVIEW)
        .select_related("version", "version__author", "submitted_by", "assignee")
        .prefetch_related("approvals__approver")
        .first()
    )


@dataclass(frozen=True)
class HealthRow:
    label: str
    total: int
    current: int
    due: int
    expired: int
    flagged: int
    out_of_sync: int

    def share(self, count: int) -> str:
        return f"{100 * count / self.total:.0f} %" if self.total else "–"

    @property
    def shares(self) -> dict[str, str]:
        return {name: self.share(getattr(self, name)) for name in ("current", "due", "expired", "flagged", "out_of_sync")}


def content_health(group_by: str, *, now: dt.datetime | None = None) -> list[HealthRow]:
    """Per space or owner: how many live articles are current, due, expired, flagged or out of sync.

    An article counts once in each state it is in; "current" means in none of them.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    open_flags = Flag.objects.filter(article=OuterRef("pk"), state=Flag.State.OPEN)
    articles = Article.objects.filter(live_version__isnull=False).annotate(
        is_flagged=Exists(open_flags.filter(reason__in=FLAGGED_REASONS).exclude(unconfirmed_report_q())),
        is_out_of_sync=Exists(open_flags.filter(reason__in=OUT_OF_SYNC_REASONS)),
    )
    key = {"space": "space__name", "owner": "owner__username"}[group_by]
    rows: dict[str, dict[str, int]] = {}
    for label, due_at, valid_until, flagged, out_of_sync in articles.values_list(key, "review_due_at", "valid_until", "is_flagged", "is_out_of_sync"):
        row = rows.setdefault(label, {"total": 0, "current": 0, "due": 0, "expired": 0, "flagged": 0, "out_of_sync": 0})
        due = due_at <= now
        expired = valid_until is not None and valid_until <= today
        row["total"] += 1
        row["due"] += due
        row["expired"] += expired
        row["flagged"] += flagged
        row["out_of_sync"] += out_of_sync
        row["current"] += not (due or expired or flagged or out_of_sync)
    result = [HealthRow(label, **counts) for label, counts in sorted(rows.items())]
    if result:
        totals = {field: sum(getattr(row, field) for row in result) for field in ("total", "current", "due", "expired", "flagged", "out_of_sync")}
        result.append(HealthRow(_("All"), **totals))
    return result


def user_language(user: AbstractBaseUser) -> str:
    """The language to write to this person in (e-mails): the one they last used Verity in, else the default."""
    chosen = UserPreferences.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return supported_language(chosen or settings.LANGUAGE_CODE)


# The keys of audit events' details, named for people (the details themselves stay machine-readable).
AUDIT_DETAIL_LABELS = {
    "review": gettext_lazy("review"), "required_approvals": gettext_lazy("approvals required"),
    "step": gettext_lazy("step"), "comment": gettext_lazy("comment"),
    "previous_version": gettext_lazy("previous version"), "based_on": gettext_lazy("based on version"),
    "change_note": gettext_lazy("change note"), "restored_version": gettext_lazy("restored version"),
    "replaced_version": gettext_lazy("replaced version"), "note": gettext_lazy("note"),
    "previous_due": gettext_lazy("previously due"), "next_due": gettext_lazy("next due"),
    "flag": gettext_lazy("flag"), "reason": gettext_lazy("reason"), "summary": gettext_lazy("what is wrong"),
    "changed": gettext_lazy("changed"), "settings_change": gettext_lazy("settings change"),
    "proposed_by": gettext_lazy("proposed by"), "applied": gettext_lazy("applied"),
    "title": gettext_lazy("title"), "locale": gettext_lazy("language"), "audience": gettext_lazy("audience"),
    "kind": gettext_lazy("kind"), "file": gettext_lazy("file"), "outcome": gettext_lazy("outcome"),
    "approved_by": gettext_lazy("approved by"), "new_version": gettext_lazy("new version"),
    "changed_settings": gettext_lazy("changed settings"), "change": gettext_lazy("change"),
    "effective_date": gettext_lazy("effective date"), "flagged": gettext_lazy("flagged articles"),
    "assignee": gettext_lazy("assigned reviewer"), "previous_assignee": gettext_lazy("previously assigned"),
    "ms": gettext_lazy("ms"), "status": gettext_lazy("status"), "error": gettext_lazy("error"),
}


# Details that are text someone wrote (a comment, a flag's reason, a note): shown as written, in the article's
# language, not the reader's.
PROSE_DETAIL_KEYS = frozenset({"comment", "note", "change_note", "summary"})


# Details that are the id of another record (a review, a flag, ...): shown as "#12".
REFERENCE_DETAIL_KEYS = frozenset({"review", "flag", "settings_change", "change"})


@dataclass(frozen=True)
class AuditDetail:
    label: str
    value: str
    prose: bool


def audit_details(event: AuditEvent) -> list[AuditDetail]:
    """An audit event's details for people: keys named in the active language, settings and their values by
    their names (choices by their labels), flag reasons by their labels; empty values left out."""
    rows = []
    details = event.details
    for key, value in details.items():
        if value in (None, "", [], {}) or (key == "of" and "step" in details):
            continue
        if key == "step" and details.get("of"):
            value = _("%(step)s of %(of)s") % {"step": value, "of": details["of"]}
        elif key in REFERENCE_DETAIL_KEYS and isinstance(value, int):
            value = f"#{value}"
        elif key == "changed" and isinstance(value, dict) and all(
            isinstance(pair, list) and len(pair) == 2 for pair in value.values()
        ):
            value = "; ".join(f"{_setting_label(field)}: {_setting_value(field, old)} → {_setting_value(field, new)}"
                              for field, (old, new) in value.items())
        elif key == "changed_settings" and isinstance(value, list):
            value = ", ".join(_setting_label(field) for field in value)
        elif key == "reason" and value in Flag.Reason.values:
            value = Flag.Reason(value).label
        elif key in {"kind", "audience"}:
            value = _setting_value(key, value)
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        rows.append(AuditDetail(str(AUDIT_DETAIL_LABELS.get(key, key)), _plain(value), key in PROSE_DETAIL_KEYS))
    return rows


def _setting_value(field: str, value: object) -> str:
    try:
        choices = dict(Article._meta.get_field(field).flatchoices)
    except FieldDoesNotExist:
        choices = {}
    return _plain(choices.get(value, value) if isinstance(value, str) else value)


def _setting_label(field: str) -> str:
    try:
        return str(Article._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a setting that no longer exists keeps its key
        return field


def _plain(value: object) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
