"""Past tickets: the import (JSON lines, JSON, CSV), redaction before storage, bad input, re-import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from retrieval.answers import tickets as ticket_module
from retrieval.answers.tickets import ticket_import
from retrieval.models import Ticket, TicketImport, TicketSimulation

DEMO_TICKETS = Path(__file__).resolve().parents[3] / "demo" / "tickets.jsonl"
PERSONAL = {
    "names": ["Petra Schneider", "Schneider", "Jana Krüger", "Krüger"],
    "emails": ["petra.schneider@web.example"],
    "phones": ["0171 2345678", "2345678"],
    "ibans": ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000"],
    "addresses": ["Hauptstraße 12", "83022 Rosenheim"],
}


def _ticket(ticket_id: str, *, customer: str, agent: str = "Die Frist beträgt 14 Tage.", **fields) -> dict:
    return {"id": ticket_id, "subject": fields.pop("subject", "Rückgabe"), "resolved_at": "2026-10-06T10:42:00+02:00",
            "tags": ["rückgabe"], "messages": [{"from": "customer", "text": customer}, {"from": "agent", "text": agent}],
            **fields}


def _jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def _stored_text() -> str:
    return json.dumps(list(Ticket.objects.values()) + list(TicketImport.objects.values()), default=str, ensure_ascii=False)


def test_personal_data_in_a_ticket_is_redacted_before_storage(db, tmp_path):
    customer = (
        "Hallo Frau Krüger,\n\nwie lange kann ich mein Handy zurückschicken? Sie erreichen mich unter 0171 2345678 "
        "oder petra.schneider@web.example. Das Geld bitte auf DE89 3704 0044 0532 0130 00.\n\n"
        "Viele Grüße\nPetra Schneider\nHauptstraße 12, 83022 Rosenheim"
    )
    agent = "Hallo Frau Schneider,\ndie Frist beträgt 14 Tage ab Erhalt.\nMit freundlichen Grüßen\nJana Krüger"
    path = _jsonl(tmp_path / "tickets.jsonl", [_ticket("T-1", customer=customer, agent=agent)])

    run = ticket_import(path=path)

    ticket = Ticket.objects.get()
    assert ticket.messages == [
        {"from": "customer", "text": "Hallo Frau [NAME],\n\nwie lange kann ich mein Handy zurückschicken? Sie erreichen "
                                     "mich unter [PHONE] oder [EMAIL]. Das Geld bitte auf [IBAN].\n\n"
                                     "Viele Grüße\n[NAME]\n[ADDRESS], [ADDRESS]"},
        {"from": "agent", "text": "Hallo Frau [NAME],\ndie Frist beträgt 14 Tage ab Erhalt.\nMit freundlichen Grüßen\n[NAME]"},
    ]
    assert run.redactions == {"ADDRESS": 2, "EMAIL": 1, "IBAN": 1, "NAME": 4, "PHONE": 1}
    stored = _stored_text()
    for kind, values in PERSONAL.items():
        assert not any(value in stored for value in values), kind


def test_the_subject_is_redacted_like_the_messages(db, tmp_path):
    path = _jsonl(tmp_path / "t.jsonl", [_ticket("T-1", customer="Wie lange kann ich zurückgeben?",
                                                 subject="Rückruf an Herrn Berger unter 0171 2345678")])

    ticket_import(path=path)

    assert Ticket.objects.get().subject == "Rückruf an Herrn [NAME] unter [PHONE]"


def test_import_jsonl_stores_each_ticket_with_its_messages_tags_and_date(db, tmp_path):
    path = _jsonl(tmp_path / "tickets.jsonl", [
        _ticket("T-1", customer="Wie lange kann ich ein Handy zurückschicken?", locale="de"),
        {"id": 2, "subject": "Porting", "resolved_at": "2026-10-07", "messages": [
            {"from": "customer", "text": "How long does porting my number take?"},
            {"from": "agent", "text": "It takes 1 to 3 working days."},
            {"from": "customer", "text": "Thanks!"}], "requester": {"name": "Oliver Grant"}},
    ])

    run = ticket_import(path=path)

    assert (run.status, run.total, run.created, run.updated, run.unchanged) == ("done", 2, 2, 0, 0)
    second, first = Ticket.objects.order_by("external_id")  # "2" < "T-1"
    assert (first.external_id, first.subject, first.tags, first.locale) == ("T-1", "Rückgabe", ["rückgabe"], "de")
    assert first.resolved_at == dt.datetime(2026, 10, 6, 8, 42, tzinfo=dt.UTC)
    assert (second.external_id, second.locale, second.tags) == ("2", "en", [])  # locale detected, tags optional
    assert [message["from"] for message in second.messages] == ["customer", "agent", "customer"]
    assert timezone.localtime(second.resolved_at) == timezone.make_aware(dt.datetime(2026, 10, 7, 12, 0))  # a day: its noon
    assert "Oliver Grant" not in _stored_text()  # other keys are never stored
    assert first.imported_by == run and second.imported_by == run


def test_import_csv_one_row_per_ticket(db, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(
        "id,subject,customer_message,agent_reply,tags,resolved_at\n"
        'Z-10,Tarif runterstufen,"Hallo,\nwie oft kann ich in einen kleineren Tarif wechseln?\nLG Jonas",'
        '"Einmal pro Monat, zum 1. des Folgemonats.",tarif;downgrade,2026-10-09T09:15:00+02:00\n'
        "Z-11,Aktie,Wie steht die Aktie?,,,2026-10-10\n",
        encoding="utf-8",
    )

    run = ticket_import(path=path)

    assert (run.total, run.created) == (2, 2)
    downgrade, stock = Ticket.objects.order_by("external_id")
    assert downgrade.messages == [
        {"from": "customer", "text": "Hallo,\nwie oft kann ich in einen kleineren Tarif wechseln?\nLG [NAME]"},
        {"from": "agent", "text": "Einmal pro Monat, zum 1. des Folgemonats."},
    ]
    assert downgrade.tags == ["tarif", "downgrade"]
    assert stock.messages == [{"from": "customer", "text": "Wie steht die Aktie?"}]  # no reply: no agent message


def test_import_json_list_or_tickets_object(db, tmp_path):
    listed = tmp_path / "a.json"
    listed.write_text(json.dumps([_ticket("J-1", customer="Wie lange kann ich zurückgeben?")]), encoding="utf-8")
    wrapped = tmp_path / "b.json"
    wrapped.write_text(json.dumps({"tickets": [_ticket("J-2", customer="Wie lange kann ich zurückgeben?")]}), encoding="utf-8")

    ticket_import(path=listed)
    ticket_import(path=wrapped)

    assert sorted(Ticket.objects.values_list("external_id", flat=True)) == ["J-1", "J-2"]


GOOD = _ticket("T-1", customer="Wie lange kann ich zurückgeben?")


@pytest.mark.parametrize(("records", "message"), [
    ([GOOD, {**GOOD, "id": "T-2", "messages": [{"from": "kunde", "text": "Hallo?"}]}],
     "tickets.jsonl, line 2: field 'messages[1].from' must be customer or agent, not 'kunde'"),
    ([GOOD, {**GOOD, "id": "T-2", "resolved_at": "gestern"}],
     "tickets.jsonl, line 2: field 'resolved_at' must be an ISO date or date and time"),
    ([GOOD, {k: v for k, v in GOOD.items() if k != "subject"} | {"id": "T-3"}],
     "tickets.jsonl, line 2: field 'subject' is missing or empty"),
    ([GOOD, {**GOOD, "id": "T-4", "messages": [{"from": "agent", "text": "Gern geschehen."}]}],
     "tickets.jsonl, line 2: field 'messages' has no message from the customer"),
    ([GOOD, {**GOOD, "messages": GOOD["messages"]}],
     "tickets.jsonl, line 2: field 'id' 'T-1' appears twice (first at line 1)"),
    ([GOOD, {**GOOD, "id": "T-5", "messages": [{"from": "customer", "text": ""}]}],
     "tickets.jsonl, line 2: field 'messages[1].text' is missing or empty"),
    ([GOOD, {**GOOD, "id": "T-6", "tags": [1, 2]}],
     "tickets.jsonl, line 2: field 'tags' must be a list of texts"),
])
def test_a_broken_record_names_file_line_and_field_and_nothing_is_stored(db, tmp_path, records, message):
    path = _jsonl(tmp_path / "tickets.jsonl", records)

    with pytest.raises(CommandError) as raised:
        call_command("kb_tickets", "import", str(path))

    assert message in str(raised.value)
    assert str(raised.value).endswith("Nothing of this file was stored.")
    assert Ticket.objects.count() == 0
    run = TicketImport.objects.get()
    assert run.status == TicketImport.Status.FAILED and message in run.error


def test_invalid_json_and_csv_name_the_line(db, tmp_path):
    bad_json = tmp_path / "t.jsonl"
    bad_json.write_text(json.dumps(GOOD) + "\n{\"id\": \"T-2\", \n", encoding="utf-8")
    bad_csv = tmp_path / "t.csv"
    bad_csv.write_text("id,subject,agent_reply,resolved_at\nA,B,C,2026-10-01\n", encoding="utf-8")
    wide_csv = tmp_path / "w.csv"
    wide_csv.write_text("id,subject,customer_message,resolved_at\nA,B,Frage?,2026-10-01,extra\n", encoding="utf-8")
    unknown = tmp_path / "t.xlsx"
    unknown.write_bytes(b"PK")

    messages = []
    for path in (bad_json, bad_csv, wide_csv, unknown):
        with pytest.raises(CommandError) as raised:
            call_command("kb_tickets", "import", str(path))
        messages.append(str(raised.value))

    assert messages[0].startswith(f"{bad_json}, line 2: not valid JSON")
    assert messages[1].startswith(f"{bad_csv}, line 1: the header lacks the column(s) customer_message")
    assert messages[2].startswith(f"{wide_csv}, line 2: has more columns than the header (4)")
    assert messages[3].startswith(f"{unknown}: unknown ticket format '.xlsx' (expected .jsonl, .json or .csv)")
    assert Ticket.objects.count() == 0


def test_a_file_is_stored_in_one_transaction(db, tmp_path, monkeypatch):
    ticket_import(path=_jsonl(tmp_path / "first.jsonl", [GOOD]))
    second = _jsonl(tmp_path / "second.jsonl", [{**GOOD, "subject": "Rückgabe, geändert"},
                                                 {**GOOD, "id": "T-2"}, {**GOOD, "id": "T-3"}])

    def failing_update(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ticket_module.Ticket.objects, "bulk_update", failing_update)  # after the new rows were written
    with pytest.raises(RuntimeError):
        ticket_import(path=second)

    assert list(Ticket.objects.values_list("external_id", "subject")) == [("T-1", "Rückgabe")]
    assert TicketImport.objects.filter(status=TicketImport.Status.DONE).count() == 1


def test_importing_the_same_file_again_does_not_duplicate(db, tmp_path, capsys):
    path = _jsonl(tmp_path / "tickets.jsonl", [GOOD, {**GOOD, "id": "T-2"}])

    call_command("kb_tickets", "import", str(path))
    call_command("kb_tickets", "import", str(path))

    out = capsys.readouterr().out
    assert f"Imported {path}: 2 tickets, 2 created, 0 updated, 0 unchanged." in out
    assert f"Imported {path}: 2 tickets, 0 created, 0 updated, 2 unchanged." in out
    assert Ticket.objects.count() == 2
    assert TicketImport.objects.count() == 2


def test_a_changed_ticket_is_updated_in_place_and_its_old_simulation_dropped(db, tmp_path):
    ticket_import(path=_jsonl(tmp_path / "a.jsonl", [GOOD, {**GOOD, "id": "T-2"}]))
    first = Ticket.objects.get(external_id="T-1")
    first_pk = first.pk
    TicketSimulation.objects.create(ticket=first, audience="public", question="?", status="refused", generator="extractive")

    run = ticket_import(path=_jsonl(tmp_path / "b.jsonl", [{**GOOD, "subject": "Rückgabe eines Tablets"}]))

    assert (run.created, run.updated, run.unchanged) == (0, 1, 0)
    assert Ticket.objects.count() == 2
    first.refresh_from_db()
    assert (first.pk, first.subject, first.imported_by) == (first_pk, "Rückgabe eines Tablets", run)
    assert not TicketSimulation.objects.exists()


def test_demo_tickets_import_cleanly(db):
    run = ticket_import(path=DEMO_TICKETS)

    assert (run.status, run.total, run.created) == ("done", 17, 17)
    stored = _stored_text()
    for value in ("Markus Hoffmann", "sabine.winter@", "DE89 3704", "Lindenallee 7", "0151 23456789", "Aylin Demir",
                  "Kevin und Laura", "KD-4471902", "Brandstätter"):
        assert value not in stored


def test_tickets_and_imports_are_read_only_in_the_admin(client, approver, agent, tmp_path):
    ticket_import(path=_jsonl(tmp_path / "tickets.jsonl", [GOOD]))
    ticket = Ticket.objects.get()

    client.force_login(approver)
    pages = [client.get(reverse(name, args=args)) for name, args in (
        ("admin:retrieval_ticket_changelist", ()), ("admin:retrieval_ticket_change", (ticket.pk,)),
        ("admin:retrieval_ticketimport_changelist", ()))]
    add = client.get(reverse("admin:retrieval_ticket_add"))
    client.force_login(agent)
    denied = client.get(reverse("admin:retrieval_ticket_changelist"))

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "Wie lange kann ich zurückgeben?" in pages[1].content.decode()
    assert "tickets.jsonl" in pages[2].content.decode()
    assert add.status_code == 403
    assert denied.status_code == 403
