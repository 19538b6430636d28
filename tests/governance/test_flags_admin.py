"""Flags in the admin: the owner's inbox, dismissal with a reason, change-event pages, content health;
translation drift and resolution by publishing."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from governance import selectors, services
from governance.models import AuditEvent, ChangeEvent, Flag


def test_dismiss_needs_a_written_reason_and_is_audited(client, author, published_article):
    flag = services.flag_raise(article=published_article, reason=Flag.Reason.AGENT_REPORT, summary="Preis falsch?")
    client.force_login(author)
    url = reverse("admin:governance_flag_dismiss", args=[flag.pk])

    refused = client.post(url, {"reason": "  "}, follow=True)
    flag.refresh_from_db()
    assert "schriftliche Begründung" in refused.content.decode()
    assert flag.state == Flag.State.OPEN

    client.post(url, {"reason": "Preis ist korrekt, geprüft mit Billing."})
    flag.refresh_from_db()
    assert flag.state == Flag.State.DISMISSED
    assert flag.resolution_note == "Preis ist korrekt, geprüft mit Billing."
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.FLAG_DISMISS, details__flag=flag.pk).count() == 1


def test_someone_else_cannot_dismiss_an_owners_flag(client, author2, published_article):
    flag = services.flag_raise(article=published_article, reason=Flag.Reason.AGENT_REPORT, summary="Preis falsch?")
    client.force_login(author2)

    client.post(reverse("admin:governance_flag_dismiss", args=[flag.pk]), {"reason": "egal"})

    flag.refresh_from_db()
    assert flag.state == Flag.State.OPEN


def test_inbox_lists_only_my_open_flags(client, author, author2, published_article, make_article):
    other = make_article("fremd", owner=author2)
    mine = services.flag_raise(article=published_article, reason=Flag.Reason.AGENT_REPORT, summary="mine")
    services.flag_raise(article=other, reason=Flag.Reason.AGENT_REPORT, summary="theirs")
    client.force_login(author)

    response = client.get(reverse("admin:governance_flag_changelist"), {"mine": "1", "state__exact": "open"})

    assert [f.pk for f in response.context["cl"].result_list] == [mine.pk]


def test_publishing_a_new_version_resolves_the_flags_it_addresses(author, approver, published_article):
    flag = services.flag_raise(article=published_article, reason=Flag.Reason.AGENT_REPORT, summary="Frist falsch")
    version = services.version_create(actor=author, article=published_article, title="Tarif wechseln",
                                      body="Sie können zweimal pro Monat wechseln.", base_version=1)
    review = services.version_submit(actor=author, version=version)

    services.version_approve(actor=approver, review=review)

    flag.refresh_from_db()
    assert flag.state == Flag.State.RESOLVED
    assert flag.resolved_by_version_id == version.pk


def test_translation_drift_flags_translations_with_the_source_diff(author, approver, published_article, make_article):
    translation = make_article("plan-change", title="Change plan", body="You can change once a month.", locale="en",
                               translation_of=published_article)
    review = services.version_submit(actor=author, version=translation.latest_version)
    services.version_approve(actor=approver, review=review)
    version = services.version_create(actor=author, article=published_article, title="Tarif wechseln",
                                      body="Sie können zweimal pro Monat wechseln.", base_version=1)
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=version))

    flag = Flag.objects.get(article=translation, state=Flag.State.OPEN)
    assert flag.reason == Flag.Reason.TRANSLATION_DRIFT
    assert "v1 to v2" in flag.summary
    assert "-Sie können einmal pro Monat wechseln." in flag.evidence
    assert "+Sie können zweimal pro Monat wechseln." in flag.evidence


def test_change_event_admin_creates_and_shows_flags(client, admin_user_role, published_article, django_capture_on_commit_callbacks):
    client.force_login(admin_user_role)
    data = {"kind": "policy", "title": "Zweimal pro Monat", "description": "Ab 1. März 2027 zweimal pro Monat.",
            "effective_date": "2027-03-01", "source_url": ""}

    response = client.post(reverse("admin:governance_changeevent_add"), data)

    assert response.status_code == 302
    event = ChangeEvent.objects.get()
    assert event.author == admin_user_role
    services.flag_raise(article=published_article, reason=Flag.Reason.CHANGE_EVENT, summary="sagt einmal pro Monat",
                        evidence="Sie können einmal pro Monat wechseln.", change_event=event, score=0.9)
    page = client.get(reverse("admin:governance_changeevent_change", args=[event.pk])).content.decode()
    assert "Auswirkung: 1 Artikel gemeldet" in page
    assert "sagt einmal pro Monat" in page and "offen 1" in page


def test_change_event_admin_rejects_an_impossible_date(client, admin_user_role):
    client.force_login(admin_user_role)

    response = client.post(reverse("admin:governance_changeevent_add"),
                           {"kind": "policy", "title": "x", "description": "y", "effective_date": "2027-02-30"})

    assert response.status_code == 200
    assert ChangeEvent.objects.count() == 0


def test_content_health_counts_each_state(client, admin_user_role, published_article, make_article, author, approver):
    other = make_article("alt", valid_until=dt.date(2020, 1, 1), valid_from=dt.date(2019, 1, 1))
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=other.latest_version))
    report = services.flag_raise(article=published_article, reason=Flag.Reason.AGENT_REPORT, summary="x")
    unconfirmed = {row.label: row for row in selectors.content_health("space")}
    services.flag_confirm(actor=author, flag=report)  # an agent's report counts once its owner confirms it

    rows = {row.label: row for row in selectors.content_health("space")}
    client.force_login(admin_user_role)
    page = client.get(reverse("admin:content_health"))

    assert (unconfirmed["Vertrag"].current, unconfirmed["Vertrag"].flagged) == (1, 0)
    assert (rows["Vertrag"].total, rows["Vertrag"].current, rows["Vertrag"].expired, rows["Vertrag"].flagged) == (2, 0, 1, 1)
    assert page.status_code == 200
    assert "Nach verantwortlicher Person" in page.content.decode()
