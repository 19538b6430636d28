"""GET /api/v1/search over HTTP: audience by key, validity, response shape, errors, rate limit, keys."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from governance import services
from governance.models import Flag
from kb.models import Article, Space
from retrieval.apikeys import apikey_revoke
from retrieval.models import ApiKey, ApiKeyUsage
from tests.retrieval.helpers import slugs

SEARCH = "/api/v1/search"
RESULT_KEYS = {"slug", "locale", "title", "version", "score", "snippet", "url", "state"}
MODES = ("keyword", "semantic", "hybrid")


@pytest.fixture
def support_kb(publish):
    """Public and internal articles about refunds, in German and English, in two spaces and several kinds."""
    billing = Space.objects.create(slug="abrechnung", name="Abrechnung")
    articles = [
        publish("erstattung", title="Erstattung", tags=["erstattung"], space=billing,
                body="Eine Erstattung überweisen wir innerhalb von 14 Tagen auf Ihr Konto."),
        publish("erstattung-makro", title="Makro Erstattung", kind=Article.Kind.MACRO, tags=["erstattung"], space=billing,
                audience=Article.Audience.INTERNAL,
                body="Makro: Erstattung freigeben. Interner Freigabecode Pelikan, Grenze 500 Euro ohne Teamleitung."),
        publish("erstattung-runbook", title="Runbook Erstattung", kind=Article.Kind.RUNBOOK, tags=["erstattung"],
                audience=Article.Audience.INTERNAL,
                body="Runbook: Erstattung über das Zahlungsportal anstoßen, bei Fehler Ticket an Team Kasse."),
        publish("erstattung-policy", title="Erstattungsrichtlinie", kind=Article.Kind.POLICY, tags=["erstattung"],
                audience=Article.Audience.INTERNAL,
                body="Richtlinie: Erstattungen über 1000 Euro brauchen die Freigabe der Finanzabteilung."),
        publish("refund-internal", title="Refund escalation", locale="en", tags=["erstattung"],
                audience=Article.Audience.INTERNAL,
                body="Refund escalation: Erstattung over 500 euros needs the Pelikan approval code."),
    ]
    return {article.slug: article for article in articles}


PUBLIC = {"erstattung"}
ALL = {"erstattung", "erstattung-makro", "erstattung-runbook", "erstattung-policy", "refund-internal"}


def _search(client: APIClient, **params):
    response = client.get(SEARCH, params)
    assert response.status_code == 200, response.content
    return response.json()


# --- audience ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_public_key_never_receives_internal_articles_whatever_it_asks(support_kb, public_api, mode):
    attempts = [
        {},
        {"audience": "internal"},
        {"audience": "public,internal"},
        {"audiences": "internal"},
        {"include_internal": "true"},
        {"locale": "en"},
        {"locale": "de"},
        {"locale": "fr"},
        {"space": "abrechnung"},
        {"space": "vertrag"},
        {"space": "abrechnung,vertrag"},
        {"kind": "macro"},
        {"kind": "runbook"},
        {"kind": "policy"},
        {"kind": "macro,runbook,policy"},
        {"tags": "erstattung"},
        {"space": "abrechnung", "kind": "macro", "tags": "erstattung", "audience": "internal", "locale": "en"},
    ]
    queries = [
        "Erstattung",
        "Makro: Erstattung freigeben. Interner Freigabecode Pelikan, Grenze 500 Euro ohne Teamleitung.",
        "Refund escalation: Erstattung over 500 euros needs the Pelikan approval code.",
        "Richtlinie Finanzabteilung 1000 Euro",
    ]
    for params in attempts:
        for q in queries:
            body = _search(public_api, q=q, mode=mode, limit=50, **params)
            assert set(slugs(body)) <= PUBLIC, (params, q, body)
            assert "Pelikan" not in str(body) and "Finanzabteilung" not in str(body)


def test_public_key_gets_the_public_article_through_filters_that_match_it(support_kb, public_api):
    assert slugs(_search(public_api, q="Erstattung", mode="keyword", space="abrechnung", tags="erstattung")) == ["erstattung"]
    assert slugs(_search(public_api, q="Erstattung", mode="keyword", kind="article")) == ["erstattung"]
    assert slugs(_search(public_api, q="Erstattung", mode="keyword", kind="macro")) == []
    assert slugs(_search(public_api, q="Erstattung Pelikan", mode="semantic", locale="en")) == ["erstattung"]


@pytest.mark.parametrize("mode", MODES)
def test_internal_key_sees_internal_and_public_articles(support_kb, internal_api, mode):
    body = _search(internal_api, q="Erstattung Freigabe Pelikan Finanzabteilung", mode=mode, limit=50, locale="de")
    assert set(slugs(body)) == ALL

    assert slugs(_search(internal_api, q="Erstattung", mode=mode, kind="macro")) == ["erstattung-makro"]
    assert slugs(_search(internal_api, q="Erstattung", mode=mode, kind="policy")) == ["erstattung-policy"]
    assert sorted(slugs(_search(internal_api, q="Erstattung", mode=mode, space="abrechnung"))) == ["erstattung", "erstattung-makro"]


# --- validity ----------------------------------------------------------------------------------


def test_api_serves_only_content_valid_today(publish, public_api, internal_api):
    today = timezone.localdate()
    publish("tarif-alt", body="Tarif Basis: 9 Euro monatlich.", valid_until=today)
    publish("tarif-neu", body="Tarif Basis: 11 Euro monatlich.", valid_from=today + dt.timedelta(days=1))
    publish("tarif-heute", body="Tarif Basis Plus: 13 Euro monatlich.", valid_from=today)
    publish("tarif-intern-alt", body="Tarif Basis intern: 7 Euro.", audience="internal", valid_until=today)

    for api in (public_api, internal_api):
        for mode in MODES:
            assert slugs(_search(api, q="Tarif Basis Euro monatlich", mode=mode)) == ["tarif-heute"]


# --- response shape and state ------------------------------------------------------------------


def test_result_shape_follows_the_interface(publish, public_api, settings):
    settings.VERITY_BASE_URL = "https://help.example.com/"
    article = publish("rueckgabe-widerruf", title="Rückgabe und Widerruf",
                      body="Sie können Ihren Vertrag innerhalb von 14 Tagen widerrufen.")

    body = _search(public_api, q="Vertrag widerrufen 14 Tage", locale="de")

    assert list(body) == ["results"]
    [result] = body["results"]
    assert set(result) == RESULT_KEYS
    assert {k: result[k] for k in ("slug", "locale", "title", "version", "url", "state")} == {
        "slug": "rueckgabe-widerruf", "locale": "de", "title": "Rückgabe und Widerruf", "version": 1,
        "url": "https://help.example.com/articles/rueckgabe-widerruf/", "state": "current",
    }
    assert isinstance(result["score"], float) and 0 < result["score"] <= 1
    assert "innerhalb von 14 Tagen widerrufen" in result["snippet"]
    assert article.live_version.number == 1


def test_limit_caps_the_number_of_results(publish, public_api):
    for n in range(4):
        publish(f"hotline-{n}", body=f"Die Hotline {n} erreichen Sie werktags.")

    assert len(_search(public_api, q="Hotline werktags", mode="keyword")["results"]) == 4
    assert len(_search(public_api, q="Hotline werktags", mode="keyword", limit=2)["results"]) == 2
    assert len(_search(public_api, q="Hotline werktags", mode="keyword", limit=1)["results"]) == 1


def test_state_of_each_result(publish, public_api, revise, approver):
    for slug in ("router-a", "router-b", "router-c", "router-d"):
        publish(slug, body=f"Router {slug} neu starten: Stecker 10 Sekunden ziehen.")
    a, b, c = (Article.objects.get(slug=s) for s in ("router-a", "router-b", "router-c"))
    services.flag_raise(article=a, reason=Flag.Reason.CHANGE_EVENT, summary="Neues Routermodell ab Januar.")
    services.flag_raise(article=b, reason=Flag.Reason.TRANSLATION_DRIFT, summary="Übersetzung veraltet.")
    Article.objects.filter(pk=c.pk).update(review_due_at=timezone.now() - dt.timedelta(minutes=1))

    states = {r["slug"]: r["state"] for r in _search(public_api, q="Router neu starten Stecker", mode="keyword")["results"]}

    assert states == {"router-a": "flagged", "router-b": "out_of_sync", "router-c": "review_due", "router-d": "current"}

    # publishing a new version is a review: the due state ends, the version number moves on
    services.version_approve(actor=approver, review=revise(c, body="Router neu starten: Stecker 30 Sekunden ziehen."))
    results = {r["slug"]: r for r in _search(public_api, q="Router neu starten Stecker", mode="keyword")["results"]}
    assert (results["router-c"]["state"], results["router-c"]["version"]) == ("current", 2)
    assert "30 Sekunden" in results["router-c"]["snippet"] and "10 Sekunden" not in results["router-c"]["snippet"]


# --- errors ------------------------------------------------------------------------------------


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_missing_key_is_401_not_authenticated(db):
    response = APIClient().get(SEARCH, {"q": "Rechnung"})

    error = _error(response, 401, "not_authenticated")
    assert error["message"] == "Send an API key as 'Authorization: Bearer <api key>'."
    assert response["WWW-Authenticate"] == 'Bearer realm="verity"'


def test_unknown_key_is_401_invalid_api_key(public_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer vk_" + "x" * 40)

    error = _error(client.get(SEARCH, {"q": "Rechnung"}), 401, "invalid_api_key")

    assert error["message"] == "Unknown API key."
    assert ApiKey.objects.get(pk=public_key.row.pk).last_used_at is None
    assert ApiKeyUsage.objects.count() == 0


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Token {raw}", "Basic {raw}", "Bearer {raw} extra", "{raw}", "Bearer\t", "bearer{raw}",
])
def test_malformed_authorization_header_is_401(public_key, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(raw=public_key.raw))

    error = _error(client.get(SEARCH, {"q": "Rechnung"}), 401, "bad_authorization_header")

    assert error["message"] == "Send the key as 'Authorization: Bearer <api key>'."
    assert ApiKeyUsage.objects.count() == 0


def test_scheme_is_case_insensitive(public_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {public_key.raw}")

    assert client.get(SEARCH, {"q": "Rechnung"}).status_code == 200


def test_revoked_key_is_403(public_key, public_api):
    assert public_api.get(SEARCH, {"q": "Rechnung"}).status_code == 200
    used = ApiKey.objects.get(pk=public_key.row.pk).last_used_at

    apikey_revoke(name="helpcenter")
    error = _error(public_api.get(SEARCH, {"q": "Rechnung"}), 403, "api_key_revoked")

    assert error["message"].startswith("The API key 'helpcenter' was revoked on ")
    assert ApiKey.objects.get(pk=public_key.row.pk).last_used_at == used


@pytest.mark.parametrize(("params", "field", "message"), [
    ({}, "q", "This field is required."),
    ({"q": ""}, "q", "This field may not be blank."),
    ({"q": "   "}, "q", "This field may not be blank."),
    ({"q": "x" * 1001}, "q", "Ensure this field has no more than 1000 characters."),
    ({"q": "Rech\x00nung"}, "q", "Null characters are not allowed."),
    ({"q": "Rechnung", "limit": "0"}, "limit", "Ensure this value is greater than or equal to 1."),
    ({"q": "Rechnung", "limit": "-3"}, "limit", "Ensure this value is greater than or equal to 1."),
    ({"q": "Rechnung", "limit": "500"}, "limit", "Ensure this value is less than or equal to 50."),
    ({"q": "Rechnung", "limit": "abc"}, "limit", "A valid integer is required."),
    ({"q": "Rechnung", "limit": "2.5"}, "limit", "A valid integer is required."),
    ({"q": "Rechnung", "locale": "de_DE!"}, "locale", "This value does not match the required pattern."),
    ({"q": "Rechnung", "locale": "deutsch"}, "locale", "This value does not match the required pattern."),
    ({"q": "Rechnung", "kind": "faq"}, "kind", "unknown kind(s) faq; use article, macro, runbook or policy."),
    ({"q": "Rechnung", "kind": "macro,faq"}, "kind", "unknown kind(s) faq; use article, macro, runbook or policy."),
    ({"q": "Rechnung", "mode": "x"}, "mode", '"x" is not a valid choice.'),
    ({"q": "Rechnung", "locale": ""}, "locale", "is empty; leave the parameter out or give a value"),
    ({"q": "Rechnung", "tags": " "}, "tags", "is empty; leave the parameter out or give a value"),
])
def test_bad_parameters_are_400_invalid_parameters(public_api, params, field, message):
    error = _error(public_api.get(SEARCH, params), 400, "invalid_parameters")

    assert error["details"] == {field: [message]}
    assert error["message"] == f"{field}: {message}"


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/search", "/api/", "/api/v1/search/", "/api/v1/answerx"])
def test_unknown_api_path_is_404_json(public_api, path):
    error = _error(public_api.get(path), 404, "not_found")

    assert error["message"] == f"No such endpoint: {path}"


def test_wrong_method_is_405_json(public_api):
    _error(public_api.post(SEARCH, {"q": "Rechnung"}, format="json"), 405, "method_not_allowed")


def test_rate_limit_answers_429_with_retry_after(make_key):
    key = make_key("tight", "public", rate_limit_per_minute=3)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=key.header)
    if timezone.now().second >= 58:  # keep all four requests in one fixed one-minute window
        time.sleep(60 - timezone.now().second + 0.2)

    statuses = [client.get(SEARCH, {"q": "Rechnung"}).status_code for _ in range(3)]
    limited = client.get(SEARCH, {"q": "Rechnung"})

    assert statuses == [200, 200, 200]
    error = _error(limited, 429, "rate_limited")
    assert error["message"].startswith("Rate limit of 3 requests per minute exceeded.")
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert list(ApiKeyUsage.objects.filter(api_key=key.row).values_list("count", flat=True)) == [4]


def test_rate_limit_is_per_key(make_key):
    tight, other = make_key("tight", "public", rate_limit_per_minute=1), make_key("other", "public", rate_limit_per_minute=1)
    if timezone.now().second >= 58:
        time.sleep(60 - timezone.now().second + 0.2)
    clients = {}
    for key in (tight, other):
        clients[key.row.name] = APIClient()
        clients[key.row.name].credentials(HTTP_AUTHORIZATION=key.header)

    assert clients["tight"].get(SEARCH, {"q": "a"}).status_code == 200
    assert clients["tight"].get(SEARCH, {"q": "a"}).status_code == 429
    assert clients["other"].get(SEARCH, {"q": "a"}).status_code == 200


# --- keys from the command line ----------------------------------------------------------------


def test_kb_apikey_create_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(db):
    out = io.StringIO()

    call_command("kb_apikey", "create", "chatbot", "--audience", "internal", "--scope", "changes", "--rate-limit", "30",
                 stdout=out)

    raw = out.getvalue().splitlines()[-1]
    assert re.fullmatch(r"vk_[A-Za-z0-9_-]{40}", raw)
    key = ApiKey.objects.get()
    assert (key.name, key.audience, key.scopes, key.rate_limit_per_minute) == ("chatbot", "internal", ["changes"], 30)
    assert key.key_hash == ApiKey.hash(raw) != raw
    assert key.prefix == raw[:10]
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text FROM retrieval_apikey k")
        [(row,)] = cursor.fetchall()
    assert raw not in row
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(SEARCH, {"q": "Rechnung"}).status_code == 200


def test_kb_apikey_list_shows_prefixes_and_revoke_locks_the_key_out(db):
    out = io.StringIO()
    call_command("kb_apikey", "create", "widget", "--audience", "public", stdout=out)
    raw = out.getvalue().splitlines()[-1]

    listing = io.StringIO()
    call_command("kb_apikey", "list", stdout=listing)
    assert raw not in listing.getvalue()
    assert listing.getvalue().splitlines() == [f"widget\t{raw[:10]}…\tpublic\t-\tactive"]

    call_command("kb_apikey", "revoke", "widget", stdout=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(SEARCH, {"q": "Rechnung"}).status_code == 403


def test_kb_apikey_refuses_a_taken_name_and_changes_nothing(public_key):
    with pytest.raises(CommandError, match="A key named 'helpcenter' already exists."):
        call_command("kb_apikey", "create", "helpcenter", "--audience", "internal", stdout=io.StringIO())

    assert list(ApiKey.objects.values_list("name", "audience", "key_hash")) == [
        ("helpcenter", "public", public_key.row.key_hash)]
