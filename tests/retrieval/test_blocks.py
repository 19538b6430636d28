"""Content blocks where they are served: search snippets, answers, the desktop and the admin show the
block's live text; a block's new version re-indexes every article using it (a Celery job through the
reindex path); an internal block never reaches a public client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance import services
from kb.models import Article
from retrieval.models import Chunk, IndexJob
from tests.conftest import _user
from tests.retrieval.helpers import run_search, slugs


@pytest.fixture
def block(publish):
    def make(slug: str, body: str, **kwargs) -> Article:
        return publish(slug, body=body, kind=Article.Kind.BLOCK, **kwargs)

    return make


def _search(client, **params) -> dict:
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    return response.json()


def _chunk_texts(article: Article) -> list[str]:
    article.refresh_from_db()
    return list(Chunk.objects.filter(version=article.live_version, is_indexed=True).order_by("ordinal")
                .values_list("text", flat=True))


def test_search_and_answers_serve_the_blocks_text_and_never_the_block_itself(block, publish, public_api):
    block("sim-ersatz-preis", "14,95 €")
    publish("sim-karte-ersetzen", title="SIM-Karte ersetzen",
            body="Eine Ersatz-SIM bei Verlust oder Diebstahl kostet {{ block:sim-ersatz-preis }}.")

    result = _search(public_api, q="Ersatz-SIM Verlust kostet", locale="de")["results"]
    answer = public_api.post("/api/v1/answer", {"question": "Was kostet eine Ersatz-SIM bei Verlust?"}, format="json").json()

    assert [item["slug"] for item in result] == ["sim-karte-ersetzen"]
    assert "kostet 14,95 €" in result[0]["snippet"] and "block:" not in result[0]["snippet"]
    assert answer["status"] == "answered"
    assert "14,95 €" in answer["answer"] and [c["slug"] for c in answer["citations"]] == ["sim-karte-ersetzen"]
    assert slugs(run_search("14,95 €", audiences=("public", "internal"))) == ["sim-karte-ersetzen"]


def test_publishing_a_block_version_reindexes_every_article_using_it(
        block, publish, author, approver, public_api, django_capture_on_commit_callbacks):
    fee = block("sim-ersatz-preis", "14,95 €")
    users = [publish(slug, body=f"{text} kostet {{{{ block:sim-ersatz-preis }}}}.")
             for slug, text in (("sim-karte-ersetzen", "Eine Ersatz-SIM"), ("esim-aktivieren", "Ein neues eSIM-Profil"))]
    bystander = publish("tarife", body="Der Anschlusspreis beträgt 29,99 €.")
    bystander_chunks = list(Chunk.objects.filter(article=bystander).values_list("pk", flat=True))

    # when a new version of the block is approved (the job runs after commit, eagerly in tests)
    version = services.version_create(actor=author, article=fee, title=fee.title, body="9,95 €", base_version=1)
    review = services.version_submit(actor=author, version=version)
    with django_capture_on_commit_callbacks(execute=True):
        services.version_approve(actor=approver, review=review)

    # then both articles are served with the new text, still as their same live version
    assert [_chunk_texts(article) for article in users] == [
        ["Eine Ersatz-SIM kostet 9,95 €."], ["Ein neues eSIM-Profil kostet 9,95 €."]]
    assert [Article.objects.get(pk=a.pk).live_version.number for a in users] == [1, 1]
    job = IndexJob.objects.get()
    assert (job.kind, job.total, job.done, job.status) == ("block:sim-ersatz-preis", 2, 2, IndexJob.Status.DONE)
    assert list(Chunk.objects.filter(article=bystander).values_list("pk", flat=True)) == bystander_chunks  # untouched
    snippet = _search(public_api, q="Ersatz-SIM kostet", locale="de")["results"][0]["snippet"]
    assert "9,95 €" in snippet and "14,95" not in snippet


def test_an_internal_block_in_an_internal_article_never_reaches_a_public_client(block, publish, public_api, internal_api):
    block("kulanz-grenze", "Gutschriften bis 25 Euro ohne Rücksprache", audience=Article.Audience.INTERNAL)
    publish("kulanz", body="Kulanz: {{ block:kulanz-grenze }}.", audience=Article.Audience.INTERNAL)

    assert _search(public_api, q="Gutschriften Rücksprache", locale="de")["results"] == []
    [result] = _search(internal_api, q="Gutschriften Rücksprache", locale="de")["results"]
    assert "bis 25 Euro ohne Rücksprache" in result["snippet"]


def test_a_block_made_internal_leaves_public_articles_at_once(block, publish, author, public_api, internal_api):
    fee = block("hotline-zeiten", "Mo–Fr 8:00–20:00, Sa 9:00–16:00")
    public = publish("hotline", body="Die Service-Hotline erreichen Sie {{ block:hotline-zeiten }}.")
    internal = publish("hotline-intern", body="Für Kunden: {{ block:hotline-zeiten }}.", audience=Article.Audience.INTERNAL)

    services.article_update_settings(actor=author, article=fee, audience=Article.Audience.INTERNAL)

    assert _chunk_texts(public) == ["Die Service-Hotline erreichen Sie ."]
    assert _chunk_texts(internal) == ["Für Kunden: Mo–Fr 8:00–20:00, Sa 9:00–16:00."]
    assert all("8:00" not in item["snippet"] for item in _search(public_api, q="Hotline erreichen", locale="de")["results"])


def test_an_emergency_unpublish_of_a_block_removes_its_text_from_every_article_in_the_same_step(block, publish):
    fee = block("sim-ersatz-preis", "14,95 €")
    article = publish("sim", body="Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.")

    services.article_unpublish(actor=_user("erika", "knowledge admins"), article=fee, reason="Preis falsch")

    assert _chunk_texts(article) == ["Eine Ersatz-SIM kostet ."]
    assert not Chunk.objects.filter(is_indexed=True, text__contains="14,95").exists()


def test_a_full_reindex_renders_blocks_and_indexes_no_block(block, publish):
    from retrieval.index.reindex import reindex_start

    fee = block("sim-ersatz-preis", "14,95 €")
    article = publish("sim", body="Kostet {{ block:sim-ersatz-preis }}.")

    job = reindex_start()

    assert (job.total, job.status) == (1, IndexJob.Status.DONE)
    assert _chunk_texts(article) == ["Kostet 14,95 €."]
    assert not Chunk.objects.filter(article=fee).exists()


def test_the_desktop_and_the_admin_show_the_live_text_and_who_uses_what(block, publish, client, approver):
    fee = block("sim-ersatz-preis", "14,95 €", title="Preis Ersatz-SIM")
    article = publish("sim-karte-ersetzen", title="SIM-Karte ersetzen", body="Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.")

    client.force_login(_user("felix", "agents"))
    desktop = client.get(reverse("desktop:article", args=["sim-karte-ersetzen"])).content.decode()
    assert "Eine Ersatz-SIM kostet 14,95 €." in desktop and "block:" not in desktop
    assert client.get(reverse("desktop:article", args=["sim-ersatz-preis"])).status_code == 404  # not an article to read

    client.force_login(approver)
    article_page = client.get(reverse("admin:kb_article_change", args=[article.pk])).content.decode()
    assert "Eine Ersatz-SIM kostet 14,95 €." in article_page  # the live preview
    assert "Bausteine in diesem Artikel" in article_page
    assert f'href="{reverse("admin:kb_article_change", args=[fee.pk])}">sim-ersatz-preis</a>' in article_page
    block_page = client.get(reverse("admin:kb_article_change", args=[fee.pk])).content.decode()
    assert "Artikel, die diesen Baustein verwenden" in block_page
    assert "Artikel zeigen den Live-Text dieses Bausteins dort, wo sie {{ block:sim-ersatz-preis }} schreiben." in block_page
    assert f'href="{reverse("admin:kb_article_change", args=[article.pk])}">sim-karte-ersetzen</a>' in block_page


def test_the_admin_form_names_the_unknown_block_and_keeps_the_text(author, space, client):
    client.force_login(author)

    response = client.post(reverse("admin:kb_article_add"), {
        "slug": "neu", "content_title": "Neu", "content_body": "Kostet {{ block:gibt-es-nicht }}.",
        "owner": author.pk, "space": space.pk, "locale": "de", "kind": "article", "audience": "public",
        "tags": "",
    })

    page = response.content.decode()
    assert response.status_code == 200
    assert "Es gibt keinen Baustein „gibt-es-nicht“." in page
    assert "Kostet {{ block:gibt-es-nicht }}." in page
    assert not Article.objects.filter(slug="neu").exists()


SIM = """# SIM-Karte verloren – Ersatz-SIM bestellen

