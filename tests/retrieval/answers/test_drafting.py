"""Suggested drafts from a change flag (#17 item 3): the model rewrites the flagged paragraph, verified like
answers; the owner edits, accepts (a draft version for the normal review) or rejects. The model is a
stand-in at the HTTP edge (tests/llm_standin.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from governance import services
from governance.models import AuditEvent, ChangeEvent, Flag, Suggestion
from kb.models import ArticleVersion
from retrieval.answers.drafting import Announcement, check_paragraph, flagged_paragraphs, split_paragraphs
from verity.core.errors import ApplicationError, PermissionDeniedError

BODY = (
    "# Rücksendung\n\n"
    "Sie können Artikel innerhalb von 14 Tagen zurückgeben. Die Rücksendung kostet 4,95 Euro.\n\n"
    "Das Rücksendeetikett finden Sie unter Konto > Bestellungen > Rücksendung.\n"
)
OLD = "Sie können Artikel innerhalb von 14 Tagen zurückgeben. Die Rücksendung kostet 4,95 Euro."
GOOD = "Sie können Artikel innerhalb von 30 Tagen zurückgeben. Die Rücksendung kostet 4,95 Euro."
INVENTED = "Sie können Artikel innerhalb von 30 Tagen zurückgeben. Die Rücksendung kostet 2,95 Euro."
ANNOUNCEMENT = Announcement(
    "Längere Rückgabefrist",
    "Ab dem 1. Januar 2027 können Kunden Artikel innerhalb von 30 Tagen zurückgeben. Die Rücksendekosten bleiben unverändert.",
    "2027-01-01",
)


@pytest.fixture
def change_flag(publish, approver):
    article = publish("ruecksendung", body=BODY, title="Rücksendung")
    event = ChangeEvent.objects.create(
        kind=ChangeEvent.Kind.POLICY, title=ANNOUNCEMENT.title, description=ANNOUNCEMENT.text,
        effective_date=dt.date(2027, 1, 1), author=approver, status=ChangeEvent.Status.DONE,
    )
    return services.flag_raise(article=article, reason=Flag.Reason.CHANGE_EVENT, change_event=event,
                               summary="Die Rückgabefrist ist ab 2027-01-01 30 Tage statt 14 Tage.",
                               evidence="Sie können Artikel innerhalb von 14 Tagen zurückgeben.")


@pytest.fixture
def model(standin, settings):
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = standin.url
    settings.VERITY_LLM_MODEL = "standin"
    return standin


def _request(actor, flag, django_capture_on_commit_callbacks) -> Suggestion:
    with django_capture_on_commit_callbacks(execute=True):
        suggestion = services.suggestion_request(actor=actor, flag=flag)
    suggestion.refresh_from_db()
    return suggestion


# the checks, without a model


def test_the_flagged_paragraph_is_the_one_holding_the_evidence():
    paragraphs = split_paragraphs(BODY)
    assert flagged_paragraphs(paragraphs, "Sie können Artikel innerhalb von 14 Tagen zurückgeben.", "de") == [1]


def test_a_rewrite_with_figures_from_the_paragraph_and_the_announcement_passes():
    assert check_paragraph(OLD, GOOD, ANNOUNCEMENT, "de").changed


def test_a_rewrite_with_an_invented_amount_is_refused_naming_it():
    draft = check_paragraph(OLD, INVENTED, ANNOUNCEMENT, "de")
    assert not draft.changed
    assert "2,95" in draft.problem


# the service with the model stand-in


def test_a_verified_rewrite_becomes_the_suggestion(model, change_flag, author, django_capture_on_commit_callbacks):
    model.script.answer = GOOD
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    assert suggestion.status == Suggestion.Status.READY, suggestion.error
    assert "innerhalb von 30 Tagen" in suggestion.body
    assert "Konto > Bestellungen > Rücksendung" in suggestion.body  # the rest stays as it was
    assert suggestion.needs_human == []
    # only the flagged paragraph was sent to the model, with the announcement
    (prompt,) = model.script.prompts()
    assert OLD in prompt and ANNOUNCEMENT.text in prompt and "Konto > Bestellungen" not in prompt
    assert {source["kind"] for source in suggestion.sources} == {"announcement", "evidence"}
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.SUGGESTION_CREATE, article=change_flag.article).count() == 1


def test_a_rewrite_with_an_invented_amount_leaves_the_paragraph_for_a_human(
        model, change_flag, author, django_capture_on_commit_callbacks):
    model.script.answer = INVENTED
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    assert suggestion.status == Suggestion.Status.READY
    assert "2,95" not in suggestion.body and "14 Tagen" in suggestion.body
    (paragraph,) = suggestion.needs_human
    assert paragraph["old"] == OLD and "2,95" in paragraph["problem"]


def test_a_model_that_is_down_gives_a_clear_message_and_nothing_half_written(
        settings, change_flag, author, django_capture_on_commit_callbacks):
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens there
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    assert suggestion.status == Suggestion.Status.FAILED
    assert "Sprachmodell hat nicht geantwortet" in suggestion.error
    assert suggestion.body == "" and suggestion.paragraphs == []


def test_no_model_configured_says_so(settings, change_flag, author, django_capture_on_commit_callbacks):
    settings.VERITY_GENERATOR = "extractive"
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    assert suggestion.status == Suggestion.Status.FAILED
    assert "Kein Sprachmodell" in suggestion.error


# accept and reject


def test_the_owner_accepts_an_edited_suggestion_as_a_draft_version(
        model, change_flag, author, django_capture_on_commit_callbacks):
    model.script.answer = GOOD
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    edited = suggestion.body.replace("Rücksendung kostet", "Rücksendung kostet weiterhin")
    suggestion = services.suggestion_accept(actor=author, suggestion=suggestion, body=edited)
    version = suggestion.version
    assert version.author == author and "kostet weiterhin 4,95 Euro" in version.body
    article = change_flag.article
    article.refresh_from_db()
    assert article.latest_version == version and article.live_version != version  # a draft, not served
    change_flag.refresh_from_db()
    assert change_flag.state == Flag.State.OPEN  # until a corrected version is published
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.SUGGESTION_ACCEPT, version=version).exists()
    with pytest.raises(ApplicationError):
        services.suggestion_accept(actor=author, suggestion=suggestion)  # decided already


def test_four_eyes_stay_intact_who_accepts_cannot_approve(
        model, change_flag, admin_user_role, approver, django_capture_on_commit_callbacks):
    model.script.answer = GOOD
    suggestion = _request(admin_user_role, change_flag, django_capture_on_commit_callbacks)
    version = services.suggestion_accept(actor=admin_user_role, suggestion=suggestion).version
    review = services.version_submit(actor=admin_user_role, version=version)
    with pytest.raises(PermissionDeniedError):
        services.version_approve(actor=admin_user_role, review=review)
    services.version_approve(actor=approver, review=review)
    change_flag.refresh_from_db()
    assert change_flag.state == Flag.State.RESOLVED  # publishing the corrected version resolves the flag


def test_reject_needs_a_reason_and_is_audited(model, change_flag, author, django_capture_on_commit_callbacks):
    model.script.answer = GOOD
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    with pytest.raises(ApplicationError, match="Begründung"):
        services.suggestion_reject(actor=author, suggestion=suggestion, reason="  ")
    versions = ArticleVersion.objects.count()
    services.suggestion_reject(actor=author, suggestion=suggestion, reason="Die Frist gilt nur für Neukunden.")
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.REJECTED and ArticleVersion.objects.count() == versions
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.SUGGESTION_REJECT)
    assert event.details["reason"] == "Die Frist gilt nur für Neukunden."
    # a new suggestion may be asked for once this one is decided
    assert _request(author, change_flag, django_capture_on_commit_callbacks).status == Suggestion.Status.READY


def test_only_the_owner_or_a_knowledge_admin_may_work_with_suggestions(
        model, change_flag, author, author2, approver, django_capture_on_commit_callbacks):
    model.script.answer = GOOD
    for stranger in (author2, approver):
        with pytest.raises(PermissionDeniedError):
            services.suggestion_request(actor=stranger, flag=change_flag)
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    for stranger in (author2, approver):
        with pytest.raises(PermissionDeniedError):
            services.suggestion_accept(actor=stranger, suggestion=suggestion)
        with pytest.raises(PermissionDeniedError):
            services.suggestion_reject(actor=stranger, suggestion=suggestion, reason="nein")


def test_only_open_change_flags_get_a_suggestion(model, change_flag, author):
    services.flag_dismiss(actor=author, flag=change_flag, reason="stimmt so")
    with pytest.raises(ApplicationError, match="offene"):
        services.suggestion_request(actor=author, flag=change_flag)


# the admin, in German


def test_the_owner_asks_reads_and_accepts_in_the_admin_in_german(
        client, model, change_flag, author, django_capture_on_commit_callbacks):
    model.script.answer = INVENTED.replace("2,95", "4,95")
    client.force_login(author)
    flag_page = client.get(reverse("admin:governance_flag_change", args=[change_flag.pk])).content.decode()
    assert "Korrigierte Version entwerfen" in flag_page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:governance_flag_suggest", args=[change_flag.pk]))
    suggestion = Suggestion.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "Quellen" in page and ANNOUNCEMENT.title in page and "Gemeldete Passage" in page
    assert "<ins" in page and "30" in page  # the word diff
    assert "Als Entwurfsversion übernehmen" in page and "Ablehnen" in page
    accepted = client.post(reverse("admin:governance_suggestion_accept", args=[suggestion.pk]),
                           {"title": "Rücksendung", "body": suggestion.body}, follow=True).content.decode()
    assert "ist ein Entwurf" in accepted


def test_a_stranger_sees_no_buttons_and_cannot_post(client, model, change_flag, author, author2,
                                                     django_capture_on_commit_callbacks):
    model.script.answer = GOOD
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    client.force_login(author2)
    page = client.get(reverse("admin:governance_suggestion_change", args=[suggestion.pk])).content.decode()
    assert "Als Entwurfsversion übernehmen" not in page
    refused = client.post(reverse("admin:governance_suggestion_reject", args=[suggestion.pk]), {"reason": "x"},
                          follow=True).content.decode()
    assert "für den Artikel Verantwortlichen" in refused
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.READY


def test_the_needs_human_list_shows_why(client, model, change_flag, author, django_capture_on_commit_callbacks):
    model.script.answer = INVENTED
    suggestion = _request(author, change_flag, django_capture_on_commit_callbacks)
    client.force_login(author)
    page = client.get(reverse("admin:governance_suggestion_change", args=[suggestion.pk])).content.decode()
    assert "Braucht einen Menschen" in page and "2,95" in page
