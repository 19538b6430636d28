"""Issue #14 item 3: a change assessment shows a key only what its audience may see, and only its own changes."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from governance import services
from governance.models import ChangeEvent
from kb.models import Article

CHANGE = {"kind": "policy", "title": "Kulanzgrenze 500 Euro", "description": "Die Kulanzgrenze steigt auf 500 Euro.",
          "effective_date": "2027-01-01"}
# the reasons as the assessment gives them (in parts), and as the flags of these German articles word them
INTERNAL_CAUSE = services.ImpactReason(stated="Kulanz bis 200 Euro", new="500 Euro", date=dt.date(2027, 1, 1))
INTERNAL_REASON = "nennt Kulanz bis 200 Euro; die Änderung legt ab 2027-01-01 500 Euro fest"
INTERNAL_EVIDENCE = "Kulanz bis 200 Euro ohne Rücksprache."
PUBLIC_CAUSE = services.ImpactReason(stated="Kulanz", clause="Die Kulanzgrenze steigt auf 500 Euro.", date=dt.date(2027, 1, 1))
PUBLIC_REASON = "nennt Kulanz; das ändert sich ab 2027-01-01: „Die Kulanzgrenze steigt auf 500 Euro.“"
PUBLIC_EVIDENCE = "Wir zeigen Kulanz."


def _client(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=key.header)
    return client


@pytest.fixture
def assessed_change(make_key, publish):
    """A change announced by a public key with the changes scope, whose assessment flagged an internal
    policy and a public article."""
    internal = publish("kulanz-richtlinie", body=INTERNAL_EVIDENCE, audience=Article.Audience.INTERNAL)
    public = publish("kulanz", body=PUBLIC_EVIDENCE, audience=Article.Audience.PUBLIC)
    public_key = make_key("helpcenter-changes", "public", scopes=["changes"])
    response = _client(public_key).post("/api/v1/changes", CHANGE, format="json")
    assert response.status_code == 202
    event = ChangeEvent.objects.get(pk=int(response.json()["id"]))
    services.change_event_record(event=event, elapsed_ms=12, findings=[
        services.ImpactFinding(article=internal, score=0.9, cause=INTERNAL_CAUSE, evidence=INTERNAL_EVIDENCE),
        services.ImpactFinding(article=public, score=0.7, cause=PUBLIC_CAUSE, evidence=PUBLIC_EVIDENCE),
    ])
    return event, public_key


def test_a_public_key_sees_no_internal_slug_reason_or_evidence(assessed_change):
    event, public_key = assessed_change

    response = _client(public_key).get(f"/api/v1/changes/{event.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["flagged"] == [
        {"slug": "kulanz", "locale": "de", "score": 0.7, "reason": PUBLIC_REASON, "evidence": PUBLIC_EVIDENCE,
         "state": "open"},
    ]
    text = response.content.decode()
    for secret in ("kulanz-richtlinie", INTERNAL_REASON, INTERNAL_EVIDENCE, "200"):
        assert secret not in text


def test_an_internal_key_sees_internal_findings_of_its_own_change(make_key, publish):
    internal = publish("kulanz-richtlinie", body=INTERNAL_EVIDENCE, audience=Article.Audience.INTERNAL)
    key = make_key("release-pipeline", "internal", scopes=["changes"])
    response = _client(key).post("/api/v1/changes", CHANGE, format="json")
    event = ChangeEvent.objects.get(pk=int(response.json()["id"]))
    services.change_event_record(event=event, elapsed_ms=5, findings=[
        services.ImpactFinding(article=internal, score=0.9, cause=INTERNAL_CAUSE, evidence=INTERNAL_EVIDENCE),
    ])

    body = _client(key).get(f"/api/v1/changes/{event.pk}").json()

    assert body["flagged"] == [
        {"slug": "kulanz-richtlinie", "locale": "de", "score": 0.9, "reason": INTERNAL_REASON,
         "evidence": INTERNAL_EVIDENCE, "state": "open"},
    ]


def test_a_key_cannot_read_another_keys_change(assessed_change, make_key):
    event, _ = assessed_change
    for audience in ("public", "internal"):
        other = make_key(f"other-{audience}", audience, scopes=["changes"])

        response = _client(other).get(f"/api/v1/changes/{event.pk}")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert "kulanz" not in response.content.decode()


def test_a_change_announced_in_the_admin_is_not_readable_by_any_key(make_key, author):
    event = services.change_event_create(kind="policy", title="Intern", description="Nur intern.",
                                         effective_date=__import__("datetime").date(2027, 1, 1), author=author,
                                         assess=False)
    key = make_key("release-pipeline", "internal", scopes=["changes"])

    assert _client(key).get(f"/api/v1/changes/{event.pk}").status_code == 404


def test_the_post_response_is_filtered_by_audience_too(make_key, publish, django_capture_on_commit_callbacks,
                                                        monkeypatch):
    # given the assessment finishes at once (inline) and flags an internal and a public article
    internal = publish("kulanz-richtlinie", body=INTERNAL_EVIDENCE, audience=Article.Audience.INTERNAL)
    public = publish("kulanz", body=PUBLIC_EVIDENCE, audience=Article.Audience.PUBLIC)
    real_create = services.change_event_create

    def create_and_assess(**kwargs):
        event = real_create(**{**kwargs, "assess": False})
        services.change_event_record(event=event, elapsed_ms=3, findings=[
            services.ImpactFinding(article=internal, score=0.9, cause=INTERNAL_CAUSE, evidence=INTERNAL_EVIDENCE),
            services.ImpactFinding(article=public, score=0.7, cause=PUBLIC_CAUSE, evidence=PUBLIC_EVIDENCE),
        ])
        return event

    from retrieval.api import changes as api_changes

    monkeypatch.setattr(api_changes, "change_event_create", create_and_assess)
    key = make_key("helpcenter-changes", "public", scopes=["changes"])

    # when a public key announces the change
    response = _client(key).post("/api/v1/changes", CHANGE, format="json")

    # then the 201 carries only the public finding
    assert response.status_code == 201
    assert [row["slug"] for row in response.json()["flagged"]] == ["kulanz"]
    assert "kulanz-richtlinie" not in response.content.decode()
    assert INTERNAL_EVIDENCE not in response.content.decode()
