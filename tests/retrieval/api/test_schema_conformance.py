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
    assert content["text/event-stream"]["schema"]["properties"]["event"] == {"type": "string", "enum": ["text", "final", "error"]}


def test_request_bodies_are_documented_as_json_only(schema):
    bodies = {path: set(operation["requestBody"]["content"]) for path, operations in schema["paths"].items()
              for operation in operations.values() if "requestBody" in operation}

    assert bodies == {"/api/v1/answer": {"application/json"}, "/api/v1/feedback": {"application/json"},
                      "/api/v1/changes": {"application/json"}}


@pytest.mark.parametrize("body", [{"question": "Wie lange ist die Frist?", "stream": 0},
                                  {"question": "Wie lange ist die Frist?", "stream": "true"},
                                  {"question": 5}, {"question": False}])
def test_answer_fields_of_another_json_type_are_a_400_not_coerced(public_api, body):
    response = public_api.post("/api/v1/answer", body, format="json")

    assert response.status_code == 400
    field = next(iter(set(body) - {"question"}), "question") if "stream" in body else "question"
    assert response.json()["error"]["details"] == {
        field: ["Must be true or false."] if field == "stream" else ["Not a valid string."]}


def test_feedback_helpful_must_be_a_json_boolean(public_api):
    response = public_api.post("/api/v1/feedback", {"query_id": "00000000-0000-0000-0000-000000000000", "helpful": 1},
                               format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"helpful": ["Must be true or false."]}


def test_the_maximum_length_counts_the_text_as_sent_not_trimmed(public_api):
    question = "\n" + " " * 30 + "Wie lange ist die Rückgabefrist? " * 60  # 1,979 characters trimmed, 2,011 as sent
    assert len(question) > 2000 >= len(question.strip())

    response = public_api.post("/api/v1/answer", {"question": question}, format="json")
    search = public_api.get("/api/v1/search", {"q": " " + "x" * 1000})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"question": ["Ensure this field has no more than 2000 characters."]}
    assert search.status_code == 400
    assert search.json()["error"]["details"] == {"q": ["Ensure this field has no more than 1000 characters."]}


def test_source_url_is_documented_as_the_http_address_the_server_takes(schema):
    address, blank = schema["components"]["schemas"]["ChangeRequest"]["properties"]["source_url"]["oneOf"]

    assert address["format"] == "uri" and address["maxLength"] == 500 and address["pattern"] == r"^https?://\S+$"
    assert blank == {"type": "string", "maxLength": 0}



@pytest.mark.parametrize("blank", ["\u001f", " \u001c\u0085 ", "\u3000"])
def test_what_the_server_trims_as_blank_is_what_the_schema_pattern_refuses(schema, public_api, blank):
    """Python's strip() and ECMAScript's \\s differ (U+001C-U+001F, U+0085): schemathesis sent "\\u001f"."""
    import re

    title = schema["components"]["schemas"]["ChangeRequest"]["properties"]["title"]["pattern"]
    assert re.fullmatch(title, blank) is None

    response = public_api.post("/api/v1/answer", {"question": blank}, format="json")
    assert response.status_code == 400


def test_a_byte_order_mark_is_text_to_both(schema, public_api):
    import re

    title = schema["components"]["schemas"]["ChangeRequest"]["properties"]["title"]["pattern"]
    assert re.fullmatch(title, "\ufeff")


def test_more_kinds_than_the_schema_allows_are_a_400(public_api):
    """The schema says maxItems 10 (schemathesis sent eleven "macro")."""
    assert public_api.get("/api/v1/search", {"q": "Rückgabe", "kind": ",".join(["macro"] * 10)}).status_code == 200

    response = public_api.get("/api/v1/search", {"q": "Rückgabe", "kind": ",".join(["macro"] * 11)})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"kind": ["at most 10 kinds."]}
