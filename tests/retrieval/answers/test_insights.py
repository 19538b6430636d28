"""Insight pages: knowledge gaps grouped by topic, most-cited and disliked articles, rates over time."""

from __future__ import annotations

from django.urls import reverse

from retrieval.answers import insights
from retrieval.answers.feedback import feedback_create
from retrieval.answers.pipeline import answer_question

RETURN_BODY = "## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben."


def test_gaps_group_similar_refused_questions(publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    for question in ("Wie steht der Aktienkurs heute?", "Wie hoch ist der Aktienkurs heute?", "Wie wird das Wetter morgen in Berlin?"):
        answer_question(question=question, audience="public", locale="de")

    gaps = insights.knowledge_gaps()

    assert sorted(gap.count for gap in gaps) == [1, 2]
    stock = next(gap for gap in gaps if gap.count == 2)
    assert "aktienkurs" in stock.label
    assert stock.refused == 2
    assert all(example in ("Wie steht der Aktienkurs heute?", "Wie hoch ist der Aktienkurs heute?") for example in stock.examples)


def test_cited_disliked_and_rates(publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    answered = answer_question(question="Wie lange kann ich im Shop gekaufte Geräte zurückgeben?", audience="public", locale="de")
    answer_question(question="Ich will mit einem Mitarbeiter sprechen", audience="public", locale="de")
    answer_question(question="Was kostet ein Flug nach Rom?", audience="public", locale="de", simulated=True)
    feedback_create(query_id=answered.query_id, helpful=False, comment="zu knapp")

    cited = insights.most_cited()
    disliked = insights.most_disliked()
    days = insights.rates_by_day(days=7)

    assert answered.status == "answered"
    assert [(row.slug, row.count) for row in cited] == [("rueckgabe", 1)]
    assert [(row.slug, row.count) for row in disliked] == [("rueckgabe", 1)]
    assert len(days) == 7
    assert (days[-1].answered, days[-1].refused, days[-1].handoff) == (1, 0, 1)  # the simulation is not counted
    assert any(gap.disliked == 1 for gap in insights.knowledge_gaps())


def test_insights_page_renders_for_approvers_only(client, approver, agent, publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    answer_question(question="Wie steht der Aktienkurs heute?", audience="public", locale="de")

    client.force_login(approver)
    page = client.get(reverse("admin:insights"))
    client.force_login(agent)
    denied = client.get(reverse("admin:insights"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Wissenslücken" in html and "Wie steht der Aktienkurs heute?" in html
    assert "<svg" in html and 'class="refused"' in html
    assert denied.status_code in (302, 403)
