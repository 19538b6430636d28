"""GET /healthz: the state of each part, for deployments; 503 names what is down."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from tests.brokers import broker_without_workers
from verity.celery import NO_WORKER_WARNING


@pytest.mark.django_db
def test_healthz_reports_each_part_without_a_key(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "workers": 0, "model": "off"}


@pytest.mark.django_db
def test_healthz_names_the_database_when_it_is_down(client):
    with mock.patch("verity.views.connection.cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["error"] == {"code": "unhealthy", "message": "down: database"}


@pytest.mark.django_db
@override_settings(VERITY_GENERATOR="llm", VERITY_LLM_BASE_URL="http://127.0.0.1:9/v1")
def test_healthz_names_a_configured_model_server_that_does_not_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["model"] == "down"


@pytest.mark.django_db
def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_warns_when_no_worker_answers(client):
    # given a real broker (not the tests' in-process tasks) that no worker listens to
    with broker_without_workers():
        response = client.get("/healthz")

    # then the web part is healthy, and the reply says that queued work waits
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "workers": 0, "model": "off",
                               "warning": NO_WORKER_WARNING}


@pytest.mark.django_db
def test_healthz_reuses_a_recent_worker_ping_instead_of_waiting_a_second_per_probe(client):
    # given a real broker and a ping that says two workers answered
    with broker_without_workers(), mock.patch("verity.celery.app.control.ping", return_value=[{"a": "pong"}, {"b": "pong"}]) as ping:
        first = client.get("/healthz").json()
        second = client.get("/healthz").json()
        with override_settings(VERITY_HEALTH_CACHE_SECONDS=0):
            client.get("/healthz")

    # then two probes within the window cost one ping; with the cache off, every probe pings
    assert first["workers"] == second["workers"] == 2
    assert ping.call_count == 2