## Ersatz-SIM bestellen

Bestellen Sie Ihre Ersatz-SIM unter Mein Alpenfunk > SIM & eSIM > Ersatz-SIM bestellen.

| Grund | Preis |
|---|---|
| Verlust, Diebstahl oder Wechsel des Kartenformats | {{ block:sim-ersatz-preis }} |
| defekte SIM-Karte in den ersten 24 Monaten | kostenlos |
"""

SIM_EN = """# Lost SIM card – order a replacement SIM

## Ordering a replacement SIM

Order your replacement SIM under Mein Alpenfunk > SIM & eSIM > Order replacement SIM.

| Reason | Price |
|---|---|
| loss, theft or change of card format | {{ block:sim-replacement-fee }} |
| defective SIM card in the first 24 months | free of charge |
"""


def test_a_change_that_makes_a_block_wrong_flags_the_block_its_translation_and_the_articles_using_them(block, publish):
    import datetime as dt

    from governance.models import Flag
    from retrieval.impact.assessment import change_event_run

    # given the SIM fee written once per language as blocks, and the articles showing them
    fee = block("sim-ersatz-preis", "14,95 €")
    fee_en = block("sim-replacement-fee", "€14.95", locale="en", translation_of=fee)
    german = publish("sim-karte-ersetzen", title="SIM-Karte verloren – Ersatz-SIM bestellen", body=SIM)
    publish("sim-replacement", title="Lost SIM card – order a replacement SIM", body=SIM_EN, locale="en",
            translation_of=german)
    publish("tarife", title="Tarife", body="Der einmalige Anschlusspreis beträgt 29,99 €.")
    event = services.change_event_create(
        kind="policy", title="Neuer Preis für Ersatz-SIM", assess=False, effective_date=dt.date(2027, 2, 1),
        description="Ab 1. Februar 2027 kostet eine Ersatz-SIM (bei Verlust, Diebstahl oder Wechsel des "
                    "Kartenformats) 9,95 €.")

    # when it is assessed
    change_event_run(event.pk)

    # then the block is flagged, naming the articles using it; the articles follow its flag
    flags = {flag.article.slug: flag for flag in Flag.objects.filter(change_event=event).select_related("article")}
    assert set(flags) == {"sim-ersatz-preis", "sim-replacement-fee", "sim-karte-ersetzen", "sim-replacement"}
    assert flags["sim-ersatz-preis"].summary.startswith("Baustein, verwendet in sim-karte-ersetzen: nennt 14,95 €")
    assert flags["sim-karte-ersetzen"].summary.startswith("Über den Baustein „sim-ersatz-preis“: nennt 14,95 €")
    assert flags["sim-karte-ersetzen"].follows == flags["sim-ersatz-preis"]
    assert flags["sim-replacement-fee"].follows == flags["sim-ersatz-preis"]
    assert flags["sim-replacement-fee"].summary.startswith("Translation of “sim-ersatz-preis” (de), which this change "
                                                           "affects: Content block used in sim-karte-ersetzen:")
    assert fee_en.live_version_id is not None
