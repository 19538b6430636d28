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


def test_refusal_tells_the_agent_what_to_do_not_the_customer(agent_client, returns):
    html = agent_client.post("/desktop/answer/", {"q": "Wann fährt der nächste Zug nach Graz?"}, **FRAGMENT).content.decode()
    assert 'data-status="refused"' in html and "Keine belegte Antwort: so geht es weiter" in html
    assert 'data-copy="answer-plain"' not in html  # nothing to copy
    assert "Bitte wenden Sie sich an unseren Kundenservice" not in html  # the chatbot's words for customers
    # search terms from the question, each a search
    assert 'href="/desktop/?q=f%C3%A4hrt%20n%C3%A4chste%20Zug%20Graz"' in html and 'href="/desktop/?q=Graz"' in html
    assert ">Zug</a>" in html and ">Wann</a>" not in html and ">nach</a>" not in html
    assert "Die Frage wurde als Wissenslücke erfasst" in html
    assert "Fehlendes Wissen melden" in html and 'name="reason" value="missing"' in html


def test_the_agent_reports_the_gap_behind_a_refusal(agent_client, people, returns):
    agent_client.post("/desktop/answer/", {"q": "Wann fährt der nächste Zug nach Graz?"}, **FRAGMENT)
    record = AnswerRecord.objects.get()

    response = agent_client.post("/desktop/feedback/", {
        "query_id": str(record.pk), "helpful": "0", "reason": "missing",
        "comment": "Kunde fragt nach Zugverbindungen für den Geräteversand."}, **FRAGMENT)

    assert response.status_code == 200
    assert "Die Wissensverantwortlichen sehen Ihren Hinweis" in response.content.decode()
    feedback = Feedback.objects.get()
    assert (feedback.helpful, feedback.reason, feedback.user) == (False, "missing", people["agent"])
    assert feedback.comment == "Kunde fragt nach Zugverbindungen für den Geräteversand."
    assert not Flag.objects.filter(reason=Flag.Reason.FEEDBACK).exists()  # nothing was cited


