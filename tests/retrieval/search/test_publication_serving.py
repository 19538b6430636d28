"""What search and answers serve around a scheduled publication and an emergency unpublish: the old
version until the go-live minute, the new one from it (never neither), nothing of a withdrawn article."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from governance import services
from governance.tasks import publications_publish_due
from retrieval.answers.pipeline import answer_question
from retrieval.models import Chunk
from tests.retrieval.helpers import run_search, slugs

RETURNS = "## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben."
QUESTION = "Wie lange kann ich im Shop gekaufte Geräte zurückgeben?"


def _served(query: str = "Geräte zurückgeben Frist") -> list[tuple[str, int, str]]:
    return [(r.article.slug, r.version_number, r.snippet) for r in run_search(query, audiences=("public",))]


def test_search_and_answers_serve_the_old_version_until_the_scheduled_one_goes_live(
        publish, revise, approver, public_api):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=RETURNS)
    review = revise(article, body=RETURNS.replace("14 Tagen", "30 Tagen"))
    go_live_at = timezone.now() + dt.timedelta(hours=3)
    services.version_approve(actor=approver, review=review, go_live_at=go_live_at)

    # approved, not yet live: search, the API and answers serve version 1 only
    [(slug, version, snippet)] = _served()
    assert (slug, version, "14 Tagen" in snippet, "30 Tagen" in snippet) == ("rueckgabe", 1, True, False)
    api = public_api.get("/api/v1/search", {"q": "Geräte zurückgeben", "locale": "de"}).json()
    assert [(item["slug"], item["version"]) for item in api["results"]] == [("rueckgabe", 1)]
    before = answer_question(question=QUESTION, audience="public", locale="de")
    assert (before.status, [(c.slug, c.version) for c in before.citations]) == ("answered", [("rueckgabe", 1)])
    assert "14 Tagen" in before.answer and "30 Tagen" not in before.answer

    # the beat task after the go-live time: version 2 in the same transaction as the live pointer
    with time_machine.travel(go_live_at + dt.timedelta(seconds=30), tick=False):
        assert publications_publish_due.delay().get() == [review.pk]

    [(slug, version, snippet)] = _served()
    assert (slug, version, "30 Tagen" in snippet, "14 Tagen" in snippet) == ("rueckgabe", 2, True, False)
    after = answer_question(question=QUESTION, audience="public", locale="de")
    assert [(c.slug, c.version) for c in after.citations] == [("rueckgabe", 2)]
    assert "30 Tagen" in after.answer
    assert set(Chunk.objects.filter(article=article, is_indexed=True).values_list("version__number", flat=True)) == {2}


def test_an_unpublished_article_is_neither_found_nor_cited_at_once(publish, admin_user_role, public_api, internal_api):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=RETURNS)
    publish("kuendigung", title="Kündigung", body="## Kündigung\n\nSie können Ihren Vertrag mit einer Frist von einem Monat kündigen.")
    assert slugs(run_search("Geräte zurückgeben", audiences=("public", "internal")))[0] == "rueckgabe"
    assert answer_question(question=QUESTION, audience="public", locale="de").status == "answered"

    services.article_unpublish(actor=admin_user_role, article=article, reason="Falsche Angabe zum Datenvolumen")

    assert "rueckgabe" not in slugs(run_search("Geräte zurückgeben", audiences=("public", "internal")))
    for api in (public_api, internal_api):
        response = api.get("/api/v1/search", {"q": "Geräte zurückgeben Rückgabe Shop", "locale": "de"}).json()
        assert "rueckgabe" not in slugs(response)
    for audience in ("public", "internal"):
        result = answer_question(question=QUESTION, audience=audience, locale="de")
        assert "rueckgabe" not in [c.slug for c in result.citations]
        assert "14 Tagen" not in (result.answer or "")
    assert not Chunk.objects.filter(article=article, is_indexed=True).exists()
