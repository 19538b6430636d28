"""What the OpenAPI schema says is what the server checks (schemathesis against the production server found
these; README "Evidence"): kinds as a comma-separated enum list, the streamed answer's content type, JSON bodies."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def schema(db):
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_search_kind_is_documented_as_a_comma_separated_list_of_the_four_kinds(schema):
    kind = next(p for p in schema["paths"]["/api/v1/search"]["get"]["parameters"] if p["name"] == "kind")

    assert kind == {"in": "query", "name": "kind", "style": "form", "explode": False,
                    "description": "Comma-separated kinds: article, macro, runbook, policy.",
                    "schema": {"type": "array", "items": {"type": "string", "enum": ["article", "macro", "runbook", "policy"]},
                               "minItems": 1, "maxItems": 10}}


def test_the_streamed_answer_content_type_is_documented(schema):
    content = schema["paths"]["/api/v1/answer"]["post"]["responses"]["200"]["content"]

    assert set(content) == {"application/json", "text/event-stream"}


def test_request_bodies_are_documented_as_json_only(schema):
    bodies = {path: set(operation["requestBody"]["content"]) for path, operations in schema["paths"].items()
              for operation in operations.values() if "requestBody" in operation}

    assert bodies == {"/api/v1/answer": {"application/json"}, "/api/v1/feedback": {"application/json"},
                      "/api/v1/changes": {"application/json"}}
