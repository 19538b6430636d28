"""Triage of flags: bulk resolve/dismiss with one reason, translations' change flags following their
source, flags of owners who cannot log in reaching knowledge admins, agents' reports confirmed by
owners, contradictions naming the other article."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from governance import selectors, services
from governance.models import AuditEvent, Flag
from governance.tasks import review_cycle_run
from kb.models import Article
from retrieval.impact.contradictions import ContradictionFinding, contradictions_flag
from tests.conftest import _user
from verity.core.errors import ApplicationError, InvalidTransitionError, PermissionDeniedError

T = AuditEvent.Type
CHANGELIST = "admin:governance_flag_changelist"


def _publish(article: Article, author, approver) -> Article:
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=article.latest_version))
    return Article.objects.get(pk=article.pk)


def _report(article: Article, text: str = "Frist stimmt nicht", by=None) -> Flag:
    return services.flag_raise(article=article, reason=Flag.Reason.AGENT_REPORT, summary=text, raised_by=by)


# --- bulk -------------------------------------------------------------------------------------------


def test_bulk_dismiss_closes_every_flag_with_one_reason_audited_per_flag(published_article, make_article, author, approver,
                                                                         audit_counts):
    other = _publish(make_article("roaming", title="Roaming"), author, approver)
    flags = [_report(published_article), _report(published_article, "Preis?"), _report(other)]
    counts = audit_counts()

    closed = services.flags_close(actor=author, flags=flags, state=Flag.State.DISMISSED, note="  Geprüft: alles korrekt.  ")

    assert sorted(flag.pk for flag in closed) == sorted(flag.pk for flag in flags)
    assert set(Flag.objects.values_list("state", "resolution_note", "closed_by")) == {
        (Flag.State.DISMISSED, "Geprüft: alles korrekt.", author.pk)}
    assert audit_counts() - counts == Counter({T.FLAG_DISMISS: 3})
    assert sorted(AuditEvent.objects.filter(event_type=T.FLAG_DISMISS).values_list("details__flag", flat=True)) == sorted(
        flag.pk for flag in flags)
    assert {event.details["bulk"] for event in AuditEvent.objects.filter(event_type=T.FLAG_DISMISS)} == {3}


def test_bulk_resolve_needs_a_reason_and_is_all_or_nothing(published_article, make_article, author, author2, approver,
                                                           audit_counts):
    theirs = _publish(make_article("fremd", owner=author2), author, approver)
    mine, not_mine = _report(published_article), _report(theirs)
    counts = audit_counts()

    with pytest.raises(ApplicationError) as no_reason:
        services.flags_close(actor=author, flags=[mine], state=Flag.State.RESOLVED, note=" ")
    with pytest.raises(PermissionDeniedError) as not_allowed:
        services.flags_close(actor=author, flags=[mine, not_mine], state=Flag.State.RESOLVED, note="erledigt")

    assert no_reason.value.code == "reason_required"
    assert "fremd" in not_allowed.value.message
    assert set(Flag.objects.values_list("state", flat=True)) == {Flag.State.OPEN}
    assert audit_counts() == counts


def test_the_admin_bulk_action_asks_for_the_reason_on_an_intermediate_page(client, published_article, author):
    flags = [_report(published_article), _report(published_article, "Preis?")]
    client.force_login(author)
    selection = {"action": "dismiss_selected", ACTION_CHECKBOX_NAME: [flag.pk for flag in flags]}

    form = client.post(reverse(CHANGELIST), selection, HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200 and form.templates[0].name == "admin/governance/flag/close_selected.html"
    assert "Dismiss these 2 flags" in form.content.decode()
    assert set(Flag.objects.values_list("state", flat=True)) == {Flag.State.OPEN}

    empty = client.post(reverse(CHANGELIST), {**selection, "confirm": "yes", "note": "  "}, HTTP_ACCEPT_LANGUAGE="en")
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    assert set(Flag.objects.values_list("state", flat=True)) == {Flag.State.OPEN}

    done = client.post(reverse(CHANGELIST), {**selection, "confirm": "yes", "note": "Beides korrekt."}, follow=True,
                       HTTP_ACCEPT_LANGUAGE="en")
    assert "2 flags dismissed" in done.content.decode()
    assert set(Flag.objects.values_list("state", "resolution_note")) == {(Flag.State.DISMISSED, "Beides korrekt.")}

    resolve = client.post(reverse(CHANGELIST), {**selection, "action": "resolve_selected"}, follow=True,
                          HTTP_ACCEPT_LANGUAGE="en")
    assert "None of the selected flags is open" in resolve.content.decode()


# --- translations follow their source -------------------------------------------------------------------


@pytest.fixture
def family(make_article, author, approver):
    source = _publish(make_article("rueckgabe", title="Rückgabe", body="Rückgabe innerhalb von 14 Tagen."), author, approver)
    translation = _publish(make_article("returns", title="Returns", body="Returns within 14 days.", locale="en",
                                        translation_of=source), author, approver)
    event = services.change_event_create(kind="policy", title="30 Tage Rückgabe", description="Ab 2027 30 Tage.",
                                         effective_date=timezone.localdate() + dt.timedelta(days=20), assess=False)
    return source, translation, event


def _record(event, *articles):
    return services.change_event_record(event=event, elapsed_ms=1, findings=[
        services.ImpactFinding(article=article, score=0.9, reason="nennt 14 Tage", evidence="14")
        for article in articles])


def test_a_translations_change_flag_follows_the_dismissal_of_its_sources(family, author, audit_counts):
    source, translation, event = family
    _record(event, source)
    source_flag = Flag.objects.get(article=source, change_event=event)
    translation_flag = Flag.objects.get(article=translation, change_event=event)
    assert (source_flag.follows, translation_flag.follows) == (None, source_flag)
    counts = audit_counts()

    services.flag_dismiss(actor=author, flag=source_flag, reason="Betrifft nur Neuverträge.")

    translation_flag.refresh_from_db()
    assert translation_flag.state == Flag.State.DISMISSED
    assert translation_flag.resolution_note == ("Follows the decision on the flag of its source 'rueckgabe' for the same "
                                                "change: Betrifft nur Neuverträge.")
    assert audit_counts() - counts == Counter({T.FLAG_DISMISS: 2})
    following = AuditEvent.objects.get(event_type=T.FLAG_DISMISS, article_id=translation.pk)
    assert (following.details["follows_flag"], following.details["source"]) == (source_flag.pk, "rueckgabe")


def test_a_translations_change_flag_follows_its_source_resolved_by_a_new_version(family, author, approver):
    source, translation, event = family
    _record(event, source)
    version = services.version_create(actor=author, article=source, title="Rückgabe",
                                      body="Rückgabe innerhalb von 30 Tagen.", base_version=1)

    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=version))

    flags = dict(Flag.objects.filter(change_event=event).values_list("article__slug", "state"))
    assert flags == {"rueckgabe": Flag.State.RESOLVED, "returns": Flag.State.RESOLVED}
    # the translation is now out of sync with its source instead
    assert Flag.objects.get(article=translation, state=Flag.State.OPEN).reason == Flag.Reason.TRANSLATION_DRIFT


def test_a_translations_flag_opened_on_its_own_does_not_follow(family, author):
    source, translation, event = family
    _record(event, source, translation)
    translation_flag = Flag.objects.get(article=translation, change_event=event)
    assert translation_flag.follows is None

    services.flags_close(actor=author, flags=[Flag.objects.get(article=source, change_event=event)],
                         state=Flag.State.DISMISSED, note="Nur Deutschland betroffen.")

    translation_flag.refresh_from_db()
    assert translation_flag.state == Flag.State.OPEN


# --- owners who cannot log in -----------------------------------------------------------------------------


@pytest.fixture
def owner_without_login(db):
    owner = _user("jonas", "authors")
    owner.set_unusable_password()  # as kb_import creates owners
    owner.save()
    return owner


def test_flags_of_owners_who_cannot_log_in_reach_the_knowledge_admins_inbox(
        client, make_article, author, approver, admin_user_role, owner_without_login):
    inactive = _user("karl", "authors", is_active=False)
    articles = [_publish(make_article(slug, owner=owner), author, approver)
                for slug, owner in (("hotline", owner_without_login), ("tarife", inactive), ("eigen", approver))]
    flags = [_report(article) for article in articles]

    def inbox(user) -> list[int]:
        client.force_login(user)
        response = client.get(reverse(CHANGELIST), {"mine": "1", "state__exact": "open"})
        return sorted(flag.pk for flag in response.context["cl"].result_list)

    assert inbox(admin_user_role) == [flags[0].pk, flags[1].pk]
    assert inbox(approver) == [flags[2].pk]  # an approver is no knowledge admin
    assert [user.username for user in selectors.knowledge_admins()] == ["erika"]
    assert (selectors.can_log_in(owner_without_login), selectors.can_log_in(inactive), selectors.can_log_in(author)) == (
        False, False, True)


def test_the_digest_of_a_knowledge_admin_lists_the_flags_of_owners_who_cannot_log_in(
        make_article, author, approver, admin_user_role, owner_without_login, mailoutbox):
    mine = _publish(make_article("eigen"), author, approver)
    orphan = _publish(make_article("hotline", title="Hotline", owner=owner_without_login), author, approver)
    _report(mine, "Mein Artikel")
    _report(orphan, "Nummer falsch")

    result = review_cycle_run.delay().get()

    assert result["owners_notified"] == 2
    assert sorted(message.to[0] for message in mailoutbox) == ["anna@example.com", "erika@example.com"]
    erikas = next(message for message in mailoutbox if message.to == ["erika@example.com"])
    orphan_line = next(line for line in erikas.body.splitlines() if "(hotline, de)" in line)
    assert orphan_line.startswith("- Hotline (hotline, de), ") and "jonas" in orphan_line
    assert orphan_line.endswith(" - Nummer falsch") and "Mein Artikel" not in erikas.body
    annas = next(message for message in mailoutbox if message.to == ["anna@example.com"])
    assert "hotline" not in annas.body and "Mein Artikel" in annas.body
    assert not Flag.objects.filter(notified_at__isnull=True).exists()


# --- agents' reports ---------------------------------------------------------------------------------------


def test_an_agents_report_is_reported_not_flagged_until_the_owner_confirms(published_article, author, agent, audit_counts):
    flag = _report(published_article, by=agent)
    now = timezone.now()
    reasons = selectors.open_flag_reasons([published_article.pk])[published_article.pk]

    assert reasons == {selectors.UNCONFIRMED_REPORT}
    assert selectors.article_state(published_article, reasons, now=now) == "current"
    assert [badge.key for badge in selectors.article_badges(published_article)] == ["live", "reported"]
    counts = audit_counts()

    services.flag_confirm(actor=author, flag=flag, note="Stimmt, Frist ist 30 Tage.")

    reasons = selectors.open_flag_reasons([published_article.pk])[published_article.pk]
    assert reasons == {Flag.Reason.AGENT_REPORT}
    assert selectors.article_state(published_article, reasons, now=now) == "flagged"
    assert [badge.key for badge in selectors.article_badges(published_article)] == ["live", "flagged"]
    assert audit_counts() - counts == Counter({T.FLAG_CONFIRM: 1})
    flag.refresh_from_db()
    assert (flag.confirmed_by, flag.state) == (author, Flag.State.OPEN)
    with pytest.raises(InvalidTransitionError):
        services.flag_confirm(actor=author, flag=flag)


def test_only_the_owner_or_an_approver_confirms_a_report(published_article, author2, agent, approver):
    flag = _report(published_article, by=agent)
    for person in (author2, agent):
        with pytest.raises(PermissionDeniedError):
            services.flag_confirm(actor=person, flag=flag)
    flag.refresh_from_db()
    assert flag.confirmed_at is None

    services.flag_confirm(actor=approver, flag=flag)
    assert Flag.objects.get(pk=flag.pk).confirmed_by == approver


def test_the_flag_page_offers_the_confirmation_to_the_owner(client, published_article, author, agent):
    flag = _report(published_article, by=agent)
    client.force_login(author)
    page = client.get(reverse("admin:governance_flag_change", args=[flag.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    listing = client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    response = client.post(reverse("admin:governance_flag_confirm", args=[flag.pk]), {"note": "stimmt"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")

    assert "Confirm: the article needs fixing" in page
    assert "Reported by an agent (to confirm)" in listing
    assert "Report confirmed" in response.content.decode()
    assert Flag.objects.get(pk=flag.pk).confirmed_by == author


# --- contradictions ------------------------------------------------------------------------------------


def test_a_contradiction_flag_names_and_links_the_other_article(client, make_article, author, approver):
    fee = _publish(make_article("sim-tausch", title="SIM-Tausch", body="Der SIM-Tausch kostet 14,99 €."), author, approver)
    other = _publish(make_article("preisliste", title="Preisliste", body="SIM-Karte tauschen: 9,99 €."), author, approver)
    finding = ContradictionFinding(article=fee, other=other, sentence="Der SIM-Tausch kostet 14,99 €.",
                                   other_sentence="SIM-Karte tauschen: 9,99 €.", value="14,99 €", other_value="9,99 €",
                                   score=0.8)

    assert contradictions_flag([finding]) == 2
    assert contradictions_flag([finding]) == 0  # the open flags already name their partner

    flags = {flag.article.slug: flag for flag in Flag.objects.filter(reason=Flag.Reason.CONTRADICTION)}
    assert (flags["sim-tausch"].related_article, flags["preisliste"].related_article) == (other, fee)
    assert "'preisliste' (Preisliste)" in flags["sim-tausch"].summary
    client.force_login(author)
    listing = client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page = client.get(reverse("admin:governance_flag_change", args=[flags["sim-tausch"].pk]),
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    link = f'<a href="{reverse("admin:kb_article_change", args=[other.pk])}">preisliste</a> (Preisliste)'
    assert link in listing and link in page