def test_feedback_is_stored_with_the_user(agent_client, people, returns):
    agent_client.post("/desktop/answer/", {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"}, **FRAGMENT)
    record = AnswerRecord.objects.get()

    response = agent_client.post("/desktop/feedback/", {"query_id": str(record.pk), "helpful": "1"}, **FRAGMENT)
    missing = agent_client.post("/desktop/feedback/", {"query_id": "00000000-0000-0000-0000-000000000000", "helpful": "1"})

    assert response.status_code == 200 and "Danke: als hilfreich markiert." in response.content.decode()
    assert (Feedback.objects.get().user, Feedback.objects.get().helpful, Feedback.objects.get().reason) == (
        people["agent"], True, "")
    assert missing.status_code == 404
    assert not Flag.objects.filter(reason=Flag.Reason.FEEDBACK).exists()


def test_thumbs_down_needs_a_reason_and_the_reason_reaches_the_owner(agent_client, people, returns):
    agent_client.post("/desktop/answer/", {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"}, **FRAGMENT)
    record = AnswerRecord.objects.get()
    html = agent_client.post("/desktop/answer/", {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"},
                             **FRAGMENT).content.decode()
    assert all(f'name="reason" value="{value}" required> {label}' in html for value, label in (
        ("wrong", "Falsch"), ("outdated", "Veraltet"), ("incomplete", "Unvollständig"), ("not_asked", "Nicht das Gefragte")))

    without = agent_client.post("/desktop/feedback/", {"query_id": str(record.pk), "helpful": "0"}, **FRAGMENT)
    assert without.status_code == 400 and "Bitte wählen Sie, was an dem Entwurf nicht stimmt." in without.content.decode()
    assert not Feedback.objects.exists() and not Flag.objects.filter(reason=Flag.Reason.FEEDBACK).exists()

    response = agent_client.post("/desktop/feedback/", {
        "query_id": str(record.pk), "helpful": "0", "reason": "outdated", "comment": "Seit Dezember 60 Tage."}, **FRAGMENT)
    assert response.status_code == 200 and "Danke: als „veraltet“ markiert." in response.content.decode()
    assert (Feedback.objects.get().reason, Feedback.objects.get().comment) == ("outdated", "Seit Dezember 60 Tage.")
    flag = Flag.objects.get(reason=Flag.Reason.FEEDBACK)
    assert (flag.article, flag.owner) == (returns, people["author"])
    assert flag.summary == "Eine Antwort, die v2 zitiert, wurde als „veraltet“ bewertet: Seit Dezember 60 Tage."
    assert flag.evidence.startswith("Grund: veraltet\nFrage: Wie lange kann ich")

    # the same reason again adds no second flag; another reason reaches the owner too
    agent_client.post("/desktop/feedback/", {"query_id": str(record.pk), "helpful": "0", "reason": "outdated"}, **FRAGMENT)
    agent_client.post("/desktop/feedback/", {"query_id": str(record.pk), "helpful": "0", "reason": "wrong"}, **FRAGMENT)
    assert sorted(Flag.objects.filter(reason=Flag.Reason.FEEDBACK).values_list("summary", flat=True)) == [
        "Eine Antwort, die v2 zitiert, wurde als „falsch“ bewertet.",
        "Eine Antwort, die v2 zitiert, wurde als „veraltet“ bewertet: Seit Dezember 60 Tage.",
    ]


def test_search_snippets_are_rendered_text_with_the_query_words_marked(agent_client, publish):
    body = ("## Zubehör\n\nGeben Sie **Ware & Zubehör** vollständig zurück, mit <b>Kabel</b> und [Netzteil](https://x.example/n). "
            + "Weitere Hinweise stehen im Kundenkonto. " * 12
            + "Große Geräte holen wir kostenlos ab; die Abholung dauert fünf Werktage.")
    publish("abholung", title="Abholung großer Geräte", body=body)

    near = agent_client.get("/desktop/", {"q": "Zubehör Netzteil"}).content.decode()
    far = agent_client.get("/desktop/search/", {"q": "Abholung Werktage"}, **FRAGMENT).content.decode()

    snippet = near.split('<p class="result-snippet" lang="de">', 1)[1].split("</p>", 1)[0]
    assert snippet.startswith("Geben Sie Ware &amp; <mark>Zubehör</mark> vollständig zurück, "
                              "mit Kabel und <mark>Netzteil</mark>. Weitere Hinweise")
    assert snippet.endswith("…") and "##" not in snippet and "**" not in snippet and "https" not in snippet
    assert "<b>" not in snippet
    far_snippet = far.split('<p class="result-snippet" lang="de">', 1)[1].split("</p>", 1)[0]
    assert far_snippet.startswith("…") and far_snippet.endswith("<mark>Werktage</mark>.")
    assert "Große Geräte holen wir kostenlos ab; die <mark>Abholung</mark> dauert" in far_snippet
    assert f" {far_snippet[1:].split(' ', 1)[0]} " in f" {body} "  # the cut is between words


def test_copy_text_has_no_markers_and_the_spaces_greeting_and_closing(agent_client, returns, space):
    question = {"q": "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"}
    plain = agent_client.post("/desktop/answer/", question, **FRAGMENT).content.decode()
    assert 'id="answer-plain"' in plain and 'id="answer-framed"' not in plain and "data-frame-toggle" not in plain
    record = AnswerRecord.objects.get()
    assert "[1]" in record.answer
    copy = plain.split('id="answer-plain"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert "[" not in copy and "30 Tagen" in copy and " ." not in copy

    space.greeting, space.closing = "Guten Tag,", "Mit freundlichen Grüßen\nIhr Serviceteam"
    space.greeting_en = "Hello,"
    space.save()
    framed = agent_client.post("/desktop/answer/", question, **FRAGMENT).content.decode()
    assert "mit Anrede und Grußformel" in framed
    framed_copy = framed.split('id="answer-framed"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert framed_copy == f"Guten Tag,\n\n{copy}\n\nMit freundlichen Grüßen\nIhr Serviceteam"
    assert '<p class="reply-frame" data-frame hidden>Guten Tag,</p>' in framed


def test_reply_text_drops_markers_and_keeps_paragraphs():
    from retrieval.desktop.views import reply_text, search_terms

    assert reply_text("Sie haben 30 Tage Zeit [1]. Das Etikett gibt es online [2][3].\n\nBei Fragen: Hotline [1].") == (
        "Sie haben 30 Tage Zeit. Das Etikett gibt es online.\n\nBei Fragen: Hotline.")
    assert search_terms("Wie lange dauert eigentlich die Abholung vom Router, und was kostet die Abholung?") == [
        "dauert", "Abholung", "Router", "kostet"]


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


def test_knowledge_admins_set_a_spaces_greeting_and_closing_in_the_admin(client, space):
    from tests.conftest import _user

    client.force_login(_user("erika", "knowledge admins"))
    form = client.get(f"/admin/kb/space/{space.pk}/change/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Anrede (Antworten auf Deutsch)" in form and "Grußformel (Antworten auf Englisch)" in form

    response = client.post(f"/admin/kb/space/{space.pk}/change/", {
        "slug": space.slug, "name": space.name, "default_review_interval_days": "90", "default_audience": "internal", "withhold_flagged_from_public": "on",
        "greeting": "Guten Tag,", "closing": "Viele Grüße\r\nIhr Service", "greeting_en": "Hello,", "closing_en": "",
    })

    assert response.status_code == 302
    space.refresh_from_db()
    assert (space.greeting, space.closing, space.greeting_en, space.closing_en) == (
        "Guten Tag,", "Viele Grüße\r\nIhr Service", "Hello,", "")
    assert space.reply_frame("en-GB") == ("Hello,", "") and space.reply_frame("de") == ("Guten Tag,", "Viele Grüße\nIhr Service")
