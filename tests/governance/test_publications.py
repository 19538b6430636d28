"""Publishing on the effective date (approved now, live later, by beat), cancelling a scheduled
publication, and the emergency unpublish: the services, the beat task and the admin."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from governance import selectors, services
from governance.imports import kb_import
from governance.models import AuditEvent, ChangeEvent, Flag, Publication, Review
from governance.tasks import publications_publish_due
from kb.models import Article
from verity.celery import app as celery_app
from verity.core.errors import ApplicationError, InvalidTransitionError, PermissionDeniedError

T = AuditEvent.Type
NEW_BODY = "Sie können jederzeit, auch mehrmals im Monat, wechseln."


def _in(**delta) -> dt.datetime:
    return (timezone.now() + dt.timedelta(**delta)).replace(microsecond=0)


@pytest.fixture
def second_version(published_article, author) -> Review:
    """Version 2 of the published article, submitted for review."""
    version = services.version_create(actor=author, article=published_article, title="Tarif wechseln", body=NEW_BODY,
                                      base_version=1)
    return services.version_submit(actor=author, version=version)


@pytest.fixture
def scheduled(second_version, approver) -> Review:
    """Version 2 approved to go live in two hours."""
    return services.version_approve(actor=approver, review=second_version, go_live_at=_in(hours=2))


def _live_number(article: Article) -> int | None:
    fresh = Article.objects.select_related("live_version").get(pk=article.pk)
    return fresh.live_version.number if fresh.live_version else None


# --- scheduling -----------------------------------------------------------------------------------


def test_approving_with_a_go_live_time_schedules_the_version_and_keeps_the_old_one_live(
        published_article, second_version, approver, audit_counts):
    counts = audit_counts()
    go_live_at = _in(hours=2)

    review = services.version_approve(actor=approver, review=second_version, go_live_at=go_live_at)

    review.refresh_from_db()
    assert (review.status, review.go_live_at, review.decided_at is not None) == (Review.Status.SCHEDULED, go_live_at, True)
    assert _live_number(published_article) == 1
    assert Publication.objects.filter(article=published_article).count() == 1
    assert audit_counts() - counts == Counter({T.VERSION_APPROVE: 1, T.VERSION_SCHEDULE: 1})
    event = AuditEvent.objects.get(event_type=T.VERSION_SCHEDULE)
    assert (event.actor, event.version, event.details) == (
        approver, review.version, {"review": review.pk, "go_live_at": go_live_at.isoformat(), "live_version": 1})
    assert selectors.scheduled_publication(published_article) == review


def test_the_beat_task_publishes_the_version_at_its_time_once(published_article, scheduled, audit_counts):
    # before its time the task publishes nothing
    assert publications_publish_due.delay().get() == []
    assert _live_number(published_article) == 1
    counts = audit_counts()

    # a minute after its time, the beat task publishes exactly the approved version
    with time_machine.travel(scheduled.go_live_at + dt.timedelta(minutes=1), tick=False):
        published = publications_publish_due.delay().get()
        again = publications_publish_due.delay().get()

    assert (published, again) == ([scheduled.pk], [])
    scheduled.refresh_from_db()
    article = Article.objects.get(pk=published_article.pk)
    assert (scheduled.status, article.live_version.number, article.live_version.body) == (
        Review.Status.APPROVED, 2, NEW_BODY + "\n")
    assert Publication.objects.filter(article=article, version=scheduled.version).count() == 1
    assert audit_counts() - counts == Counter({T.VERSION_PUBLISH: 1})
    event = AuditEvent.objects.filter(event_type=T.VERSION_PUBLISH).first()
    assert (event.actor_label, event.version, event.created_at) == ("system", scheduled.version,
                                                                     scheduled.go_live_at + dt.timedelta(minutes=1))
    assert event.details == {"previous_version": 1, "review": scheduled.pk, "scheduled": True,
                             "go_live_at": scheduled.go_live_at.isoformat(), "approved_by": ["clara"]}


def test_publishing_on_time_resolves_flags_like_an_approval(published_article, scheduled):
    flag = services.flag_raise(article=published_article, reason=Flag.Reason.AGENT_REPORT, summary="Frist falsch")

    services.publications_publish_due(now=scheduled.go_live_at)

    flag.refresh_from_db()
    assert (flag.state, flag.resolved_by_version) == (Flag.State.RESOLVED, scheduled.version)


@pytest.mark.parametrize("when, code", [
    (lambda: _in(minutes=-1), "go_live_passed"),
    (lambda: dt.datetime(2030, 1, 1, 8, 0), "go_live_naive"),  # noqa: DTZ001 - refused: no time zone
])
def test_a_go_live_time_that_passed_or_has_no_time_zone_is_refused(second_version, approver, article_state, when, code):
    before = article_state(second_version.article)

    with pytest.raises(ApplicationError) as refused:
        services.version_approve(actor=approver, review=second_version, go_live_at=when())

    assert refused.value.code == code
    assert article_state(second_version.article) == before


def test_with_two_approvals_the_go_live_time_comes_with_the_second(
        make_article, sensitive_space, author, approver, approver2, article_state):
    article = make_article("widerruf", space=sensitive_space)
    review = services.version_submit(actor=author, version=article.latest_version)
    before = article_state(article)

    with pytest.raises(ApplicationError) as refused:
        services.version_approve(actor=approver, review=review, go_live_at=_in(days=1))
    assert refused.value.code == "go_live_on_last_step"
    assert article_state(article) == before

    services.version_approve(actor=approver, review=review)
    review = services.version_approve(actor=approver2, review=review, go_live_at=_in(days=1))

    assert review.status == Review.Status.SCHEDULED
    assert _live_number(article) is None


def test_while_a_version_is_scheduled_drafts_may_be_saved_but_not_submitted(published_article, scheduled, author):
    draft = services.version_create(actor=author, article=published_article, title="Tarif wechseln",
                                    body="Noch eine Änderung.", base_version=2)

    with pytest.raises(InvalidTransitionError) as refused:
        services.version_submit(actor=author, version=draft)

    assert refused.value.code == "publication_scheduled"
    assert Review.objects.filter(article=published_article, status=Review.Status.IN_REVIEW).count() == 0
    # at its time the scheduled version goes live; the draft stays the latest version
    services.publications_publish_due(now=scheduled.go_live_at)
    article = Article.objects.get(pk=published_article.pk)
    assert (article.live_version.number, article.latest_version.number) == (2, 3)


def test_an_import_does_not_overwrite_an_article_with_a_scheduled_publication(tmp_path, db, approver):
    folder = tmp_path / "kb"
    folder.mkdir()
    text = "---\nslug: hotline\ntitle: Hotline\nlocale: de\nspace: service\nowner: jonas@example.com\n---\nRufen Sie {}an.\n"
    (folder / "hotline.md").write_text(text.format(""), encoding="utf-8")
    kb_import(folder=folder)
    article = Article.objects.get(slug="hotline")
    author = article.owner
    author.set_password("pw")
    author.save()
    version = services.version_create(actor=author, article=article, title="Hotline", body="Rufen Sie uns an.",
                                      base_version=1)
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=version),
                             go_live_at=_in(days=3))
    (folder / "hotline.md").write_text(text.format("heute "), encoding="utf-8")

    report = kb_import(folder=folder)

    assert "scheduled to go live" in str(report.errors[0])
    assert (_live_number(article), Article.objects.get(pk=article.pk).latest_version.number) == (1, 2)


# --- cancelling -----------------------------------------------------------------------------------


def test_only_a_knowledge_admin_cancels_a_scheduled_publication(scheduled, approver, author):
    for person in (approver, author):
        with pytest.raises(PermissionDeniedError):
            services.publication_cancel(actor=person, review=scheduled)
    scheduled.refresh_from_db()
    assert scheduled.status == Review.Status.SCHEDULED


def test_a_cancelled_publication_never_goes_live_and_the_version_can_be_submitted_again(
        published_article, scheduled, admin_user_role, author, audit_counts):
    counts = audit_counts()

    services.publication_cancel(actor=admin_user_role, review=scheduled, reason="Termin verschoben")

    scheduled.refresh_from_db()
    assert scheduled.status == Review.Status.CANCELLED
    assert audit_counts() - counts == Counter({T.VERSION_SCHEDULE_CANCEL: 1})
    assert AuditEvent.objects.get(event_type=T.VERSION_SCHEDULE_CANCEL).details == {
        "review": scheduled.pk, "go_live_at": scheduled.go_live_at.isoformat(), "reason": "Termin verschoben"}
    assert services.publications_publish_due(now=scheduled.go_live_at + dt.timedelta(days=1)) == []
    assert _live_number(published_article) == 1
    with pytest.raises(InvalidTransitionError):
        services.publication_cancel(actor=admin_user_role, review=scheduled)
    review = services.version_submit(actor=author, version=scheduled.version)
    assert review.status == Review.Status.IN_REVIEW


# --- emergency unpublish --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_emergency_unpublish_needs_a_written_reason(published_article, admin_user_role, article_state, reason):
    before = article_state(published_article)

    with pytest.raises(ApplicationError) as refused:
        services.article_unpublish(actor=admin_user_role, article=published_article, reason=reason)

    assert refused.value.code == "reason_required"
    assert article_state(published_article) == before


def test_only_knowledge_admins_unpublish(published_article, approver, author, article_state):
    before = article_state(published_article)
    for person in (approver, author):
        with pytest.raises(PermissionDeniedError):
            services.article_unpublish(actor=person, article=published_article, reason="falsch")
    assert article_state(published_article) == before


def test_unpublishing_withdraws_the_live_version_at_once_audited_and_cancels_a_schedule(
        published_article, scheduled, admin_user_role, audit_counts):
    counts = audit_counts()

    services.article_unpublish(actor=admin_user_role, article=published_article, reason="Preis ist falsch, Rechtsrisiko")

    article = Article.objects.get(pk=published_article.pk)
    assert (article.live_version_id, article.latest_version.number) == (None, 2)
    assert not Article.objects.servable(["public", "internal"], on=timezone.localdate()).filter(pk=article.pk).exists()
    assert audit_counts() - counts == Counter({T.VERSION_UNPUBLISH: 1, T.VERSION_SCHEDULE_CANCEL: 1})
    event = AuditEvent.objects.get(event_type=T.VERSION_UNPUBLISH)
    assert (event.actor, event.version.number, event.details) == (
        admin_user_role, 1, {"reason": "Preis ist falsch, Rechtsrisiko", "cancelled_scheduled_version": 2})
    scheduled.refresh_from_db()
    assert scheduled.status == Review.Status.CANCELLED
    assert services.publications_publish_due(now=scheduled.go_live_at) == []
    assert [badge.key for badge in selectors.article_badges(article)][:2] == ["withdrawn", "draft"]
    with pytest.raises(InvalidTransitionError):
        services.article_unpublish(actor=admin_user_role, article=article, reason="noch einmal")


def test_an_unpublished_article_is_published_again_through_a_normal_review(
        published_article, admin_user_role, author, approver):
    services.article_unpublish(actor=admin_user_role, article=published_article, reason="falsch")
    article = Article.objects.get(pk=published_article.pk)

    review = services.version_submit(actor=author, version=article.latest_version)
    with pytest.raises(PermissionDeniedError):
        services.version_approve(actor=author, review=review)  # four-eyes, as always
    services.version_approve(actor=approver, review=review)

    assert _live_number(article) == 1
    assert selectors.last_unpublish(Article.objects.get(pk=article.pk)) is None


# --- beat and admin -------------------------------------------------------------------------------


def test_the_scheduled_publications_run_every_minute_with_celery_beat():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "governance.tasks.publications_publish_due"]

    assert len(entries) == 1
    assert entries[0]["schedule"].minute == set(range(60))
    assert "governance.tasks.publications_publish_due" in celery_app.tasks


def _workflow(client, article: Article, action: str, data: dict):
    return client.post(reverse("admin:kb_article_workflow", args=[article.pk, action]), data, follow=True,
                       HTTP_ACCEPT_LANGUAGE="en")


def test_the_admin_approves_with_a_go_live_time_and_shows_goes_live_on(client, published_article, second_version, approver):
    client.force_login(approver)
    page = client.get(reverse("admin:kb_article_change", args=[published_article.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert 'name="go_live" value="now" checked' in page.content.decode()
    go_live_at = _in(days=2).replace(second=0)
    local = timezone.localtime(go_live_at)

    response = _workflow(client, published_article, "approve", {
        "review": second_version.pk, "go_live": "at", "go_live_at": f"{local:%Y-%m-%dT%H:%M}"})

    second_version.refresh_from_db()
    assert (second_version.status, second_version.go_live_at) == (Review.Status.SCHEDULED, go_live_at)
    text = response.content.decode()
    assert f"Approved: version 2 goes live on {local:%Y-%m-%d %H:%M}" in text
    assert f"Version 2 goes live on {local:%Y-%m-%d %H:%M}" in text  # the panel
    assert f"v2 goes live on {local:%Y-%m-%d %H:%M}" in text  # the badge
    listing = client.get(reverse("admin:kb_article_changelist"), {"state": "scheduled"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [a.slug for a in listing.context["cl"].result_list] == ["tarifwechsel"]
    assert f"v2 goes live on {local:%Y-%m-%d %H:%M}" in listing.content.decode()
    reviews = client.get(reverse("admin:governance_review_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert f"goes live on {local:%Y-%m-%d %H:%M}" in reviews.content.decode()


def test_the_admin_offers_valid_from_and_a_changes_effective_date(client, make_article, author, approver):
    start = timezone.localdate() + dt.timedelta(days=10)
    article = make_article("neu", valid_from=start)
    event = services.change_event_create(kind="policy", title="Neue Preise", description="Preise steigen.",
                                         effective_date=start + dt.timedelta(days=5), assess=False)
    services.flag_raise(article=article, reason=Flag.Reason.CHANGE_EVENT, summary="Preis", change_event=event)
    review = services.version_submit(actor=author, version=article.latest_version)
    client.force_login(approver)

    choices = selectors.go_live_choices(article)
    _workflow(client, article, "approve", {"review": review.pk, "go_live": f"change-{event.pk}"})

    assert [choice.key for choice in choices] == ["now", "valid_from", f"change-{event.pk}"]
    assert choices[1].at == timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    review.refresh_from_db()
    assert review.go_live_at == timezone.make_aware(dt.datetime.combine(event.effective_date, dt.time.min))
    assert ChangeEvent.objects.count() == 1


def test_a_date_entered_but_not_chosen_approves_nothing(client, published_article, second_version, approver, article_state):
    client.force_login(approver)
    before = article_state(published_article)

    response = _workflow(client, published_article, "approve", {
        "review": second_version.pk, "go_live": "now", "go_live_at": "2099-01-01T08:00"})

    assert "did not choose it" in response.content.decode()
    assert article_state(published_article) == before


def test_the_admin_cancels_and_unpublishes_for_knowledge_admins_only(
        client, published_article, scheduled, approver, admin_user_role):
    client.force_login(approver)
    page = client.get(reverse("admin:kb_article_change", args=[published_article.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Version 2 goes live on" in page
    assert "cancel-schedule" not in page and 'name="unpublish"' not in page

    client.force_login(admin_user_role)
    page = client.get(reverse("admin:kb_article_change", args=[published_article.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "cancel-schedule" in page and 'name="unpublish"' in page
    refused = _workflow(client, published_article, "unpublish", {"reason": " "})
    assert "needs a written reason" in refused.content.decode()
    assert _live_number(published_article) == 1

    cancelled = _workflow(client, published_article, "cancel_schedule", {"review": scheduled.pk, "comment": "später"})
    assert "Scheduled publication of version 2 cancelled" in cancelled.content.decode()
    withdrawn = _workflow(client, published_article, "unpublish", {"reason": "Rechtsrisiko"})

    text = withdrawn.content.decode()
    assert "Version 1 was withdrawn" in text and "Rechtsrisiko" in text
    assert _live_number(published_article) is None
    listing = client.get(reverse("admin:kb_article_changelist"), {"state": "withdrawn"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [a.slug for a in listing.context["cl"].result_list] == ["tarifwechsel"]
