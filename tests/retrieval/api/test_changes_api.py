"""POST /api/v1/changes and GET /api/v1/changes/{id}: scope, validation, nothing stored on bad input."""

from __future__ import annotations

import pytest

from governance.models import ChangeEvent
from tests.brokers import broker_without_workers
from verity.celery import NO_WORKER_WARNING

VALID = {"kind": "policy", "title": "Rückgaberecht 30 Tage", "description": "Ab 1. Januar 2027 gilt ein Rückgaberecht von 30 Tagen.",
         "effective_date": "2027-01-01"}


@pytest.fixture
def changes_api(make_key):
    from rest_framework.test import APIClient

    key = make_key("release-pipeline", "internal", scopes=["changes"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=key.header)
    return client


def test_key_without_changes_scope_is_refused(public_api, internal_api):
    for api in (public_api, internal_api):
        response = api.post("/api/v1/changes", VALID, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert ChangeEvent.objects.count() == 0


@pytest.mark.parametrize(("change", "field"), [
    ({**VALID, "title": ""}, "title"),
    ({k: v for k, v in VALID.items() if k != "title"}, "title"),
    ({**VALID, "effective_date": "2027-02-30"}, "effective_date"),
    ({**VALID, "effective_date": "next week"}, "effective_date"),
    ({**VALID, "kind": "rumour"}, "kind"),
    ({**VALID, "description": ""}, "description"),
    ({**VALID, "source_url": "not a url"}, "source_url"),
])
def test_bad_changes_are_a_clear_400_and_nothing_is_stored(changes_api, change, field):
    response = changes_api.post("/api/v1/changes", change, format="json")

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid_parameters"
    assert field in body["details"]
    assert ChangeEvent.objects.count() == 0


def test_a_change_is_accepted_and_can_be_polled(changes_api):
    # the assessment runs after commit; inside this test's transaction it is still pending
    response = changes_api.post("/api/v1/changes", VALID, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    event = ChangeEvent.objects.get(pk=int(body["id"]))
    assert event.author_label == "api key: release-pipeline"
    poll = changes_api.get(f"/api/v1/changes/{body['id']}")
    assert poll.status_code == 200
    assert poll.json()["status"] == "pending"


def test_without_a_worker_a_pending_change_says_that_it_waits(changes_api, django_capture_on_commit_callbacks):
    # given tasks that go to a real broker no worker listens to
    with broker_without_workers():
        # when a change is announced (its assessment sent to the broker after commit) and polled
        with django_capture_on_commit_callbacks(execute=True) as sent:
            response = changes_api.post("/api/v1/changes", VALID, format="json")
        poll = changes_api.get(f"/api/v1/changes/{response.json()['id']}")

    # then both replies say that no worker runs, so the assessment waits
    assert response.status_code == 202
    assert response.json() == {"id": response.json()["id"], "status": "pending", "workers": 0,
                               "warning": NO_WORKER_WARNING}
    assert poll.status_code == 200
    assert (poll.json()["status"], poll.json()["workers"], poll.json()["warning"]) == ("pending", 0, NO_WORKER_WARNING)
    assert len(sent) == 1 and ChangeEvent.objects.get().status == ChangeEvent.Status.PENDING


def test_with_the_tasks_run_in_process_a_pending_change_carries_no_warning(changes_api):
    response = changes_api.post("/api/v1/changes", VALID, format="json")

    assert response.json() == {"id": response.json()["id"], "status": "pending"}


def test_unknown_change_is_404_json(changes_api):
    response = changes_api.get("/api/v1/changes/999999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("source_url", "accepted"), [
    ("https://" + ".".join(["a" * 63] * 5) + "/memo", True),  # a 319-character host: a valid URI (schemathesis)
    ("https://intranet.example.de/memos/2026-12?id=4#neu", True),
    ("http://[2001:db8::1]:8080/x", True),
    ("", True),
    ("javascript:alert(1)", False),
    ("ftp://files.example.de/memo.pdf", False),
    ("https://", False),
    ("https://exa mple.de/", False),
    ("https://example.de:port/", False),
    ("example.de/memo", False),
])
def test_source_url_takes_http_addresses_and_names_what_is_wrong(changes_api, source_url, accepted):
    response = changes_api.post("/api/v1/changes", {"kind": "policy", "title": "Neue Frist", "description": "Ab 1. März gilt 30 Tage.",
                                                    "effective_date": "2027-03-01", "source_url": source_url}, format="json")

    if accepted:
        assert response.status_code in (201, 202), response.content
    else:
        assert response.status_code == 400
        assert response.json()["error"]["details"] == {
            "source_url": ["Enter an http:// or https:// address with a host and no spaces."]}
