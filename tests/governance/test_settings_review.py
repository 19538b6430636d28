"""Issue #14 item 2: governance settings that widen what is served, or who may act, go through review;
import publishes only as the import identity; rollback restores only versions that were live."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from governance import services
from governance.imports import IMPORTER_USERNAME, kb_import
from governance.models import AuditEvent, Review, SettingsChange
from kb.models import Article, Space
from verity.core.errors import ApplicationError, InvalidTransitionError, PermissionDeniedError

T = AuditEvent.Type


def _fresh(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


def _settings(article: Article) -> dict:
    fresh = _fresh(article)
    return {field: getattr(fresh, field) for field in (
        "audience", "valid_from", "valid_until", "space_id", "owner_id", "translation_of_id", "review_due_at")}


@pytest.fixture
def internal_policy(make_article, author, approver):
    article = make_article("kulanz-richtlinie", audience=Article.Audience.INTERNAL, kind=Article.Kind.POLICY,
                           body="Kulanz bis 200 Euro ohne Rücksprache.")
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=article.latest_version))
    return _fresh(article)


# --- the service refuses to apply review-gated settings at once ----------------------------------------


@pytest.mark.parametrize("change", [
    {"audience": Article.Audience.PUBLIC},
    {"valid_until": dt.date(2030, 1, 1)},
    {"valid_from": dt.date(2020, 1, 1)},
    {"owner": "author2"},
    {"space": "other"},
])
def test_gated_settings_of_a_published_article_are_not_applied_at_once(
    change, internal_policy, author, author2, audit_counts, article_state
):
    other = Space.objects.create(slug="andere", name="Andere")
    change = {key: {"author2": author2, "other": other}.get(value, value) if isinstance(value, str) else value
              for key, value in change.items()}
    before, settings_before, counts = article_state(internal_policy), _settings(internal_policy), audit_counts()

    with pytest.raises(ApplicationError) as refused:
        services.article_update_settings(actor=author, article=internal_policy, **change)

    assert refused.value.code == "review_required"
    field = next(iter(change))
    assert refused.value.details == {"settings": [field]}
    assert str(Article._meta.get_field(field).verbose_name) in refused.value.message  # named for people
    assert (article_state(internal_policy), _settings(internal_policy), audit_counts()) == (before, settings_before, counts)


def test_restricting_the_audience_and_other_settings_still_apply_at_once(published_article, author):
    article = services.article_update_settings(actor=author, article=published_article,
                                               audience=Article.Audience.INTERNAL, review_interval_days=30, tags=["x"])

    assert (_fresh(article).audience, _fresh(article).review_interval_days, _fresh(article).tags) == ("internal", 30, ["x"])


def test_an_article_never_published_takes_its_settings_at_once(make_article, author):
    # its first version's review covers them: nothing is served before that approval
    article = make_article(audience=Article.Audience.INTERNAL)

    services.article_update_settings(actor=author, article=article, audience=Article.Audience.PUBLIC,
                                     valid_until=dt.date(2030, 1, 1))

    assert (_fresh(article).audience, _fresh(article).valid_until) == ("public", dt.date(2030, 1, 1))


# --- the settings review ---------------------------------------------------------------------------------


def test_a_proposed_audience_change_is_applied_only_when_another_approver_approves(
    internal_policy, author, approver, audit_counts
):
    counts = audit_counts()

    change = services.settings_change_propose(actor=author, article=internal_policy, audience=Article.Audience.PUBLIC,
                                              valid_until=dt.date(2030, 1, 1))

    # then nothing is applied yet, and the proposal is audited with its diff
    assert (_fresh(internal_policy).audience, _fresh(internal_policy).valid_until) == ("internal", None)
    assert change.status == SettingsChange.Status.PENDING
    assert audit_counts() - counts == Counter({T.SETTINGS_PROPOSE: 1})
    assert AuditEvent.objects.get(event_type=T.SETTINGS_PROPOSE).details == {
        "settings_change": change.pk, "required_approvals": 1,
        "changed": {"audience": ["internal", "public"], "valid_until": [None, "2030-01-01"]},
    }

    # when an approver approves
    services.settings_change_approve(actor=approver, change=change, comment="ok")

    # then it is applied, with one audit event naming proposer and approver
    assert (_fresh(internal_policy).audience, _fresh(internal_policy).valid_until) == ("public", dt.date(2030, 1, 1))
    assert SettingsChange.objects.get(pk=change.pk).status == SettingsChange.Status.APPROVED
    assert audit_counts() - counts == Counter({T.SETTINGS_PROPOSE: 1, T.SETTINGS_APPROVE: 1})
    event = AuditEvent.objects.get(event_type=T.SETTINGS_APPROVE)
    assert (event.actor_label, event.details["applied"], event.details["proposed_by"]) == ("clara", True, "anna")


def test_the_proposer_cannot_approve_their_own_settings_change(internal_policy, admin_user_role, article_state):
    change = services.settings_change_propose(actor=admin_user_role, article=internal_policy,
                                              audience=Article.Audience.PUBLIC)
    before = article_state(internal_policy)

    with pytest.raises(PermissionDeniedError) as refused:
        services.settings_change_approve(actor=admin_user_role, change=change)

    assert refused.value.code == "four_eyes"
    assert article_state(internal_policy) == before
    assert _fresh(internal_policy).audience == "internal"
    assert SettingsChange.objects.get(pk=change.pk).status == SettingsChange.Status.PENDING


def test_an_author_cannot_approve_settings(internal_policy, author, author2):
    change = services.settings_change_propose(actor=author, article=internal_policy, audience=Article.Audience.PUBLIC)

    with pytest.raises(PermissionDeniedError):
        services.settings_change_approve(actor=author2, change=change)

    assert _fresh(internal_policy).audience == "internal"


def test_moving_out_of_a_space_with_extra_approval_needs_two_approvers(
    make_article, author, approver, approver2, sensitive_space, space
):
    article = make_article(space=sensitive_space)
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_approve(actor=approver, review=review)
    services.version_approve(actor=approver2, review=review)
    change = services.settings_change_propose(actor=author, article=article, space=space)

    services.settings_change_approve(actor=approver, change=change)
    assert _fresh(article).space_id == sensitive_space.pk
    with pytest.raises(PermissionDeniedError):
        services.settings_change_approve(actor=approver, change=change)
    services.settings_change_approve(actor=approver2, change=change)

    assert _fresh(article).space_id == space.pk


def test_rejecting_and_withdrawing_change_nothing_on_the_article(internal_policy, author, approver):
    change = services.settings_change_propose(actor=author, article=internal_policy, audience=Article.Audience.PUBLIC)
    with pytest.raises(ApplicationError, match="Kommentar"):
        services.settings_change_reject(actor=approver, change=change, comment=" ")
    services.settings_change_reject(actor=approver, change=change, comment="Bleibt intern.")
    assert SettingsChange.objects.get(pk=change.pk).status == SettingsChange.Status.REJECTED

    second = services.settings_change_propose(actor=author, article=internal_policy, audience=Article.Audience.PUBLIC)
    services.settings_change_withdraw(actor=author, change=second)

    assert SettingsChange.objects.get(pk=second.pk).status == SettingsChange.Status.WITHDRAWN
    assert _fresh(internal_policy).audience == "internal"
    with pytest.raises(InvalidTransitionError):
        services.settings_change_approve(actor=approver, change=second)


def test_bad_or_duplicate_proposals_are_refused_and_store_nothing(internal_policy, author, audit_counts):
    counts = audit_counts()
    with pytest.raises(ApplicationError) as bad_dates:
        services.settings_change_propose(actor=author, article=internal_policy,
                                         valid_from=dt.date(2030, 1, 1), valid_until=dt.date(2029, 1, 1))
    assert bad_dates.value.code == "invalid_settings"
    assert bad_dates.value.message == "Gültig bis: Muss nach „Gültig ab“ liegen."
    with pytest.raises(ApplicationError) as nothing:
        services.settings_change_propose(actor=author, article=internal_policy, audience=Article.Audience.INTERNAL)
    assert nothing.value.code == "no_change"
    with pytest.raises(ApplicationError) as unknown:
        services.settings_change_propose(actor=author, article=internal_policy, slug="neu")
    assert unknown.value.code == "unknown_settings"
    assert SettingsChange.objects.count() == 0
    assert audit_counts() == counts

    services.settings_change_propose(actor=author, article=internal_policy, audience=Article.Audience.PUBLIC)
    with pytest.raises(InvalidTransitionError):
        services.settings_change_propose(actor=author, article=internal_policy, valid_until=dt.date(2030, 1, 1))
    assert SettingsChange.objects.count() == 1


def test_a_proposal_overtaken_by_a_later_change_is_not_applied(internal_policy, author, approver, approver2):
    change = services.settings_change_propose(actor=author, article=internal_policy, valid_until=dt.date(2030, 1, 1))
    # meanwhile the validity changed by another approved proposal is impossible (one pending per article),
    # but an import (the import identity) may change it
    Article.objects.filter(pk=internal_policy.pk).update(valid_until=dt.date(2029, 6, 1))

    with pytest.raises(InvalidTransitionError, match="Seit dem Vorschlag haben sich diese Einstellungen"):
        services.settings_change_approve(actor=approver, change=change)

    assert _fresh(internal_policy).valid_until == dt.date(2029, 6, 1)
    assert SettingsChange.objects.get(pk=change.pk).status == SettingsChange.Status.PENDING


# --- the admin --------------------------------------------------------------------------------------------


def _form(article: Article, **overrides) -> dict:
    data = {
        "content_title": article.latest_version.title, "content_body": article.latest_version.body,
        "change_note": "", "base_version": article.latest_version.number, "owner": article.owner_id,
        "space": article.space_id, "locale": article.locale, "kind": article.kind, "audience": article.audience,
        "review_interval_days": article.review_interval_days or "", "valid_from": "", "valid_until": "",
        "tags": ",".join(article.tags), "translation_of": "",
    }
    data.update(overrides)
    return data


def test_admin_setting_an_internal_policy_public_creates_a_proposal_that_an_approver_approves(
    client, internal_policy, author, approver, public_key_search
):
    # given an author sets the internal policy to public in the admin form
    client.force_login(author)
    response = client.post(reverse("admin:kb_article_change", args=[internal_policy.pk]),
                           _form(internal_policy, audience="public"), follow=True)

    # then it is not public, and a public key cannot find it
    assert response.status_code == 200
    assert _fresh(internal_policy).audience == "internal"
    assert "wartet auf die Freigabe durch eine andere Person" in response.content.decode()
    assert public_key_search("Kulanz Rücksprache") == []
    change = SettingsChange.objects.get(article=internal_policy, status=SettingsChange.Status.PENDING)

    # and the change page shows the pending change to an approver, with the approve button
    client.force_login(approver)
    page = client.get(reverse("admin:kb_article_change", args=[internal_policy.pk])).content.decode()
    assert 'id="pending-settings"' in page
    assert "<td>Zielgruppe</td><td><del>Intern</del></td><td><ins>Öffentlich</ins></td>" in page
    assert 'name="approve-settings"' in page
    diff = client.get(reverse("admin:kb_article_diff", args=[internal_policy.pk]), {"from": 1, "to": 1}).content.decode()
    assert 'id="pending-settings"' in diff

    # when the approver approves it
    response = client.post(reverse("admin:kb_article_workflow", args=[internal_policy.pk, "approve_settings"]),
                           {"settings_change": change.pk}, follow=True)

    # then it is applied and searchable with a public key
    assert "Einstellungsänderung freigegeben und übernommen." in response.content.decode()
    assert _fresh(internal_policy).audience == "public"
    assert public_key_search("Kulanz Rücksprache") == ["kulanz-richtlinie"]


def test_admin_shows_no_settings_approve_button_to_the_proposer(client, internal_policy, admin_user_role):
    services.settings_change_propose(actor=admin_user_role, article=internal_policy, audience=Article.Audience.PUBLIC)
    client.force_login(admin_user_role)

    page = client.get(reverse("admin:kb_article_change", args=[internal_policy.pk])).content.decode()

    assert 'id="pending-settings"' in page
    assert 'name="approve-settings"' not in page
    assert "Vier-Augen-Prinzip" in page


@pytest.fixture
def public_key_search(db):
    """Search as a client with a public API key would."""
    from rest_framework.test import APIClient

    from retrieval.apikeys import apikey_create
    from retrieval.index import corpus as search_module

    _, raw = apikey_create(name="helpcenter", audience="public")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def search(query: str) -> list[str]:
        search_module.stats_invalidate()
        response = client.get("/api/v1/search", {"q": query})
        assert response.status_code == 200
        return [item["slug"] for item in response.json()["results"]]

    return search


# --- import -----------------------------------------------------------------------------------------------


def _write(folder: Path, slug: str, body: str, **front: str) -> None:
    extra = "".join(f"{key}: {value}\n" for key, value in front.items())
    (folder / f"{slug}.md").write_text(f"---\nslug: {slug}\ntitle: {slug.title()}\nlocale: de\n{extra}---\n{body}\n")


def test_import_with_a_user_submits_their_text_for_review_instead_of_publishing_it(tmp_path, author, approver, audit_counts):
    folder = tmp_path / "kb"
    folder.mkdir()
    _write(folder, "neu", "Neuer Text von Anna.", audience="public")
    counts = audit_counts()

    call_command("kb_import", str(folder), "--user", "anna", "--inline", verbosity=0)

    article = Article.objects.get(slug="neu")
    assert article.live_version_id is None
    review = Review.objects.get(article=article, status=Review.Status.IN_REVIEW)
    assert (review.version_id, review.submitted_by, article.latest_version.author) == (article.latest_version_id, author, author)
    event = AuditEvent.objects.get(event_type=T.ARTICLE_IMPORT, article=article)
    assert event.actor_label == "anna"
    assert event.details.get("approved_by") is None
    assert not AuditEvent.objects.filter(event_type=T.VERSION_PUBLISH, article=article).exists()
    assert audit_counts() - counts == Counter({T.ARTICLE_IMPORT: 1, T.VERSION_SUBMIT: 1})

    # and anna cannot approve it; another approver can
    with pytest.raises(PermissionDeniedError):
        services.version_approve(actor=author, review=review)
    services.version_approve(actor=approver, review=review)
    assert _fresh(article).live_version_id == article.latest_version_id


def test_import_with_a_user_proposes_gated_settings_of_published_articles(tmp_path, author, approver):
    folder = tmp_path / "kb"
    folder.mkdir()
    _write(folder, "regel", "Interne Regel.", audience="internal")
    kb_import(folder=folder)
    _write(folder, "regel", "Interne Regel.", audience="public")

    call_command("kb_import", str(folder), "--user", "anna", "--inline", verbosity=0)

    article = Article.objects.get(slug="regel")
    assert article.audience == "internal"
    change = SettingsChange.objects.get(article=article, status=SettingsChange.Status.PENDING)
    assert (change.proposed_by, change.proposed) == (author, {"audience": "public"})


def test_import_without_a_user_publishes_as_the_import_identity(tmp_path, db):
    folder = tmp_path / "kb"
    folder.mkdir()
    _write(folder, "eins", "Text.")

    kb_import(folder=folder)

    article = Article.objects.get(slug="eins")
    assert article.live_version.author.username == IMPORTER_USERNAME
    event = AuditEvent.objects.get(event_type=T.ARTICLE_IMPORT, article=article)
    assert (event.actor_label, event.details["approved_by"]) == (IMPORTER_USERNAME, "import")


# --- rollback ---------------------------------------------------------------------------------------------


def test_rollback_to_a_version_that_was_never_live_is_refused(published_article, author, admin_user_role, article_state):
    # given the admin wrote a draft v2 that nobody reviewed, and the author wrote v3 on top
    services.version_create(actor=admin_user_role, article=published_article, title="Tarif wechseln",
                            body="Unreviewed text by erika.", base_version=1)
    services.version_create(actor=author, article=published_article, title="Tarif wechseln",
                            body="Anna's text.", base_version=2)
    v2 = published_article.versions.get(number=2)
    before = article_state(published_article)

    # when the author rolls back to v2 (so that erika could approve "someone else's" version)
    with pytest.raises(ApplicationError) as refused:
        services.version_rollback(actor=author, article=_fresh(published_article), to_version=v2, base_version=3)

    # then it is refused and nothing changed
    assert refused.value.code == "never_published"
    assert "Version 2 von „tarifwechsel“ war nie veröffentlicht" in refused.value.message
    assert article_state(published_article) == before


def test_rollback_to_a_version_that_was_live_is_authored_by_who_rolled_back(published_article, author, author2, approver):
    v1 = published_article.live_version
    version = services.version_create(actor=author, article=published_article, title="Neu", body="Neuer Text.",
                                      base_version=1)
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=version))

    restored = services.version_rollback(actor=author2, article=_fresh(published_article), to_version=v1, base_version=2)

    assert (restored.author, restored.body, restored.based_on_id) == (author2, v1.body, v1.pk)


def test_the_admin_offers_rollback_only_to_versions_that_were_live(client, published_article, author, admin_user_role):
    services.version_create(actor=admin_user_role, article=published_article, title="Tarif wechseln",
                            body="Unreviewed text by erika.", base_version=1)
    services.version_create(actor=author, article=published_article, title="Tarif wechseln",
                            body="Anna's text.", base_version=2)
    client.force_login(author)

    page = client.get(reverse("admin:kb_article_change", args=[published_article.pk])).content.decode()

    assert 'form="rollback-1"' in page
    assert 'form="rollback-2"' not in page
