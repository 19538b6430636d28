"""The simulation on past tickets (`kb_eval --tickets`) and the knowledge gaps they show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from kb.models import Article
from retrieval.answers.ticket_simulation import simulate_tickets, ticket_gaps
from retrieval.answers.tickets import load_tickets, ticket_import
from retrieval.models import AnswerRecord, Ticket, TicketSimulation
from tests.llm_standin import StandinServer

RETURN_BODY = (
    "## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben.\n\n"
    "## Rücksendung\n\nDas Rücksendeetikett drucken Sie unter Mein Konto > Bestellungen > Rücksendung aus."
)
INTERNAL_BODY = (
    "## Kulanz\n\nAgenten dürfen ohne Rücksprache Gutschriften bis 25 € buchen. "
    "Darüber entscheidet die Teamleitung bis 150 €."
)


def _ticket(ticket_id: str, subject: str, question: str, reply: str, tags: list[str]) -> dict:
    return {"id": ticket_id, "subject": subject, "tags": tags, "resolved_at": "2026-11-02T10:00:00+01:00", "locale": "de",
            "messages": [{"from": "customer", "text": f"Hallo,\n{question}\nViele Grüße\nPetra Schneider"},
                         {"from": "agent", "text": f"Hallo Frau Schneider,\n{reply}\nMit freundlichen Grüßen\nJana Krüger"}]}


TICKETS = [
    _ticket("T-1", "Handy zurückgeben", "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?",
            "Sie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben.", ["rückgabe"]),
    _ticket("T-2", "Tablet zurückgeben", "Ich habe im Shop ein Gerät gekauft. Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?",
            "Im Shop gekaufte Geräte können Sie innerhalb von 30 Tagen ab Erhalt der Ware zurückgeben.", ["rückgabe"]),
    _ticket("T-3", "Aktienkurs", "Wie steht der Aktienkurs heute?",
            "Zum Aktienkurs geben wir keine Auskunft; Sie finden ihn bei Ihrer Bank.", ["aktie"]),
    _ticket("T-4", "Frage zum Aktienkurs", "Wie hoch ist der Aktienkurs heute?",
            "Zum Aktienkurs geben wir keine Auskunft; Sie finden ihn bei Ihrer Bank.", ["aktie"]),
    _ticket("T-5", "Wetter", "Wie wird das Wetter morgen in Berlin?",
            "Dazu haben wir leider keine Informationen, bitte schauen Sie in eine Wetter-App.", ["sonstiges"]),
    _ticket("T-6", "Rückruf gewünscht", "Ich will mit einem Mitarbeiter sprechen.",
            "Wir rufen Sie morgen zurück.", ["rückruf"]),
]


@pytest.fixture
def shop(publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    publish("kulanz", title="Kulanzrichtlinie", body=INTERNAL_BODY, audience=Article.Audience.INTERNAL)


@pytest.fixture
def tickets_file(tmp_path) -> Path:
    path = tmp_path / "tickets.jsonl"
    path.write_text("".join(json.dumps(ticket, ensure_ascii=False) + "\n" for ticket in TICKETS), encoding="utf-8")
    return path


def test_the_simulation_shows_answer_citations_and_disagreement_per_ticket_with_totals(shop, tickets_file, capsys):
    call_command("kb_eval", "--tickets", str(tickets_file))

    out = capsys.readouterr().out
    assert "Totals (6 tickets from" in out
    assert "  answered:                    2\n" in out
    assert "    agreeing with the agent:   1\n" in out
    assert "    disagreeing with the agent: 1\n" in out
    assert "  refused:                     3\n" in out
    assert "  handed over:                 1\n" in out
    assert "  knowledge gaps (refused or disagreeing): 4" in out
    lines = out.splitlines()
    assert next(line for line in lines if line.startswith("T-1 ")).split()[1:3] == ["answered", "agrees"]
    assert next(line for line in lines if line.startswith("T-2 ")).split()[1:3] == ["answered", "disagrees"]
    assert next(line for line in lines if line.startswith("T-2 ")).endswith("rueckgabe@v1")
    assert "         differs: agent: 30 Tagen, answer: 14 Tagen" in out
    assert next(line for line in lines if line.startswith("T-3 ")).split()[1] == "refused"
    assert next(line for line in lines if line.startswith("T-6 ")).split()[1] == "handoff"
    assert "[extractive]" in out
    assert "Schneider" not in out and "Krüger" not in out  # the tickets are redacted before they are simulated
    # a simulation of a file stores nothing: no answers, no tickets
    assert AnswerRecord.objects.count() == 0
    assert Ticket.objects.count() == 0


def test_the_comparison_lists_facts_the_answer_lacks(shop, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(_ticket(
        "T-7", "Rückgabe", "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?",
        "Sie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben. "
        "Die Erstattung dauert 10 Tage, das Etikett kostet 4,95 €.", ["rückgabe"])) + "\n", encoding="utf-8")

    (outcome,) = simulate_tickets(load_tickets(path)).outcomes

    assert outcome.result.status == "answered"
    assert (outcome.comparison.stated, outcome.comparison.agreeing) == (3, 1)
    assert outcome.differences == ["agent: 10 Tage, not in the answer", "agent: 4,95 €, not in the answer"]
    assert outcome.agreement == "disagrees"  # fewer than half of the agent's facts


def test_internal_audience_may_answer_from_internal_articles(shop, tmp_path, capsys):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(_ticket(
        "K-1", "Kulanz", "Bis zu welchem Betrag dürfen Agenten ohne Rücksprache Gutschriften buchen?",
        "Ohne Rücksprache dürfen Agenten Gutschriften bis 25 € buchen.", ["kulanz"])) + "\n", encoding="utf-8")

    call_command("kb_eval", "--tickets", str(path))
    public = capsys.readouterr().out
    call_command("kb_eval", "--tickets", str(path), "--audience", "internal")
    internal = capsys.readouterr().out

    assert public.startswith("K-1        refused  -")
    assert "25 €" not in public.split("agent:")[0]  # the internal amount never reaches a public answer
    assert "as the public audience" in public and "as the internal audience" in internal
    first_line = internal.splitlines()[0]
    assert first_line.startswith("K-1        answered agrees") and first_line.endswith("overlap 1.00 kulanz@v1")
    assert "       Verity:  Agenten dürfen ohne Rücksprache Gutschriften bis 25 € buchen. [1]" in internal


def test_imported_tickets_keep_their_last_simulation_and_gaps_are_clustered_with_counts(shop, tickets_file, capsys):
    ticket_import(path=tickets_file)

    call_command("kb_eval", "--tickets")
    gaps = ticket_gaps()

    assert "kept as the last simulation of 6 imported tickets" in capsys.readouterr().out
    assert dict(TicketSimulation.objects.values_list("ticket__external_id", "status")) == {
        "T-1": "answered", "T-2": "answered", "T-3": "refused", "T-4": "refused", "T-5": "refused", "T-6": "handoff"}
    assert TicketSimulation.objects.get(ticket__external_id="T-2").differences == ["agent: 30 Tagen, answer: 14 Tagen"]
    # refused (T-3, T-4, T-5) or disagreeing (T-2); the answered T-1 and the handed-over T-6 are no gaps
    # each topic is named by its most typical ticket's subject, with the tags most of its tickets carry
    assert [(gap.tags, gap.count, gap.refused, gap.disagreeing, sorted(gap.ticket_ids)) for gap in gaps] == [
        ("aktie", 2, 2, 0, ["T-3", "T-4"]), ("rückgabe", 1, 0, 1, ["T-2"]), ("sonstiges", 1, 1, 0, ["T-5"])]
    assert [gap.label for gap in gaps[1:]] == ["Tablet zurückgeben", "Wetter"]
    assert {gaps[0].label, *gaps[0].examples} == {"Aktienkurs", "Frage zum Aktienkurs"}

    call_command("kb_tickets", "gaps")
    out = capsys.readouterr().out
    assert f"  2 ticket(s), 2 refused, 0 disagreeing: „{gaps[0].label}“ (aktie)  [" in out
    assert f"      „{gaps[0].examples[0]}“" in out


def test_ticket_gaps_are_shown_next_to_the_question_gaps_in_the_insights_page(shop, tickets_file, client, approver):
    ticket_import(path=tickets_file)
    call_command("kb_eval", "--tickets", "--quiet")

    client.force_login(approver)
    page = client.get(reverse("admin:insights"))
    ticket = client.get(reverse("admin:retrieval_ticket_change", args=[Ticket.objects.get(external_id="T-2").pk]))
    disagreeing = client.get(reverse("admin:retrieval_ticket_changelist") + "?simulation__agreement__exact=disagrees")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Wissenslücken aus vergangenen Tickets" in html  # the admin speaks German by default
    assert "„Frage zum Aktienkurs“" in html and "„Tablet zurückgeben“" in html
    assert html.index("Wissenslücken: was als Nächstes zu schreiben ist") < html.index("Wissenslücken aus vergangenen Tickets")
    assert ticket.status_code == 200 and "agent: 30 Tagen, answer: 14 Tagen" in ticket.content.decode()
    assert disagreeing.status_code == 200 and "T-2" in disagreeing.content.decode()
    assert "T-1" not in disagreeing.content.decode().split('id="result_list"')[1]


def test_without_imported_tickets_the_simulation_says_what_to_do(db):
    with pytest.raises(CommandError, match="No imported tickets"):
        call_command("kb_eval", "--tickets")


def test_the_simulation_runs_through_the_configured_language_model(shop, tmp_path, settings, capsys):
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps(ticket, ensure_ascii=False) + "\n" for ticket in TICKETS[:2]), encoding="utf-8")
    server = StandinServer()
    server.script.answer = "Sie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben. [1]"
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = server.url
    settings.VERITY_LLM_MODEL = "standin"
    try:
        call_command("kb_eval", "--tickets", str(path))
    finally:
        server.close()

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert next(line for line in lines if line.startswith("T-1 ")).split()[1:3] == ["answered", "agrees"]
    assert next(line for line in lines if line.startswith("T-2 ")).split()[1:3] == ["answered", "disagrees"]
    assert "         differs: agent: 30 Tagen, answer: 14 Tagen" in out
    assert out.count("[llm:standin]") == 2
    assert len(server.script.requests) == 4  # judge and writer, per ticket
