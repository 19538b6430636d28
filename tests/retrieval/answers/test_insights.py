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
    # a topic is named by its most typical question, as asked; the other wording is its example
    assert stock.label in ("Wie steht der Aktienkurs heute?", "Wie hoch ist der Aktienkurs heute?")
    assert stock.examples == [q for q in ("Wie steht der Aktienkurs heute?", "Wie hoch ist der Aktienkurs heute?") if q != stock.label]
    assert stock.refused == 2


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


def test_a_long_question_names_its_topic_cut_at_a_word():
    label = insights.readable("Ich habe   eine Frage zu meinem Vertrag, den ich letztes Jahr im Shop abgeschlossen habe, "
                              "und zwar ob ich ihn auf meinen Sohn übertragen kann")

    assert label.endswith(" …") and len(label) <= 92 and "  " not in label
    assert label.startswith("Ich habe eine Frage zu meinem Vertrag")


def test_each_gap_links_to_a_new_article_with_its_title_for_those_who_may_write(client, approver, admin_user_role, publish):
    import re
    from html import unescape

    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    for question in ("Kann ich meinen Vertrag auf meinen Sohn übertragen?", "Wie übertrage ich den Vertrag auf meinen Sohn?"):
        answer_question(question=question, audience="public", locale="de")

    client.force_login(approver)  # approvers may not create articles: no link they would get a 403 from
    approver_page = client.get(reverse("admin:insights")).content.decode()
    client.force_login(admin_user_role)
    admin_page = client.get(reverse("admin:insights")).content.decode()

    add = reverse("admin:kb_article_add")
    assert add + "?content_title=" not in approver_page
    create = [unescape(href) for href in re.findall(r'href="([^"]+)"', admin_page) if href.startswith(add + "?content_title=")]
    assert len(create) == 1
    form = client.get(create[0])
    assert form.status_code == 200
    assert re.search(r'name="content_title"[^>]*value="(Kann ich meinen Vertrag|Wie übertrage ich)', form.content.decode())


def test_nobody_sees_a_link_on_the_insights_page_that_answers_403(client, approver, admin_user_role, publish):
    import re
    from html import unescape

    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    answered = answer_question(question="Wie lange kann ich im Shop gekaufte Geräte zurückgeben?", audience="public", locale="de")
    feedback_create(query_id=answered.query_id, helpful=False, comment="zu knapp")
    answer_question(question="Wie steht der Aktienkurs heute?", audience="public", locale="de")

    for user in (approver, admin_user_role):
        client.force_login(user)
        page = client.get(reverse("admin:insights")).content.decode()
        links = {unescape(href) for href in re.findall(r'href="(/admin/[^"]+)"', page)}
        assert links
        for link in links:
            assert client.get(link).status_code != 403, (user.username, link)


def test_an_agents_note_on_a_reported_gap_shows_beside_its_topic(client, approver, publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    refused = answer_question(question="Kann ich meinen Vertrag auf meinen Sohn übertragen?", audience="internal", locale="de")
    feedback_create(query_id=refused.query_id, helpful=False, reason="missing",
                    comment="Kunden fragen das oft, wir haben keinen Artikel zur Vertragsübernahme.")

    (gap,) = insights.knowledge_gaps()
    client.force_login(approver)
    page = client.get(reverse("admin:insights")).content.decode()

    assert gap.notes == ["Kunden fragen das oft, wir haben keinen Artikel zur Vertragsübernahme."]
    assert "Agent:" in page or "Agent/in:" in page
    assert "wir haben keinen Artikel zur Vertragsübernahme." in page
