"""The agent desktop without a browser: login, no-JS fallbacks, exact versions, reports, feedback, i18n."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import Flag
from kb.models import Article
from retrieval.models import AnswerRecord, Feedback
from tests.e2e.conftest import GOODWILL_BODY, RETURN_BODY

pytestmark = pytest.mark.django_db
FRAGMENT = {"HTTP_X_VERITY_FRAGMENT": "1"}


@pytest.fixture
def agent_client(client, people):
    client.force_login(people["agent"])
    return client


@pytest.fixture
def returns(publish, revise) -> Article:
    """Live v2 (30 days); v1 (14 days) was live before."""
    article = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    return revise(article, body=RETURN_BODY.replace("14 Tagen", "30 Tagen"))


@pytest.mark.parametrize("url", ["/desktop/", "/desktop/search/?q=x", "/desktop/articles/rueckgabe/", "/articles/rueckgabe/"])
def test_anonymous_is_sent_to_the_desktop_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_root_and_api_links_lead_to_the_desktop(agent_client, returns):
    assert agent_client.get("/")["Location"] == reverse("desktop:search")
    response = agent_client.get("/articles/rueckgabe/")
    assert response.status_code == 302 and response["Location"] == "/desktop/articles/rueckgabe/"


def test_login_page_signs_in_and_lands_on_the_desktop(client, people):
    response = client.post(reverse("login"), {"username": "felix", "password": "pw-felix"})
    assert response.status_code == 302 and response["Location"] == reverse("desktop:search")


def test_sign_out_returns_to_the_login_page(agent_client):
    response = agent_client.post(reverse("logout"), {"next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert agent_client.get("/desktop/").status_code == 302


def test_search_without_javascript_shows_public_and_internal_results(agent_client, publish, returns):
    publish("kulanz", title="Kulanzrichtlinie", body=GOODWILL_BODY, audience=Article.Audience.INTERNAL)

    page = agent_client.get("/desktop/", {"q": "Kulanz Gutschriften buchen"}).content.decode()
    fragment = agent_client.get("/desktop/search/", {"q": "Gerät zurückgeben Tagen"}, **FRAGMENT).content.decode()

    assert 'data-slug="kulanz"' in page and "badge-audience-internal" in page
    assert "<html" not in fragment and 'data-slug="rueckgabe"' in fragment and "v2" in fragment


def test_answer_without_javascript_renders_the_whole_page_with_citations(agent_client, people, returns):
    response = agent_client.post("/desktop/answer/", {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"})
    html = response.content.decode()

    record = AnswerRecord.objects.get()
    assert record.status == "answered" and record.user == people["agent"] and record.audience == "internal"
    assert "<html" in html and 'data-status="answered"' in html
    assert 'href="/desktop/articles/rueckgabe/?version=2"' in html
    assert "30 Tagen" in html and "14 Tagen" not in html


def test_refusal_is_a_clear_message(agent_client, returns):
    html = agent_client.post("/desktop/answer/", {"q": "Wann fährt der nächste Zug nach Graz?"}, **FRAGMENT).content.decode()
    assert 'data-status="refused"' in html and "Keine belegte Antwort" in html
    assert 'data-copy="answer-plain"' not in html  # nothing to copy


def test_feedback_is_stored_with_the_user(agent_client, people, returns):
    agent_client.post("/desktop/answer/", {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"}, **FRAGMENT)
    record = AnswerRecord.objects.get()

    response = agent_client.post("/desktop/feedback/", {"query_id": str(record.pk), "helpful": "0"}, **FRAGMENT)
    missing = agent_client.post("/desktop/feedback/", {"query_id": "00000000-0000-0000-0000-000000000000", "helpful": "1"})

    assert response.status_code == 200 and "feedback-done" in response.content.decode()
    assert Feedback.objects.get().user == people["agent"] and Feedback.objects.get().helpful is False
    assert missing.status_code == 404


def test_article_shows_live_or_an_exact_published_version_never_a_draft(agent_client, people, returns):
    services.version_create(actor=people["author"], article=returns, title="Entwurf", body="Geheimer Entwurf.", base_version=2)

    live = agent_client.get("/desktop/articles/rueckgabe/").content.decode()
    old = agent_client.get("/desktop/articles/rueckgabe/", {"version": "1"}).content.decode()

    assert 'data-version="2" data-live="true"' in live and "30 Tagen" in live
    assert 'data-version="1" data-live="false"' in old and "14 Tagen" in old and "nicht mehr live" in old
    assert agent_client.get("/desktop/articles/rueckgabe/", {"version": "3"}).status_code == 404  # a draft
    assert agent_client.get("/desktop/articles/rueckgabe/", {"version": "x"}).status_code == 404


def test_expired_article_is_served_clearly_marked(agent_client, publish):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    publish("sommer", title="Sommeraktion", body="Im Sommer kostet Tarif S 5 €.",
            valid_from=yesterday - dt.timedelta(days=90), valid_until=yesterday)
    html = agent_client.get("/desktop/articles/sommer/").content.decode()
    assert f"abgelaufen am {yesterday:%d.%m.%Y}" in html


def test_unpublished_article_is_not_served(agent_client, people, space):
    services.article_create(actor=people["author"], slug="neu", title="Neu", body="Noch nicht freigegeben.",
                            locale="de", space=space, owner=people["author"], audience=Article.Audience.PUBLIC)
    assert agent_client.get("/desktop/articles/neu/").status_code == 404
    assert agent_client.get("/desktop/articles/neu/", {"version": "1"}).status_code == 404


def test_translations_are_linked(agent_client, publish, returns):
    publish("returns", title="Returns in the shop", body="## Period\n\nYou can return devices within 30 days.",
            locale="en", translation_of=returns)
    html = agent_client.get("/desktop/articles/rueckgabe/").content.decode()
    assert 'href="/desktop/articles/returns/"' in html and 'hreflang="en"' in html


def test_report_creates_an_agent_flag_for_the_owner(agent_client, people, returns):
    empty = agent_client.post("/desktop/articles/rueckgabe/report/", {"text": "   ", "version": "1"})
    response = agent_client.post("/desktop/articles/rueckgabe/report/", {"text": "Frist ist jetzt 60 Tage.", "version": "1"})

    assert empty.status_code == 400
    assert response.status_code == 302 and response["Location"] == "/desktop/articles/rueckgabe/?version=1"
    flag = Flag.objects.get(reason=Flag.Reason.AGENT_REPORT)
    assert (flag.article, flag.owner, flag.raised_by) == (returns, people["author"], people["agent"])
    assert (flag.summary, flag.evidence) == ("Frist ist jetzt 60 Tage.", "1")
    followed = agent_client.get(response["Location"]).content.decode()
    assert "Anna Autorin" in followed and "gemeldet" in followed


def test_english_and_german_ui(agent_client, returns):
    german = agent_client.get("/desktop/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    agent_client.post("/i18n/setlang/", {"language": "en", "next": "/desktop/"})
    english = agent_client.get("/desktop/").content.decode()
    assert "Antwortentwurf" in german and 'lang="de"' in german
    assert "Answer draft" in english and 'lang="en"' in english


@pytest.mark.django_db(transaction=True)
def test_the_answer_draft_streams_its_sentences_then_the_whole_draft(agent_client, people, returns):
    response = agent_client.post("/desktop/answer/stream/", {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"},
                                 **FRAGMENT)

    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    blocks = [block for block in b"".join(response.streaming_content).decode().split("\n\n") if block.strip()]
    kinds = [block.split("\n")[0] for block in blocks]
    assert kinds[-1] == "event: final" and set(kinds[:-1]) == {"event: text"} and len(kinds) >= 2
    sentences = [json.loads(block.split("data: ", 1)[1])["text"] for block in blocks[:-1]]
    assert any("30 Tagen" in sentence for sentence in sentences)
    html = json.loads(blocks[-1].split("data: ", 1)[1])["html"]
    assert 'data-status="answered"' in html and 'href="/desktop/articles/rueckgabe/?version=2"' in html
    assert AnswerRecord.objects.get().user == people["agent"]


def test_the_streamed_draft_needs_a_question(agent_client):
    assert agent_client.post("/desktop/answer/stream/", {"q": ""}, **FRAGMENT).status_code == 400
