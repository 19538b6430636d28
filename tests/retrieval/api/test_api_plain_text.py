"""The API returns plain text, and its schema says what the server validates (issue #14 item 8)."""

from __future__ import annotations

from rest_framework.test import APIClient

HTML_BODY = ("Die Rückgabefrist beträgt <b>30 Tage</b> ab Erhalt der Ware.<script>alert('x')</script> "
             "Ware &amp; Zubehör gehören zusammen.")


def test_search_titles_and_snippets_are_plain_text(publish, public_api):
    publish("rueckgabe", title="Rückgabe <i>neu</i>", body=HTML_BODY)

    result = public_api.get("/api/v1/search", {"q": "Rückgabefrist"}).json()["results"][0]

    assert result["title"] == "Rückgabe neu"
    assert "<" not in result["snippet"] and "alert" not in result["snippet"]
    assert "30 Tage" in result["snippet"]
    assert "Ware & Zubehör" in result["snippet"]


def test_answer_text_citation_titles_and_quotes_are_plain_text(publish, public_api):
    publish("rueckgabe", title="Rückgabe <i>neu</i>", body=HTML_BODY)

    body = public_api.post("/api/v1/answer", {"question": "Wie lange ist die Rückgabefrist?"}, format="json").json()

    assert body["status"] == "answered"
    texts = [body["answer"]] + [c["title"] for c in body["citations"]] + [c["quote"] for c in body["citations"]]
    assert all("<" not in text and "alert" not in text for text in texts), texts
    assert body["citations"][0]["title"] == "Rückgabe neu"


def _schema() -> dict:
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_the_schema_states_blank_nul_and_length_rules_of_the_inputs(db):
    schema = _schema()
    components = schema["components"]["schemas"]
    search_q = next(p for p in schema["paths"]["/api/v1/search"]["get"]["parameters"] if p["name"] == "q")["schema"]
    answer = components["AnswerRequest"]["properties"]["question"]
    change = components["ChangeRequest"]["properties"]

    not_blank = (r"^[^\u0000]*[^\u0000\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029"
                 r"\u202f\u205f\u3000][^\u0000]*$")  # NUL nowhere, and not only what Python's strip() removes
    assert search_q["maxLength"] == 1000 and search_q["pattern"] == not_blank
    assert answer["maxLength"] == 2000 and answer["pattern"] == not_blank
    assert change["title"]["pattern"] == change["description"]["pattern"] == not_blank
    kind = components[change["kind"]["$ref"].rsplit("/", 1)[1]]
    assert kind["enum"] == ["policy", "release"]


def test_the_schema_says_titles_and_snippets_are_plain_text(db):
    result = _schema()["components"]["schemas"]["SearchResult"]["properties"]

    assert "plain text" in result["title"]["description"]
    assert "plain text" in result["snippet"]["description"]


def test_a_nul_in_the_question_is_refused_with_one_message(public_api):
    response = public_api.post("/api/v1/answer", {"question": "Rück\x00gabe?"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "question: Null characters are not allowed."
