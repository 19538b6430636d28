"""The owners' admin: pages render, buttons call the services, permissions deny."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance import services
from governance.models import AuditEvent, Flag, Review
from kb.models import Article


def _change_url(article: Article) -> str:
    return reverse("admin:kb_article_change", args=[article.pk])


def _workflow_url(article: Article, action: str) -> str:
    return reverse("admin:kb_article_workflow", args=[article.pk, action])


def test_article_list_renders_badges_and_filters(client, author, published_article, make_article):
    # given a live article and a never-published draft
    make_article("kuendigung", title="Vertrag kündigen")
    client.force_login(author)

    # when
    response = client.get(reverse("admin:kb_article_changelist"))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'verity-badge-live">live v1' in html
    assert 'verity-badge-unpublished">nicht veröffentlicht' in html
    for state in ("awaiting_me", "in_review", "draft", "due", "expired", "flagged"):
        assert f"state={state}" in html
    assert "mine=1" in html


@pytest.mark.parametrize(
    ("state", "expected"),
    [("unpublished", ["kuendigung"]), ("due", []), ("in_review", ["kuendigung"]), ("expired", [])],
)
def test_state_filters_select_the_right_articles(client, author, published_article, make_article, state, expected):
    draft = make_article("kuendigung", title="Vertrag kündigen")
    if state == "in_review":
        services.version_submit(actor=author, version=draft.latest_version)
    client.force_login(author)

    response = client.get(reverse("admin:kb_article_changelist"), {"state": state})

    assert response.status_code == 200
    assert sorted(article.slug for article in response.context["cl"].result_list) == expected


def test_awaiting_my_approval_lists_only_reviews_others_wrote(client, author, approver, make_article):
    article = make_article()
    services.version_submit(actor=author, version=article.latest_version)

    client.force_login(approver)
    for_approver = client.get(reverse("admin:kb_article_changelist"), {"state": "awaiting_me"})
    client.force_login(author)
    for_author = client.get(reverse("admin:kb_article_changelist"), {"state": "awaiting_me"})

    assert [a.slug for a in for_approver.context["cl"].result_list] == ["tarifwechsel"]
    assert list(for_author.context["cl"].result_list) == []


def test_change_page_shows_history_preview_audit_and_actions(client, approver, published_article):
    client.force_login(approver)

    response = client.get(_change_url(published_article))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Versionsgeschichte" in html
    assert "Bestätigen: weiterhin korrekt" in html
    assert "Sie können einmal pro Monat wechseln." in html  # rendered live preview
    assert "Zur Freigabe eingereicht" in html and "Veröffentlicht" in html  # audit rows


def test_edit_creates_a_new_draft_version_and_keeps_the_live_one(client, author, published_article):
    client.force_login(author)
    data = _form_data(published_article, body="Sie können zweimal pro Monat wechseln.", base_version=1)

    response = client.post(_change_url(published_article), data)

    assert response.status_code == 302
    published_article.refresh_from_db()
    assert published_article.latest_version.number == 2
    assert published_article.live_version.number == 1
    assert published_article.latest_version.body == "Sie können zweimal pro Monat wechseln.\n"


def test_edit_from_an_outdated_version_is_refused_and_overwrites_nothing(client, author, author2, published_article):
    # given author2 saved v2 while author was still editing v1
    services.version_create(actor=author2, article=published_article, title="Tarif wechseln",
                            body="Version von Ben.", base_version=1)
    events_before = AuditEvent.objects.count()
    client.force_login(author)

    # when author saves the edit based on v1
    response = client.post(_change_url(published_article), _form_data(published_article, body="Version von Anna.", base_version=1))

    # then the form is shown again with the message, and nothing changed
    assert response.status_code == 200
    assert "von ben gespeichert" in response.content.decode()
    published_article.refresh_from_db()
    assert published_article.versions.count() == 2
    assert published_article.latest_version.body == "Version von Ben.\n"
    assert AuditEvent.objects.count() == events_before


def test_workflow_buttons_submit_and_approve(client, author, approver, make_article):
    article = make_article()
    client.force_login(author)
    response = client.post(_workflow_url(article, "submit"))
    assert response.status_code == 302
    review = Review.objects.get(article=article)

    client.force_login(approver)
    response = client.post(_workflow_url(article, "approve"), {"review": review.pk}, follow=True)

    article.refresh_from_db()
    assert article.live_version_id == review.version_id
    assert "Freigegeben und veröffentlicht." in response.content.decode()


def test_author_approving_own_version_in_admin_is_refused_with_message(client, author, make_article):
    # authors do not hold the approve permission; give this one the approver role too
    from django.contrib.auth.models import Group

    author.groups.add(Group.objects.get(name="approvers"))
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    events_before = AuditEvent.objects.count()
    client.force_login(author)

    response = client.post(_workflow_url(article, "approve"), {"review": review.pk}, follow=True)

    assert "Vier-Augen-Prinzip" in response.content.decode()
    article.refresh_from_db()
    review.refresh_from_db()
    assert article.live_version_id is None
    assert review.status == Review.Status.IN_REVIEW
    assert AuditEvent.objects.count() == events_before


def test_agent_cannot_open_admin_workflow(client, agent, make_article):
    article = make_article()
    client.force_login(agent)

    response = client.post(_workflow_url(article, "submit"), follow=True)

    assert "Sie dürfen keine Versionen zur Freigabe einreichen." in response.content.decode()
    assert not Review.objects.filter(article=article).exists()


def test_anonymous_is_sent_to_login(client, published_article):
    response = client.get(_change_url(published_article))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_request_changes_and_rollback_buttons(client, author, approver, published_article):
    services.version_create(actor=author, article=published_article, title="Tarif wechseln", body="Falsch.", base_version=1)
    review = services.version_submit(actor=author, version=published_article.versions.get(number=2))
    client.force_login(approver)
    client.post(_workflow_url(published_article, "request_changes"), {"review": review.pk, "comment": "Zahl prüfen"})
    review.refresh_from_db()
    assert review.status == Review.Status.CHANGES_REQUESTED
    assert review.comment == "Zahl prüfen"

    client.force_login(author)
    client.post(_workflow_url(published_article, "rollback"), {"version": 1, "base_version": 2})

    published_article.refresh_from_db()
    assert published_article.latest_version.number == 3
    assert published_article.latest_version.body == published_article.versions.get(number=1).body
    assert published_article.live_version.number == 1


def test_diff_and_version_pages(client, author, published_article):
    services.version_create(actor=author, article=published_article, title="Tarif wechseln",
                            body="Sie können zweimal pro Monat wechseln.", base_version=1)
    client.force_login(author)

    diff = client.get(reverse("admin:kb_article_diff", args=[published_article.pk]), {"from": 1, "to": 2})
    version = client.get(reverse("admin:kb_article_version", args=[published_article.pk, 2]))

    assert diff.status_code == 200
    html = diff.content.decode()
    # the rendered text, only the changed word marked (tests/kb/test_word_diff.py has the details)
    assert ('<p>Sie können <del class="verity-del">einmal</del> <ins class="verity-ins">zweimal</ins> pro Monat '
            "wechseln.</p>") in html
    assert version.status_code == 200


def test_preview_never_renders_script_from_a_body(client, author, approver, make_article):
    article = make_article(body='Hallo <script>alert("x")</script> <a href="javascript:alert(1)">klick</a> <img src=x onerror="alert(2)">')
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_approve(actor=approver, review=review)
    client.force_login(author)

    html = client.get(reverse("admin:kb_article_version", args=[article.pk, 1])).content.decode()

    preview = html.split('class="verity-preview"', 1)[1]
    assert "<script>" not in preview
    assert "javascript:" not in preview
    assert "onerror" not in preview


def test_audit_log_admin_is_read_only(client, admin_user_role, published_article):
    client.force_login(admin_user_role)
    event = AuditEvent.objects.filter(article=published_article).first()

    listing = client.get(reverse("admin:governance_auditevent_changelist"), {"article": published_article.pk})
    delete = client.post(reverse("admin:governance_auditevent_delete", args=[event.pk]), {"post": "yes"})
    change = client.post(reverse("admin:governance_auditevent_change", args=[event.pk]), {"event_type": "x"})

    assert listing.status_code == 200
    assert delete.status_code == 403
    assert change.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, event_type=event.event_type).exists()


def test_admin_index_and_lists_render_for_knowledge_admin(client, admin_user_role, published_article):
    client.force_login(admin_user_role)
    services.flag_raise(article=published_article, reason=Flag.Reason.REVIEW_DUE, summary="Review due")
    for name in ("kb_article", "kb_space", "governance_review", "governance_flag", "governance_auditevent"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:kb_article_add")).status_code == 200


def test_add_article_in_admin_creates_a_draft(client, author, space):
    client.force_login(author)
    data = {
        "slug": "neu", "content_title": "Neu", "content_body": "Text", "change_note": "", "owner": author.pk,
        "space": space.pk, "locale": "de", "kind": "article", "audience": "public", "review_interval_days": "",
        "valid_from": "", "valid_until": "", "tags": "a,b", "translation_of": "",
    }

    response = client.post(reverse("admin:kb_article_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="neu")
    assert article.live_version is None
    assert article.latest_version.title == "Neu"
    assert article.tags == ["a", "b"]
    assert AuditEvent.objects.filter(article=article, event_type=AuditEvent.Type.ARTICLE_CREATE).count() == 1


def _form_data(article: Article, *, body: str, base_version: int) -> dict:
    return {
        "content_title": article.latest_version.title, "content_body": body, "change_note": "edit",
        "base_version": base_version, "owner": article.owner_id, "space": article.space_id,
        "locale": article.locale, "kind": article.kind, "audience": article.audience,
        "review_interval_days": article.review_interval_days or "", "valid_from": "", "valid_until": "",
        "tags": ",".join(article.tags), "translation_of": "",
    }
