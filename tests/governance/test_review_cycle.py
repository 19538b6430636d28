"""The review cycle: due dates, verification, validity, and the daily beat task with its digest e-mails."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.conf import settings
from django.utils import timezone

from governance import services
from governance.models import AuditEvent, Flag
from governance.tasks import review_cycle_run
from kb.models import Article
from verity.celery import app as celery_app
from verity.core.errors import InvalidTransitionError, PermissionDeniedError

T = AuditEvent.Type
VERIFIED = timezone.make_aware(dt.datetime(2026, 3, 1, 9, 30))


def _publish(article: Article, author, approver) -> Article:
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_approve(actor=approver, review=review)
    return Article.objects.get(pk=article.pk)


def _set_clock(article: Article, *, verified_days_ago: int) -> Article:
    """Pretend the article was last verified `verified_days_ago` days ago."""
    verified = timezone.now() - dt.timedelta(days=verified_days_ago)
    article = Article.objects.get(pk=article.pk)
    article.last_verified_at = verified
    article.review_due_at = article.compute_review_due_at()
    article.save(update_fields=["last_verified_at", "review_due_at"])
    return article


# --- review_due_at ------------------------------------------------------------------------------------


def test_review_due_at_is_last_verified_plus_the_article_interval(make_article):
    article = make_article(review_interval_days=30, last_verified_at=VERIFIED)

    assert article.review_due_at == timezone.make_aware(dt.datetime(2026, 3, 31, 9, 30))
    assert Article.objects.get(pk=article.pk).review_due_at == VERIFIED + dt.timedelta(days=30)


def test_review_due_at_uses_the_space_default_when_the_article_has_no_interval(make_article, space):
    assert space.default_review_interval_days == 90

    article = make_article(last_verified_at=VERIFIED)

    assert article.review_interval_days is None
    assert article.effective_review_interval_days == 90
    assert Article.objects.get(pk=article.pk).review_due_at == VERIFIED + dt.timedelta(days=90)


def test_changing_the_interval_recomputes_review_due_at(make_article, author):
    article = make_article(last_verified_at=VERIFIED)

    article = services.article_update_settings(actor=author, article=article, review_interval_days=14)

    assert Article.objects.get(pk=article.pk).review_due_at == VERIFIED + dt.timedelta(days=14)


def test_publishing_counts_as_verification(make_article, author, approver):
    article = make_article(last_verified_at=VERIFIED)
    before = timezone.now()

    article = _publish(article, author, approver)

    assert article.last_verified_at >= before
    assert article.review_due_at == article.last_verified_at + dt.timedelta(days=90)


def test_is_review_due(published_article):
    due = published_article.review_due_at

    assert published_article.is_review_due(now=due) is True
    assert published_article.is_review_due(now=due - dt.timedelta(seconds=1)) is False
    assert published_article.is_review_due() is False


# --- article_verify -------------------------------------------------------------------------------------


def test_owner_verifies_and_resets_the_review_clock(published_article, author, audit_counts):
    article = _set_clock(published_article, verified_days_ago=100)
    assert article.is_review_due()
    counts = audit_counts()
    before = timezone.now()

    services.article_verify(actor=author, article=article, note="Alles korrekt.")

    article = Article.objects.get(pk=article.pk)
    assert article.last_verified_at >= before
    assert article.review_due_at == article.last_verified_at + dt.timedelta(days=90)
    assert not article.is_review_due()
    assert audit_counts() - counts == Counter({T.ARTICLE_VERIFY: 1})
    event = AuditEvent.objects.get(event_type=T.ARTICLE_VERIFY)
    assert (event.actor_label, event.article_id, event.version_id) == ("anna", article.pk, article.live_version_id)
    assert event.details["note"] == "Alles korrekt."
    assert event.details["next_due"] == article.review_due_at.isoformat()


def test_non_owner_without_verify_permission_is_refused(published_article, author2, agent, article_state):
    article = _set_clock(published_article, verified_days_ago=100)
    before = article_state(article)

    for actor in (author2, agent):
        with pytest.raises(PermissionDeniedError):
            services.article_verify(actor=actor, article=article)

    assert article_state(article) == before


def test_approver_may_verify_an_article_they_do_not_own(published_article, approver):
    article = _set_clock(published_article, verified_days_ago=100)
    assert article.owner != approver

    services.article_verify(actor=approver, article=article)

    article = Article.objects.get(pk=article.pk)
    assert not article.is_review_due()
    assert AuditEvent.objects.filter(event_type=T.ARTICLE_VERIFY, actor=approver, article=article).count() == 1


def test_verifying_resolves_the_open_review_due_flag(published_article, author, audit_counts):
    article = _set_clock(published_article, verified_days_ago=100)
    flag = services.flag_raise(article=article, reason=Flag.Reason.REVIEW_DUE, summary="Review fällig.")
    other = services.flag_raise(article=article, reason=Flag.Reason.FEEDBACK, summary="Kunde verwirrt.")
    counts = audit_counts()

    services.article_verify(actor=author, article=article)

    assert audit_counts() - counts == Counter({T.ARTICLE_VERIFY: 1, T.FLAG_RESOLVE: 1})
    flag.refresh_from_db()
    assert (flag.state, flag.closed_by, flag.resolution_note) == (
        Flag.State.RESOLVED, author, "Von anna als weiterhin korrekt bestätigt.",  # in the article's language
    )
    assert flag.closed_at is not None
    assert Flag.objects.get(pk=other.pk).state == Flag.State.OPEN


def test_an_unpublished_article_cannot_be_verified(make_article, author, article_state):
    article = make_article()
    before = article_state(article)

    with pytest.raises(InvalidTransitionError):
        services.article_verify(actor=author, article=article)

    assert article_state(article) == before


# --- validity -------------------------------------------------------------------------------------------


def test_expired_and_not_yet_valid(make_article):
    article = make_article(valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2026, 7, 1))

    assert not article.is_not_yet_valid(today=dt.date(2026, 1, 1))
    assert article.is_not_yet_valid(today=dt.date(2025, 12, 31))
    assert not article.is_expired(today=dt.date(2026, 6, 30))
    assert article.is_expired(today=dt.date(2026, 7, 1))  # not served from valid_until on
    assert article.is_expired(today=dt.date(2026, 7, 2))


def test_validity_relative_to_today(make_article):
    today = timezone.localdate()
    expired = make_article("alt", valid_until=today - dt.timedelta(days=1))
    future = make_article("neu", valid_from=today + dt.timedelta(days=1))
    current = make_article("jetzt", valid_from=today, valid_until=today + dt.timedelta(days=1))
    open_ended = make_article("immer")

    assert [(a.is_expired(), a.is_not_yet_valid()) for a in (expired, future, current, open_ended)] == [
        (True, False), (False, True), (False, False), (False, False),
    ]


# --- the daily review-cycle task ------------------------------------------------------------------------


@pytest.fixture
def cycle_articles(make_article, author, author2, approver):
    """anna owns a due and an expired article; ben owns a due one; plus articles that must not be flagged."""
    today = timezone.localdate()
    due = _set_clock(_publish(make_article("tarifwechsel"), author, approver), verified_days_ago=91)
    expired = _publish(
        make_article("sommer-deal", title="Sommer-Deal", valid_until=today - dt.timedelta(days=1)), author, approver
    )
    bens = _set_clock(
        _publish(make_article("roaming", title="Roaming", owner=author2), author, approver), verified_days_ago=200
    )
    fresh = _publish(make_article("kuendigung", title="Kündigung"), author, approver)
    draft = make_article("entwurf", title="Entwurf", valid_until=today)
    Article.objects.filter(pk=draft.pk).update(review_due_at=timezone.now() - dt.timedelta(days=5))
    return {"due": due, "expired": expired, "bens": bens, "fresh": fresh, "draft": draft}


def test_review_cycle_flags_due_and_expired_articles_and_mails_each_owner_once(
    cycle_articles, author, author2, mailoutbox, audit_counts
):
    counts = audit_counts()

    # when the beat task runs
    result = review_cycle_run.delay().get()

    # then one flag per due and per expired live article, for its owner
    assert result == {"review_due": 2, "expired": 1, "owners_notified": 2}
    assert sorted(Flag.objects.values_list("article__slug", "reason", "state", "owner__username")) == [
        ("roaming", Flag.Reason.REVIEW_DUE, Flag.State.OPEN, "ben"),
        ("sommer-deal", Flag.Reason.EXPIRED, Flag.State.OPEN, "anna"),
        ("tarifwechsel", Flag.Reason.REVIEW_DUE, Flag.State.OPEN, "anna"),
    ]
    assert Flag.objects.filter(notified_at__isnull=True).count() == 0
    due_flag = Flag.objects.get(article__slug="tarifwechsel")
    assert due_flag.due_at == cycle_articles["due"].review_due_at
    assert audit_counts() - counts == Counter({T.FLAG_RAISE: 3})

    # and exactly one e-mail per owner listing all their articles
    assert sorted(message.to[0] for message in mailoutbox) == ["anna@example.com", "ben@example.com"]
    assert all(len(message.to) == 1 for message in mailoutbox)
    annas = next(message for message in mailoutbox if message.to == ["anna@example.com"])
    bens = next(message for message in mailoutbox if message.to == ["ben@example.com"])
    # (in German: nobody said otherwise, and the server's language is German)
    assert annas.subject == "[Verity] 2 Artikel brauchen Ihre Aufmerksamkeit"
    assert "2 Artikel, für die Sie verantwortlich sind, brauchen Ihre Aufmerksamkeit" in annas.body
    assert "- Tarif wechseln (tarifwechsel, de): Prüfung fällig" in annas.body
    assert "- Sommer-Deal (sommer-deal, de): Abgelaufen" in annas.body
    assert "roaming" not in annas.body
    assert bens.subject == "[Verity] 1 Artikel braucht Ihre Aufmerksamkeit"
    assert "- Roaming (roaming, de): Prüfung fällig" in bens.body
    assert "tarifwechsel" not in bens.body and "sommer-deal" not in bens.body
    for message in mailoutbox:
        assert "kuendigung" not in message.body and "entwurf" not in message.body


def test_review_cycle_run_twice_raises_no_duplicates_and_sends_no_second_mail(
    cycle_articles, mailoutbox, audit_counts
):
    review_cycle_run.delay().get()
    flags = list(Flag.objects.order_by("pk").values_list("pk", "article__slug", "reason", "state", "notified_at"))
    counts = audit_counts()
    assert len(mailoutbox) == 2

    result = review_cycle_run.delay().get()

    assert result == {"review_due": 0, "expired": 0, "owners_notified": 0}
    assert list(Flag.objects.order_by("pk").values_list("pk", "article__slug", "reason", "state", "notified_at")) == flags
    assert audit_counts() == counts
    assert len(mailoutbox) == 2


def test_review_cycle_mails_only_new_flags_after_a_verification(
    cycle_articles, author, author2, mailoutbox
):
    # given the first run flagged and mailed everything
    review_cycle_run.delay().get()
    # when ben verifies his article and anna's fresh article becomes due
    services.article_verify(actor=author2, article=cycle_articles["bens"])
    _set_clock(cycle_articles["fresh"], verified_days_ago=95)

    result = review_cycle_run.delay().get()

    # then only anna gets a second mail, about the newly due article only
    assert result == {"review_due": 1, "expired": 0, "owners_notified": 1}
    assert [message.to for message in mailoutbox] == [["anna@example.com"], ["ben@example.com"], ["anna@example.com"]]
    latest = mailoutbox[-1]
    assert latest.subject == "[Verity] 1 Artikel braucht Ihre Aufmerksamkeit"
    assert "- Kündigung (kuendigung, de): Prüfung fällig" in latest.body
    assert "tarifwechsel" not in latest.body
    assert Flag.objects.get(article__slug="roaming").state == Flag.State.RESOLVED


def test_review_cycle_is_scheduled_daily_with_celery_beat():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "governance.tasks.review_cycle_run"]

    assert len(entries) == 1
    assert review_cycle_run.name == "governance.tasks.review_cycle_run"
    assert "governance.tasks.review_cycle_run" in celery_app.tasks
