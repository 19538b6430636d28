"""Reviewing (#16 item 3): the approver's inbox and header count, notifications and their hourly digest,
the reviewer's comment on the article, assigning a reviewer, and the word diff that carries the decision."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from governance import selectors, services
from governance.models import AuditEvent, Notification, Review, UserPreferences
from kb.models import Article
from tests.conftest import _user
from verity.core.errors import ApplicationError, PermissionDeniedError


def _revise(article: Article, author, body: str) -> Review:
    article.refresh_from_db()
    version = services.version_create(actor=author, article=article, title=article.title, body=body,
                                      base_version=article.latest_version.number, change_note="Preis gesenkt")
    return services.version_submit(actor=author, version=version)


def _notified(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


@pytest.fixture
def price_article(published_article, author):
    """A live article whose v2 (a lower price) awaits review."""
    article = published_article
    _revise(article, author, "Die SIM-Karte kostet 6,82 € pro Karte.")
    review = Review.objects.get(article=article, status=Review.Status.IN_REVIEW)
    services.version_approve(actor=_user("zora", "approvers"), review=review)
    return _revised(article, author)


def _revised(article: Article, author) -> Article:
    _revise(article, author, "Die SIM-Karte kostet 4,99 € pro Karte.")
    article.refresh_from_db()
    return article


def test_submitting_notifies_the_approvers_who_may_decide_it(make_article, author, author2, approver, approver2,
                                                             admin_user_role, agent):
    article = make_article()
    Notification.objects.all().delete()

    review = services.version_submit(actor=author, version=article.latest_version)

    # approvers and knowledge admins; not the author, other authors or agents
    assert _notified(Notification.Kind.REVIEW_REQUESTED) == ["clara", "david", "erika"]
    notification = Notification.objects.get(recipient=approver)
    assert (notification.review, notification.version, notification.actor) == (review, article.latest_version, author)
    assert selectors.notification_text(notification) == (
        "Version 1 von „Tarif wechseln“ (tarifwechsel) wartet auf Ihre Freigabe; eingereicht von anna.")


def test_the_header_counts_what_awaits_an_approver_and_the_inbox_lists_it(client, make_article, author, approver):
    for slug in ("tarifwechsel", "kuendigung", "roaming"):
        article = make_article(slug, title=f"Artikel {slug}")
        services.version_submit(actor=author, version=article.latest_version)

    client.force_login(approver)
    index = client.get(reverse("admin:index")).content.decode()
    inbox = client.get(reverse("admin:inbox")).content.decode()

    assert '<span class="verity-count" id="verity-inbox-count">3 zu prüfen</span>' in index
    assert "3 Entscheidungen warten auf Sie" in index and "3 Entscheidungen warten auf Sie" in inbox
    kuendigung = Article.objects.get(slug="kuendigung")
    assert f'href="/admin/kb/article/{kuendigung.pk}/diff/?to=1"' in inbox
    assert "3 neu" in inbox  # three unread notifications
    # the author is told nothing awaits them: the count is the approver's
    client.force_login(author)
    assert "verity-inbox-count" not in client.get(reverse("admin:inbox")).content.decode()


def test_changes_requested_notify_the_author_and_the_comment_is_a_banner_on_the_article(
        client, make_article, author, approver):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)

    services.version_request_changes(actor=approver, review=review, comment="Bitte den Preis aus der Preisliste nehmen.")

    notification = Notification.objects.get(kind=Notification.Kind.CHANGES_REQUESTED)
    assert (notification.recipient, notification.comment) == (author, "Bitte den Preis aus der Preisliste nehmen.")
    assert Review.objects.get(pk=review.pk).decided_by == approver
    # the approvers' requests are settled: nothing asks them any more
    assert not Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUESTED, read_at__isnull=True).exists()
    client.force_login(author)
    page = client.get(reverse("admin:kb_article_change", args=[article.pk])).content.decode()
    assert 'id="changes-requested"' in page
    assert "Änderungen an Version 1 angefordert von clara am" in page
    assert '<blockquote lang="de">Bitte den Preis aus der Preisliste nehmen.</blockquote>' in page
    inbox = client.get(reverse("admin:inbox")).content.decode()
    assert "Ihre zurückgegebenen Versionen" in inbox
    # reading the article page marked the author's notification read
    assert Notification.objects.get(pk=notification.pk).read_at is not None

    # once the author submits a new version, the banner is gone
    version = services.version_create(actor=author, article=article, title="Tarif wechseln", body="Neu.", base_version=1)
    services.version_submit(actor=author, version=version)
    page = client.get(reverse("admin:kb_article_change", args=[article.pk])).content.decode()
    assert 'id="changes-requested"' not in page


def test_the_second_approval_step_notifies_the_other_approvers(sensitive_space, author, approver, approver2,
                                                               admin_user_role):
    article = services.article_create(actor=author, slug="widerruf", title="Widerruf", body="14 Tage.", locale="de",
                                      space=sensitive_space, owner=author, audience=Article.Audience.PUBLIC)
    review = services.version_submit(actor=author, version=article.latest_version)

    services.version_approve(actor=approver, review=review)

    assert _notified(Notification.Kind.SECOND_APPROVAL) == ["david", "erika"]
    assert Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUESTED, read_at__isnull=True).count() == 0
    assert [r.pk for r in selectors.reviews_awaiting(approver)] == []
    assert [r.pk for r in selectors.reviews_awaiting(approver2)] == [review.pk]

    services.version_approve(actor=approver2, review=review)
    assert _notified(Notification.Kind.VERSION_APPROVED) == ["anna"]
    assert Notification.objects.filter(kind=Notification.Kind.SECOND_APPROVAL, read_at__isnull=True).count() == 0


def test_a_reviewer_is_assigned_notified_and_audited(make_article, author, approver, approver2):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)

    services.review_assign(actor=author, review=review, assignee=approver2)

    review.refresh_from_db()
    assert review.assignee == approver2 and review.assigned_at is not None
    assigned = Notification.objects.get(kind=Notification.Kind.REVIEW_ASSIGNED)
    assert (assigned.recipient, assigned.actor) == (approver2, author)
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.REVIEW_ASSIGN)
    assert (event.actor, event.details) == (author, {"review": review.pk, "assignee": "david", "previous_assignee": None})
    # the assigned review comes first in the assignee's inbox
    other = make_article("kuendigung", title="Kündigung")
    services.version_submit(actor=author, version=other.latest_version)
    assert [r.article.slug for r in selectors.reviews_awaiting(approver2)] == ["tarifwechsel", "kuendigung"]


@pytest.mark.parametrize("who", ["the author", "the step-1 approver", "an author without approval rights"])
def test_assigning_follows_the_four_eyes_rules(who, sensitive_space, author, author2, approver, approver2, audit_counts):
    article = services.article_create(actor=author, slug="widerruf", title="Widerruf", body="14 Tage.", locale="de",
                                      space=sensitive_space, owner=author, audience=Article.Audience.PUBLIC)
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_approve(actor=approver, review=review)
    assignee = {"the author": author, "the step-1 approver": approver, "an author without approval rights": author2}[who]
    before = audit_counts()

    with pytest.raises(ApplicationError) as refused:
        services.review_assign(actor=approver2, review=review, assignee=assignee)

    expected = {
        "the author": "anna hat Version 1 geschrieben und darf sie nicht prüfen (Vier-Augen-Prinzip).",
        "the step-1 approver": ("clara hat Schritt 1 bereits freigegeben; der zweite Schritt braucht eine andere Person "
                                "mit Freigaberecht."),
        "an author without approval rights": "ben darf keine Versionen freigeben und kann diese daher nicht prüfen.",
    }[who]
    assert refused.value.message == expected
    assert Review.objects.get(pk=review.pk).assignee is None
    assert audit_counts() == before
    assert not Notification.objects.filter(kind=Notification.Kind.REVIEW_ASSIGNED).exists()


def test_only_the_submitter_or_an_approver_assigns(make_article, author, author2, approver):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)

    with pytest.raises(PermissionDeniedError):
        services.review_assign(actor=author2, review=review, assignee=approver)

    assert Review.objects.get(pk=review.pk).assignee is None


def test_the_assignee_who_gives_step_1_is_unassigned_for_step_2(sensitive_space, author, approver, approver2):
    article = services.article_create(actor=author, slug="widerruf", title="Widerruf", body="14 Tage.", locale="de",
                                      space=sensitive_space, owner=author, audience=Article.Audience.PUBLIC)
    review = services.version_submit(actor=author, version=article.latest_version)
    services.review_assign(actor=author, review=review, assignee=approver)

    services.version_approve(actor=approver, review=review)

    assert Review.objects.get(pk=review.pk).assignee is None
    assert [person.username for person in selectors.review_deciders(review)] == ["david"]


def test_the_hourly_digest_is_in_each_recipients_language_once_and_skips_what_was_read(
        make_article, author, approver, approver2, admin_user_role, mailoutbox):
    UserPreferences.objects.create(user=approver2, language="en")
    article = make_article()
    services.version_submit(actor=author, version=article.latest_version)
    services.notifications_mark_read(user=admin_user_role)  # erika read it in the admin
    mailoutbox.clear()

    mailed = services.notifications_send_digest()

    assert mailed == 2
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert sorted(by_recipient) == ["clara@example.com", "david@example.com"]
    clara, david = by_recipient["clara@example.com"], by_recipient["david@example.com"]
    assert clara.subject == "[Verity] 1 neue Benachrichtigung"
    assert "Version 1 von „Tarif wechseln“ (tarifwechsel) wartet auf Ihre Freigabe; eingereicht von anna." in clara.body
    assert f"{settings.VERITY_BASE_URL}/admin/inbox/" in clara.body
    assert david.subject == "[Verity] 1 new notification"
    assert david.body.startswith("Hello david,\n\nSince the last message, 1 thing happened in Verity that concerns you:")
    assert "Version 1 of “Tarif wechseln” (tarifwechsel) awaits your approval; submitted by anna." in david.body

    # the next hour sends nothing again
    mailoutbox.clear()
    assert services.notifications_send_digest() == 0 and mailoutbox == []


def test_the_digest_quotes_the_reviewers_comment(make_article, author, approver, mailoutbox):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_request_changes(actor=approver, review=review, comment="Quelle fehlt.")
    mailoutbox.clear()

    services.notifications_send_digest()

    (message,) = mailoutbox
    assert message.to == ["anna@example.com"]
    assert "clara hat Änderungen an Version 1 von „Tarif wechseln“ (tarifwechsel) angefordert.\n  Kommentar: Quelle fehlt." \
        in message.body


def test_the_digest_runs_hourly_from_beat():
    schedule = settings.CELERY_BEAT_SCHEDULE["notifications-digest-hourly"]
    assert schedule["task"] == "governance.tasks.notifications_send_digest"
    assert str(schedule["schedule"]) == "<crontab: 5 * * * * (m/h/dM/MY/d)>"


def test_marking_read_touches_only_ones_own_notifications(client, make_article, author, approver, approver2):
    article = make_article()
    services.version_submit(actor=author, version=article.latest_version)
    claras = Notification.objects.get(recipient=approver)
    davids = Notification.objects.get(recipient=approver2)

    client.force_login(approver)
    response = client.post(reverse("admin:notifications_read"), {"notification": [claras.pk, davids.pk]}, follow=True)

    assert "1 Benachrichtigung als gelesen markiert." in response.content.decode()
    assert Notification.objects.get(pk=claras.pk).read_at is not None
    assert Notification.objects.get(pk=davids.pk).read_at is None
    assert client.get(reverse("admin:notifications_read")).status_code == 405


def test_settings_proposals_reach_the_approvers_inbox(client, published_article, author, approver):
    services.settings_change_propose(actor=author, article=published_article, audience=Article.Audience.INTERNAL,
                                     valid_until=None, valid_from=None, owner=approver)
    assert _notified(Notification.Kind.SETTINGS_PROPOSED) == ["clara"]

    client.force_login(approver)
    inbox = client.get(reverse("admin:inbox")).content.decode()

    assert "Einstellungsänderungen, die auf Ihre Freigabe warten" in inbox
    assert "1 zu prüfen" in inbox


# --- the diff page carries the decision ---------------------------------------------------------


def test_the_diff_shows_the_changed_words_and_the_decision_for_an_approver(client, price_article, approver2):
    client.force_login(approver2)

    page = client.get(reverse("admin:kb_article_diff", args=[price_article.pk]) + "?to=3").content.decode()

    assert '<del class="verity-del">6,82</del> <ins class="verity-ins">4,99</ins> € pro Karte.' in page
    assert "1 Abschnitt geändert, 0 hinzugefügt, 0 entfernt." in page
    assert 'name="approve"' in page and 'name="request-changes"' in page
    assert '<input type="hidden" name="next" value="/admin/inbox/">' in page
    side = client.get(reverse("admin:kb_article_diff", args=[price_article.pk]) + "?to=3&view=side").content.decode()
    assert "verity-wdiff-side" in side and '<ins class="verity-ins">4,99</ins>' in side


def test_the_author_sees_the_diff_but_no_decision(client, price_article, author):
    client.force_login(author)

    page = client.get(reverse("admin:kb_article_diff", args=[price_article.pk]) + "?to=3").content.decode()

    assert '<ins class="verity-ins">4,99</ins>' in page
    assert 'name="approve"' not in page
    assert "Sie haben diese Version geschrieben" in page


def test_approving_from_the_diff_goes_through_the_workflow_and_on_to_the_inbox(client, price_article, approver2):
    review = Review.objects.get(article=price_article, status=Review.Status.IN_REVIEW)
    client.force_login(approver2)
    diff = reverse("admin:kb_article_diff", args=[price_article.pk]) + "?to=3"

    response = client.post(reverse("admin:kb_article_workflow", args=[price_article.pk, "approve"]),
                           {"review": review.pk, "comment": "Passt.", "back": diff, "next": "/admin/inbox/"})

    assert response.status_code == 302 and response["Location"] == "/admin/inbox/"
    assert Article.objects.get(pk=price_article.pk).live_version.number == 3


def test_a_refused_decision_returns_to_the_diff_with_the_reason(client, price_article, author):
    review = Review.objects.get(article=price_article, status=Review.Status.IN_REVIEW)
    client.force_login(author)
    diff = reverse("admin:kb_article_diff", args=[price_article.pk]) + "?to=3"

    response = client.post(reverse("admin:kb_article_workflow", args=[price_article.pk, "approve"]),
                           {"review": review.pk, "back": diff, "next": "https://evil.example/"}, follow=True)

    assert response.redirect_chain[-1][0] == diff
    assert "Sie dürfen keine Versionen freigeben." in response.content.decode()
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW


def test_an_offsite_next_is_never_followed(client, price_article, approver2):
    review = Review.objects.get(article=price_article, status=Review.Status.IN_REVIEW)
    client.force_login(approver2)

    response = client.post(reverse("admin:kb_article_workflow", args=[price_article.pk, "request_changes"]),
                           {"review": review.pk, "comment": "Quelle?", "next": "https://evil.example/"})

    assert response["Location"] == reverse("admin:kb_article_change", args=[price_article.pk])


def test_assigning_from_the_diff_page(client, price_article, author, approver2):
    review = Review.objects.get(article=price_article, status=Review.Status.IN_REVIEW)
    client.force_login(author)
    diff = reverse("admin:kb_article_diff", args=[price_article.pk]) + "?to=3"
    page = client.get(diff).content.decode()
    select = page[page.index('<select id="assignee"'):]
    select = select[:select.index("</select>")]
    assert f'<option value="{approver2.pk}">david</option>' in select
    assert ">anna<" not in select  # never the author

    response = client.post(reverse("admin:kb_article_workflow", args=[price_article.pk, "assign"]),
                           {"review": review.pk, "assignee": approver2.pk, "back": diff, "next": diff}, follow=True)

    html = response.content.decode()
    assert "David ist gebeten, Version 3 zu prüfen, und wurde benachrichtigt." in html  # the admin capitalises messages, html[html.find("messagelist"):][:400]
    assert Review.objects.get(pk=review.pk).assignee == approver2


def test_a_first_version_is_compared_with_nothing(client, make_article, author, approver):
    article = make_article(body="Ganz **neu**.")
    services.version_submit(actor=author, version=article.latest_version)
    client.force_login(approver)

    page = client.get(reverse("admin:kb_article_diff", args=[article.pk]) + "?to=1").content.decode()

    assert "Ein neuer Artikel: Sein ganzer Text ist neu." in page
    assert '<ins class="verity-ins">Ganz</ins> <strong><ins class="verity-ins">neu</ins></strong>' in page


@pytest.mark.parametrize("app", ["kb", "governance", "retrieval"])
def test_each_app_index_page_renders_without_the_start_page_inbox(client, approver, app):
    """Django's app index pages extend admin/index.html too (the inbox partial crashed them: a 500)."""
    client.force_login(approver)

    response = client.get(f"/admin/{app}/")

    assert response.status_code == 200
    assert "verity-start" not in response.content.decode()
