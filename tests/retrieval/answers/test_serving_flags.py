"""Serving flagged content: search marks it; public answers stop citing it from the change's
effective date on (per space); internal answers cite it with a warning."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from governance import services
from governance.models import Flag
from retrieval.answers.pipeline import answer_question
from retrieval.search.hybrid import search
from retrieval.search.query import SearchQuery

BODY = "## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben."
QUESTION = "Wie lange kann ich im Shop gekaufte Geräte zurückgeben?"


def _flag(article, effective_date):
    event = services.change_event_create(kind="policy", title="30 Tage Rückgabe", description="Ab sofort 30 Tage.",
                                         effective_date=effective_date, assess=False)
    services.flag_raise(article=article, reason=Flag.Reason.CHANGE_EVENT, change_event=event,
                        summary="nennt 14 Tage; die Änderung legt 30 Tage fest", evidence="innerhalb von 14 Tagen")
    return event


def test_before_the_effective_date_public_answers_still_cite_it(publish):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=BODY)
    _flag(article, timezone.localdate() + dt.timedelta(days=30))

    result = answer_question(question=QUESTION, audience="public", locale="de")

    assert result.status == "answered"
    assert [c.slug for c in result.citations] == ["rueckgabe"]


def test_from_the_effective_date_public_answers_do_not_cite_it_internal_ones_warn(publish):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=BODY)
    _flag(article, timezone.localdate())

    public = answer_question(question=QUESTION, audience="public", locale="de")
    internal = answer_question(question=QUESTION, audience="internal", locale="de")
    results = search(SearchQuery(text=QUESTION, audiences=("public",), locale="de"))

    assert public.status == "refused" and public.citations == []
    assert internal.status == "answered"
    assert internal.as_api()["warnings"][0]["slug"] == "rueckgabe"
    assert "30 Tage Rückgabe" in internal.as_api()["warnings"][0]["warning"]
    assert [(r.article.slug, r.state) for r in results] == [("rueckgabe", "flagged")]


def test_a_space_may_keep_serving_flagged_articles(publish, space):
    space.withhold_flagged_from_public = False
    space.save()
    article = publish("rueckgabe", title="Rückgabe im Shop", body=BODY)
    _flag(article, timezone.localdate())

    result = answer_question(question=QUESTION, audience="public", locale="de")

    assert result.status == "answered"
