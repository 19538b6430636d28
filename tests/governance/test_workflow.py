"""The approval workflow: four-eyes, legal transitions only, roles, immutability, one audit event each."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from governance import services
from governance.imports import IMPORTER_USERNAME, kb_import
from governance.models import AuditEvent, Review, ReviewApproval
from kb.models import Article, ArticleVersion, content_hash
from verity.core.errors import ApplicationError, ConcurrentEditError, InvalidTransitionError, PermissionDeniedError

T = AuditEvent.Type
NEW_TITLE = "Tarif wechseln (neu)"
NEW_BODY = "Sie können zweimal pro Monat wechseln."


def _edit(article: Article, actor, *, title: str = NEW_TITLE, body: str = NEW_BODY) -> ArticleVersion:
    article.refresh_from_db()
    return services.version_create(
        actor=actor, article=article, title=title, body=body, base_version=article.latest_version.number
    )


def _fresh(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


# --- four-eyes -----------------------------------------------------------------------------------


def test_author_cannot_approve_own_version(make_article, admin_user_role, article_state):
    # given a knowledge admin (who may approve) submitted a version they wrote themselves
    article = make_article(actor=admin_user_role, owner=admin_user_role)
    review = services.version_submit(actor=admin_user_role, version=article.latest_version)
    before = article_state(article)

    # when / then
    with pytest.raises(PermissionDeniedError) as refused:
        services.version_approve(actor=admin_user_role, review=review)
    assert refused.value.code == "four_eyes"
    assert article_state(article) == before
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW
    assert _fresh(article).live_version_id is None


def test_author_cannot_request_changes_on_own_version(make_article, admin_user_role, article_state):
    article = make_article(actor=admin_user_role, owner=admin_user_role)
    review = services.version_submit(actor=admin_user_role, version=article.latest_version)
    before = article_state(article)

    with pytest.raises(PermissionDeniedError) as refused:
        services.version_request_changes(actor=admin_user_role, review=review, comment="Bitte kürzen.")

    assert refused.value.code == "four_eyes"
    assert article_state(article) == before
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW


def test_four_eyes_concerns_the_version_author_not_who_created_the_article(make_article, admin_user_role, author):
    # given the admin created the article, but the version in review was written by an author
    article = make_article(actor=admin_user_role, owner=admin_user_role)
    version = _edit(article, author)
    review = services.version_submit(actor=author, version=version)

    # when the admin approves the author's version
    services.version_approve(actor=admin_user_role, review=review)

    # then it is published
    assert _fresh(article).live_version_id == version.pk


# --- illegal transitions change nothing -------------------------------------------------------------


def test_approving_an_already_approved_review_is_refused(published_article, approver2, article_state):
    review = Review.objects.get(article=published_article)
    assert review.status == Review.Status.APPROVED
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.version_approve(actor=approver2, review=review)

    assert article_state(published_article) == before
    assert Review.objects.get(pk=review.pk).status == Review.Status.APPROVED
    assert ReviewApproval.objects.filter(review=review).count() == 1


def test_submitting_a_version_that_is_not_the_latest_is_refused(published_article, author, article_state):
    # given v1 is live and v2 is a newer draft
    v1 = published_article.live_version
    _edit(published_article, author)
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.version_submit(actor=author, version=v1)

    assert article_state(published_article) == before
    assert Review.objects.filter(article=published_article, status=Review.Status.IN_REVIEW).count() == 0


def test_submitting_the_live_version_again_is_refused(published_article, author, article_state):
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.version_submit(actor=author, version=published_article.live_version)

    assert article_state(published_article) == before


def test_submitting_while_a_review_is_open_is_refused(make_article, author, author2, article_state):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    before = article_state(article)

    with pytest.raises(InvalidTransitionError):
        services.version_submit(actor=author2, version=article.latest_version)

    assert article_state(article) == before
    assert list(Review.objects.filter(article=article).values_list("pk", "status")) == [
        (review.pk, Review.Status.IN_REVIEW)
    ]


def test_editing_while_in_review_is_refused(published_article, author, article_state):
    version = _edit(published_article, author)
    services.version_submit(actor=author, version=version)
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.version_create(
            actor=author, article=published_article, title=NEW_TITLE, body="Noch eine Änderung.",
            base_version=version.number,
        )

    assert article_state(published_article) == before


@pytest.mark.parametrize("comment", ["", "   \n"])
def test_requesting_changes_without_a_comment_is_refused(make_article, author, approver, article_state, comment):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    before = article_state(article)

    # A missing comment is a validation error (HTTP 400), not a state conflict: a typed
    # ApplicationError with its own stable code rather than an InvalidTransitionError.
    with pytest.raises(ApplicationError) as refused:
        services.version_request_changes(actor=approver, review=review, comment=comment)

    assert refused.value.code == "comment_required"
    assert article_state(article) == before
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW


def test_requesting_changes_on_a_decided_review_is_refused(published_article, approver2, article_state):
    review = Review.objects.get(article=published_article)
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.version_request_changes(actor=approver2, review=review, comment="Zu spät.")

    assert article_state(published_article) == before


# --- at most one open review ------------------------------------------------------------------------


def test_database_allows_at_most_one_open_review_per_article(published_article, author):
    version = _edit(published_article, author)
    Review.objects.create(article=published_article, version=version, submitted_by=author)

    with pytest.raises(IntegrityError, match="one_open_review_per_article"), transaction.atomic():
        Review.objects.create(article=published_article, version=version, submitted_by=author)

    assert Review.objects.filter(article=published_article, status=Review.Status.IN_REVIEW).count() == 1


def test_database_allows_a_new_open_review_once_the_old_one_is_decided(published_article, author):
    # given the approved review of v1 and a newly submitted v2
    version = _edit(published_article, author)
    services.version_submit(actor=author, version=version)

    assert list(
        Review.objects.filter(article=published_article).order_by("pk").values_list("version__number", "status")
    ) == [(1, Review.Status.APPROVED), (2, Review.Status.IN_REVIEW)]


# --- extra approval step ----------------------------------------------------------------------------


def test_space_with_extra_approval_needs_two_different_approvers(
    make_article, sensitive_space, author, approver, approver2, article_state, audit_counts
):
    # given a version in review in a space that requires an extra approval
    article = make_article(space=sensitive_space)
    version = article.latest_version
    review = services.version_submit(actor=author, version=version)
    assert review.required_approvals == 2

    # when the first approver approves
    counts = audit_counts()
    services.version_approve(actor=approver, review=review)

    # then nothing is published yet
    assert audit_counts() - counts == Counter({T.VERSION_APPROVE: 1})
    assert _fresh(article).live_version_id is None
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW
    assert list(review.approvals.values_list("approver__username", "step")) == [("clara", 1)]

    # when the same approver tries again, it is refused and nothing changes
    before = article_state(article)
    with pytest.raises(PermissionDeniedError) as refused:
        services.version_approve(actor=approver, review=review)
    assert refused.value.code == "same_approver"
    assert article_state(article) == before

    # when a second, different approver approves
    counts = audit_counts()
    services.version_approve(actor=approver2, review=review)

    # then exactly the reviewed version is published
    assert audit_counts() - counts == Counter({T.VERSION_APPROVE: 1, T.VERSION_PUBLISH: 1})
    article = _fresh(article)
    assert article.live_version_id == version.pk
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED
    assert review.decided_at is not None
    assert list(review.approvals.values_list("approver__username", "step")) == [("clara", 1), ("david", 2)]


def test_space_without_extra_approval_publishes_on_the_first_approval(make_article, author, approver):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    assert review.required_approvals == 1

    services.version_approve(actor=approver, review=review)

    assert _fresh(article).live_version_id == article.latest_version_id
    assert Review.objects.get(pk=review.pk).status == Review.Status.APPROVED


# --- publishing, requesting changes, withdrawing, rolling back ----------------------------------------


def test_approving_publishes_exactly_the_reviewed_version(published_article, author, approver2):
    # given v1 live and v2 (with a new title) in review
    v1 = published_article.live_version
    v2 = _edit(published_article, author)
    assert _fresh(published_article).title == "Tarif wechseln"  # the served title stays until published
    review = services.version_submit(actor=author, version=v2)

    # when
    services.version_approve(actor=approver2, review=review)

    # then
    article = _fresh(published_article)
    assert article.live_version_id == review.version_id == v2.pk
    assert article.latest_version_id == v2.pk
    assert article.title == NEW_TITLE
    assert article.live_version.body == NEW_BODY + "\n"
    assert v1.pk != v2.pk
    publish = AuditEvent.objects.get(event_type=T.VERSION_PUBLISH, version=v2)
    assert publish.details == {"previous_version": 1}
    assert publish.actor_label == "david"


def test_requesting_changes_keeps_the_live_version(published_article, author, approver, audit_counts):
    v1 = published_article.live_version
    v2 = _edit(published_article, author)
    review = services.version_submit(actor=author, version=v2)
    counts = audit_counts()

    services.version_request_changes(actor=approver, review=review, comment="  Bitte Quelle angeben.  ")

    assert audit_counts() - counts == Counter({T.VERSION_REQUEST_CHANGES: 1})
    review.refresh_from_db()
    assert review.status == Review.Status.CHANGES_REQUESTED
    assert review.comment == "Bitte Quelle angeben."
    assert review.decided_at is not None
    article = _fresh(published_article)
    assert article.live_version_id == v1.pk
    assert article.latest_version_id == v2.pk
    assert article.title == "Tarif wechseln"
    assert review.approvals.count() == 0

    # and the author may now edit again and resubmit
    v3 = _edit(published_article, author, body="Sie können zweimal pro Monat wechseln (Quelle: AGB 4.2).")
    assert v3.number == 3
    assert v3.based_on_id == v2.pk
    assert services.version_submit(actor=author, version=v3).status == Review.Status.IN_REVIEW


def test_submitter_withdraws_a_review(published_article, author, audit_counts):
    v2 = _edit(published_article, author)
    review = services.version_submit(actor=author, version=v2)
    counts = audit_counts()

    services.review_withdraw(actor=author, review=review)

    assert audit_counts() - counts == Counter({T.VERSION_WITHDRAW: 1})
    review.refresh_from_db()
    assert review.status == Review.Status.WITHDRAWN
    assert review.decided_at is not None
    article = _fresh(published_article)
    assert article.live_version_id == published_article.live_version_id
    assert article.latest_version_id == v2.pk
    # editing is possible again
    assert _edit(published_article, author, body="Dritte Fassung.").number == 3


def test_only_the_submitter_or_a_knowledge_admin_may_withdraw(
    published_article, author, author2, admin_user_role, article_state
):
    review = services.version_submit(actor=author, version=_edit(published_article, author))
    before = article_state(published_article)

    with pytest.raises(PermissionDeniedError):
        services.review_withdraw(actor=author2, review=review)
    assert article_state(published_article) == before

    services.review_withdraw(actor=admin_user_role, review=review)
    assert Review.objects.get(pk=review.pk).status == Review.Status.WITHDRAWN


def test_withdrawing_a_decided_review_is_refused(published_article, author, article_state):
    review = Review.objects.get(article=published_article)
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.review_withdraw(actor=author, review=review)

    assert article_state(published_article) == before


def test_rollback_creates_a_new_draft_with_the_old_content_that_must_be_reviewed(
    published_article, author, approver, approver2, audit_counts
):
    # given v1 was replaced by the published v2
    v1 = published_article.live_version
    v2 = _edit(published_article, author)
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=v2))
    counts = audit_counts()

    # when the author rolls back to v1
    v3 = services.version_rollback(actor=author, article=published_article, to_version=v1, base_version=2)

    # then v3 is a draft with v1's content, and v2 stays live
    assert audit_counts() - counts == Counter({T.VERSION_ROLLBACK: 1})
    assert (v3.number, v3.title, v3.body, v3.based_on_id) == (3, v1.title, v1.body, v1.pk)
    assert v3.content_hash == v1.content_hash == content_hash(v1.title, v1.body)
    assert v3.change_note == "Zurück auf Version 1"  # in the article's language
    assert v3.author == author
    article = _fresh(published_article)
    assert (article.live_version_id, article.latest_version_id, article.title) == (v2.pk, v3.pk, NEW_TITLE)
    assert ArticleVersion.objects.filter(article=article).count() == 3

    # and it is published only after review
    services.version_approve(actor=approver2, review=services.version_submit(actor=author, version=v3))
    article = _fresh(published_article)
    assert (article.live_version_id, article.title) == (v3.pk, "Tarif wechseln")


def test_rollback_from_an_outdated_view_or_during_a_review_is_refused(published_article, author, article_state):
    v1 = published_article.live_version
    v2 = _edit(published_article, author)
    services.version_submit(actor=author, version=v2)
    before = article_state(published_article)

    with pytest.raises(InvalidTransitionError):
        services.version_rollback(actor=author, article=published_article, to_version=v1, base_version=2)
    with pytest.raises(ConcurrentEditError):
        services.version_rollback(actor=author, article=published_article, to_version=v1, base_version=1)

    assert article_state(published_article) == before


# --- permissions by role ----------------------------------------------------------------------------


def test_agent_cannot_create_articles(agent, space, audit_counts):
    counts = audit_counts()

    with pytest.raises(PermissionDeniedError):
        services.article_create(
            actor=agent, slug="agent-notiz", title="Notiz", body="Text", locale="de", space=space, owner=agent
        )

    assert not Article.objects.filter(slug="agent-notiz").exists()
    assert ArticleVersion.objects.count() == 0
    assert audit_counts() == counts


def test_agent_cannot_edit_or_submit(published_article, author, agent, article_state):
    v2 = _edit(published_article, author)
    before = article_state(published_article)

    with pytest.raises(PermissionDeniedError):
        services.version_create(actor=agent, article=published_article, title="X", body="Y", base_version=2)
    with pytest.raises(PermissionDeniedError):
        services.version_submit(actor=agent, version=v2)

    assert article_state(published_article) == before


@pytest.mark.parametrize("role", ["agent", "author", "author2"])
def test_agents_and_authors_cannot_approve_or_request_changes(request, make_article, author, article_state, role):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    actor = request.getfixturevalue(role)
    before = article_state(article)

    with pytest.raises(PermissionDeniedError) as refused:
        services.version_approve(actor=actor, review=review)
    assert refused.value.code == "permission_denied"
    with pytest.raises(PermissionDeniedError):
        services.version_request_changes(actor=actor, review=review, comment="Bitte ändern.")

    assert article_state(article) == before


def test_approver_can_approve(make_article, author, approver):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)

    services.version_approve(actor=approver, review=review, comment="Passt.")

    assert _fresh(article).live_version_id == article.latest_version_id
    assert list(review.approvals.values_list("approver__username", "step", "comment")) == [("clara", 1, "Passt.")]


def test_inactive_approver_cannot_approve(make_article, author, approver, article_state):
    approver.is_active = False
    approver.save(update_fields=["is_active"])
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    before = article_state(article)

    with pytest.raises(PermissionDeniedError):
        services.version_approve(actor=approver, review=review)

    assert article_state(article) == before


# --- the database guards history ----------------------------------------------------------------------


def test_article_versions_cannot_be_updated(published_article):
    version = published_article.live_version

    with pytest.raises(IntegrityError, match="article versions are immutable"), transaction.atomic():
        ArticleVersion.objects.filter(pk=version.pk).update(body="Heimlich geändert.")
    with pytest.raises(IntegrityError, match="article versions are immutable"), transaction.atomic():
        version.title = "Heimlich"
        version.save()

    assert ArticleVersion.objects.filter(pk=version.pk).values_list("title", "body").get() == (
        "Tarif wechseln", "Sie können einmal pro Monat wechseln.\n",
    )


def test_audit_events_cannot_be_updated_or_deleted(published_article):
    event = AuditEvent.objects.filter(article=published_article).order_by("pk").first()
    count = AuditEvent.objects.count()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="mallory")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.details = {"forged": True}
        event.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.count() == count
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_label, stored.event_type, stored.details) == (
        "anna", T.ARTICLE_CREATE, {"title": "Tarif wechseln", "locale": "de", "audience": "public", "kind": "article"},
    )


# --- exactly one audit event per transition ------------------------------------------------------------


def test_create_writes_one_article_create_event(make_article, audit_counts):
    counts = audit_counts()

    article = make_article()

    assert audit_counts() - counts == Counter({T.ARTICLE_CREATE: 1})
    event = AuditEvent.objects.get(event_type=T.ARTICLE_CREATE, article=article)
    assert (event.actor_label, event.version_id, event.target_label) == ("anna", article.latest_version_id, "tarifwechsel v1")


def test_edit_writes_one_version_create_event(published_article, author, audit_counts):
    counts = audit_counts()

    version = _edit(published_article, author)

    assert audit_counts() - counts == Counter({T.VERSION_CREATE: 1})
    event = AuditEvent.objects.get(event_type=T.VERSION_CREATE, version=version)
    assert event.details == {"based_on": 1, "change_note": ""}


def test_settings_edit_writes_one_article_edit_event(published_article, author, audit_counts):
    counts = audit_counts()

    article = services.article_update_settings(actor=author, article=published_article, review_interval_days=30)

    assert audit_counts() - counts == Counter({T.ARTICLE_EDIT: 1})
    event = AuditEvent.objects.get(event_type=T.ARTICLE_EDIT, article=article)
    assert event.details == {"changed": {"review_interval_days": [None, 30]}}
    assert article.review_due_at == article.last_verified_at + dt.timedelta(days=30)


def test_settings_edit_without_a_change_writes_no_event(published_article, author, audit_counts):
    counts = audit_counts()

    services.article_update_settings(actor=author, article=published_article, audience=Article.Audience.PUBLIC)

    assert audit_counts() == counts


def test_submit_writes_one_event(make_article, author, audit_counts):
    article = make_article()
    counts = audit_counts()

    review = services.version_submit(actor=author, version=article.latest_version)

    assert audit_counts() - counts == Counter({T.VERSION_SUBMIT: 1})
    assert AuditEvent.objects.get(event_type=T.VERSION_SUBMIT).details == {"review": review.pk, "required_approvals": 1}


def test_approve_writes_one_approve_and_one_publish_event(make_article, author, approver, audit_counts):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    counts = audit_counts()

    services.version_approve(actor=approver, review=review)

    assert audit_counts() - counts == Counter({T.VERSION_APPROVE: 1, T.VERSION_PUBLISH: 1})
    assert AuditEvent.objects.get(event_type=T.VERSION_APPROVE).details == {
        "review": review.pk, "step": 1, "of": 1, "comment": "",
    }


def test_publish_writes_one_event(published_article, author, approver, audit_counts):
    version = _edit(published_article, author)
    counts = audit_counts()

    services.version_publish(actor=approver, version=version)

    assert audit_counts() - counts == Counter({T.VERSION_PUBLISH: 1})
    assert _fresh(published_article).live_version_id == version.pk


def test_verify_writes_one_event(published_article, author, audit_counts):
    counts = audit_counts()

    services.article_verify(actor=author, article=published_article, note="Geprüft.")

    assert audit_counts() - counts == Counter({T.ARTICLE_VERIFY: 1})


def test_import_writes_one_event_per_file(tmp_path: Path, db, audit_counts):
    folder = tmp_path / "kb"
    folder.mkdir()
    for slug in ("eins", "zwei"):
        (folder / f"{slug}.md").write_text(f"---\nslug: {slug}\ntitle: {slug.title()}\nlocale: de\n---\nText {slug}.\n")
    counts = audit_counts()

    kb_import(folder=folder)

    assert audit_counts() - counts == Counter({T.ARTICLE_IMPORT: 2})
    assert sorted(AuditEvent.objects.filter(event_type=T.ARTICLE_IMPORT).values_list("article__slug", "actor_label")) == [
        ("eins", IMPORTER_USERNAME), ("zwei", IMPORTER_USERNAME),
    ]

    # and an update of one file is one more event
    (folder / "zwei.md").write_text("---\nslug: zwei\ntitle: Zwei\nlocale: de\n---\nNeuer Text.\n")
    counts = audit_counts()
    kb_import(folder=folder)
    assert audit_counts() - counts == Counter({T.ARTICLE_IMPORT: 1})


def test_the_fixture_workflow_leaves_exactly_four_events(published_article):
    # create, submit, approve, publish: one event each, in order
    assert list(
        AuditEvent.objects.filter(article=published_article).order_by("pk").values_list("event_type", "actor_label")
    ) == [
        (T.ARTICLE_CREATE, "anna"), (T.VERSION_SUBMIT, "anna"), (T.VERSION_APPROVE, "clara"), (T.VERSION_PUBLISH, "clara"),
    ]
