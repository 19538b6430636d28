"""Request limits of the API (issue #14 items 4 and 5): every refusal is the API's JSON error, never HTML or a 500."""

from __future__ import annotations

import json

import pytest
from django.db import InterfaceError, OperationalError

from retrieval.api import search as search_api


def test_an_oversized_request_body_is_refused_with_a_json_413(public_api):
    body = json.dumps({"question": "Rückgabe?", "padding": "x" * 300_000})

    response = public_api.post("/api/v1/answer", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert "262144 bytes" in error["message"]


def test_a_body_over_djangos_upload_limit_is_a_json_413_too(public_api, settings):
    settings.VERITY_API_MAX_BODY_BYTES = 10 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = public_api.post("/api/v1/feedback", {"comment": "x" * 2000, "helpful": "true"})  # a form post

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_deeply_nested_json_is_refused_with_a_json_400_naming_the_problem(public_api):
    body = '{"question": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = public_api.post("/api/v1/answer", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "parse_error",
                                         "message": "JSON parse error - nested deeper than 32 levels"}}


def test_json_nested_within_the_limit_reaches_the_serializer(public_api):
    body = json.dumps({"question": [[["Rückgabe"]]]})

    response = public_api.post("/api/v1/answer", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameters"


def test_brackets_inside_strings_do_not_count_as_nesting(public_api):
    body = json.dumps({"question": "[" * 100 + "{" * 100 + "\\\"" + "Wie lange dauert die Rückgabe?"})

    response = public_api.post("/api/v1/answer", body, content_type="application/json")

    assert response.status_code == 200


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("connection already closed")])
def test_a_database_outage_is_a_json_503_with_retry_after(public_api, monkeypatch, error):
    def unavailable(query):
        raise error

    monkeypatch.setattr(search_api, "search", unavailable)

    response = public_api.get("/api/v1/search", {"q": "Rückgabe"})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"error": {"code": "database_unavailable",
                                         "message": "The database is not reachable; try again shortly."}}
