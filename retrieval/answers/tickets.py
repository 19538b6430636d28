"""Past tickets: resolved support tickets read from a file, redacted, and stored (`kb_tickets import FILE`).

The formats (README, "Past tickets"), chosen by the file's extension:

- `.jsonl`: one ticket per line, `{"id", "subject", "messages": [{"from": "customer" | "agent", "text"}],
  "tags": [...], "resolved_at", "locale"}` (`tags` and `locale` optional; a missing locale is detected);
- `.json`: a list of the same objects, or `{"tickets": [...]}`;
- `.csv`: a header and one row per ticket, `id,subject,customer_message,agent_reply,tags,resolved_at[,locale]`;
  tags separated by `;` or `,`; the delimiter is `,` or `;` (whichever the header uses).

`resolved_at` is an ISO date or date and time (without an offset: Europe/Berlin, the project's time zone).
Other keys and columns are ignored and never stored (exports carry requester names and addresses there).
Every text is redacted before it is stored or simulated (retrieval.answers.redaction, with names and
addresses: tickets are letters). A bad record stops the file with its line or record and field named;
the tickets of one file are stored in one transaction, so a file is imported whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from retrieval.answers.guardrails import redaction_patterns
from retrieval.answers.redaction import RedactionPattern, redact
from retrieval.models import Ticket, TicketImport, TicketSimulation
from retrieval.text.letters import letter_body
from retrieval.text.tokens import detect_language
from verity.core.errors import ApplicationError

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
CSV_COLUMNS = ("id", "subject", "customer_message", "agent_reply", "tags", "resolved_at")
CSV_REQUIRED = ("id", "subject", "customer_message", "resolved_at")
SENDERS = tuple(Ticket.Sender.values)
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ID = 100
MAX_SUBJECT = 500
MAX_MESSAGE = 20_000
MAX_MESSAGES = 200
MAX_TAG = 100
LOCALE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?")
MIN_QUESTION_WORDS = 5  # a first message shorter than this ("Siehe Betreff.") is asked with its subject
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")


@dataclass(frozen=True)
class TicketMessage:
    sender: str  # customer | agent
    text: str


@dataclass(frozen=True)
class TicketInput:
    """One ticket as read from a file or the database, redacted."""

    id: str
    subject: str
    messages: tuple[TicketMessage, ...]
    tags: tuple[str, ...]
    resolved_at: dt.datetime
    locale: str
    where: str = ""  # file and line or record, for messages
    redactions: Counter = field(default_factory=Counter, compare=False)

    @property
    def question(self) -> str:
        """The first customer message without greeting and signature: what the customer asked."""
        first = next(message.text for message in self.messages if message.sender == Ticket.Sender.CUSTOMER)
        body = letter_body(first)
        if len(re.findall(r"\w+", PLACEHOLDER.sub("", body))) < MIN_QUESTION_WORDS:
            body = f"{self.subject}. {body}".strip(" .") if body else self.subject
        return body

    @property
    def agent_reply(self) -> str:
        """The agent's first reply after the first customer message, without greeting and signature."""
        seen_customer = False
        for message in self.messages:
            if message.sender == Ticket.Sender.CUSTOMER:
                seen_customer = True
            elif seen_customer:
                return letter_body(message.text)
        return ""

    def stored(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "messages": [{"from": message.sender, "text": message.text} for message in self.messages],
            "tags": list(self.tags),
            "locale": self.locale,
            "resolved_at": self.resolved_at,
        }

    @property
    def content_hash(self) -> str:
        content = {**self.stored(), "resolved_at": self.resolved_at.isoformat()}
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- reading a file ----------------------------------------------------------------------------


def _fail(where: str, field_name: str | None, problem: str) -> ApplicationError:
    return ApplicationError(f"{where}: field '{field_name}' {problem}" if field_name else f"{where}: {problem}",
                            code="bad_ticket_file")


def _text(data: dict, key: str, where: str, *, limit: int, label: str | None = None) -> str:
    label = label or key
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _fail(where, label, "is missing or empty")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _fail(where, label, f"must be text, not {type(value).__name__}")
    value = str(value).strip()
    if len(value) > limit:
        raise _fail(where, label, f"has {len(value)} characters (at most {limit})")
    if "\x00" in value:
        raise _fail(where, label, "contains a NUL character")
    return value


def _resolved_at(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "resolved_at", "is missing or empty (an ISO date such as 2026-11-03 or 2026-11-03T14:12:00+01:00)")
    text = value.strip()
    try:
        day = parse_date(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
        moment = dt.datetime.combine(day, dt.time(12, 0)) if day else parse_datetime(text)  # a day alone: its noon
    except ValueError:
        moment = None
    if moment is None:
        raise _fail(where, "resolved_at", f"must be an ISO date or date and time (2026-11-03, 2026-11-03T14:12:00+01:00), not {text!r}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _tags(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = re.split(r"[;,]", value)
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise _fail(where, "tags", "must be a list of texts (or, in a CSV, texts separated by ';')")
    tags = tuple(dict.fromkeys(tag.strip() for tag in value if tag.strip()))
    for tag in tags:
        if len(tag) > MAX_TAG:
            raise _fail(where, "tags", f"has a tag of {len(tag)} characters (at most {MAX_TAG})")
    return tags


def _messages(value: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "messages", 'must be a non-empty list of {"from": "customer" | "agent", "text": ...}')
    if len(value) > MAX_MESSAGES:
        raise _fail(where, "messages", f"has {len(value)} messages (at most {MAX_MESSAGES})")
    messages = []
    for index, message in enumerate(value, start=1):
        label = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _fail(where, label, 'must be an object {"from": "customer" | "agent", "text": ...}')
        sender = message.get("from")
        if sender not in SENDERS:
            raise _fail(where, f"{label}.from", f"must be customer or agent, not {sender!r}")
        messages.append((sender, _text(message, "text", where, limit=MAX_MESSAGE, label=f"{label}.text")))
    if not any(sender == Ticket.Sender.CUSTOMER for sender, _ in messages):
        raise _fail(where, "messages", "has no message from the customer (a ticket starts with the customer's question)")
    return messages


def ticket_from_record(data: Any, where: str, patterns: list[RedactionPattern]) -> TicketInput:
    """One ticket from a JSON object (or a CSV row turned into one), validated and redacted."""
    if not isinstance(data, dict):
        raise _fail(where, None, "expected an object with id, subject, messages and resolved_at")
    ticket_id = _text(data, "id", where, limit=MAX_ID)
    subject = _text(data, "subject", where, limit=MAX_SUBJECT)
    messages = _messages(data.get("messages"), where)
    tags = _tags(data.get("tags"), where)
    resolved_at = _resolved_at(data.get("resolved_at"), where)
    locale = data.get("locale")
    if locale not in (None, "") and (not isinstance(locale, str) or not LOCALE.fullmatch(locale)):
        raise _fail(where, "locale", f"must be a language code such as de or en, not {locale!r}")
    counts: Counter = Counter()

    def clean(text: str) -> str:
        redaction = redact(text, patterns, letters=True)
        counts.update(redaction.counts)
        return redaction.text

    redacted = tuple(TicketMessage(sender, clean(text)) for sender, text in messages)
    first = next(message.text for message in redacted if message.sender == Ticket.Sender.CUSTOMER)
    return TicketInput(
        id=ticket_id, subject=clean(subject)[:MAX_SUBJECT], messages=redacted,
        tags=tuple(clean(tag)[:MAX_TAG] for tag in tags), resolved_at=resolved_at,
        locale=locale or detect_language(f"{subject}\n{first}"), where=where, redactions=counts,
    )


def _csv_records(text: str, path: Path):
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in CSV_REQUIRED if column not in columns]
    if missing:
        raise _fail(f"{path}, line 1", None, f"the header lacks the column(s) {', '.join(missing)} "
                                             f"(expected {','.join(CSV_COLUMNS)}[,locale])")
    reader.fieldnames = columns
    while True:
        start = reader.line_num + 1  # a quoted field may span lines: a row is named by its first line
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _fail(f"{path}, line {reader.line_num}", None, f"not valid CSV ({error})") from None
        where = f"{path}, line {start}"
        if None in row:
            raise _fail(where, None, f"has more columns than the header ({len(columns)})")
        messages = [{"from": "customer", "text": row.get("customer_message")}]
        if (row.get("agent_reply") or "").strip():
            messages.append({"from": "agent", "text": row["agent_reply"]})
        yield where, {"id": row.get("id"), "subject": row.get("subject"), "messages": messages,
                      "tags": row.get("tags") or "", "resolved_at": row.get("resolved_at"), "locale": row.get("locale")}


def _json_records(text: str, path: Path, kind: str):
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield f"{path}, line {number}", json.loads(line)
            except json.JSONDecodeError as error:
                raise _fail(f"{path}, line {number}", None, f"not valid JSON ({error.msg} at column {error.colno})") from None
            except RecursionError:
                raise _fail(f"{path}, line {number}", None, "JSON nested too deeply") from None
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _fail(f"{path}, line {error.lineno}", None, f"not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise _fail(str(path), None, "JSON nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("tickets"), list):
        data = data["tickets"]
    if not isinstance(data, list):
        raise _fail(str(path), None, 'expected a list of tickets, or {"tickets": [...]}')
    for number, record in enumerate(data, start=1):
        yield f"{path}, record {number}", record


def load_tickets(path: Path) -> list[TicketInput]:
    """Every ticket of a file, validated and redacted; the first bad record raises, naming its place and field."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise _fail(str(path), None, f"unknown ticket format '{path.suffix}' (expected .jsonl, .json or .csv)")
    if not path.is_file():
        raise _fail(str(path), None, "no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _fail(str(path), None, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _fail(str(path), None, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise _fail(str(path), None, f"cannot be read ({error.strerror})") from None
    records = _csv_records(text, path) if kind == "csv" else _json_records(text, path, kind)
    patterns = redaction_patterns()
    tickets: list[TicketInput] = []
    first_seen: dict[str, str] = {}
    for where, record in records:
        ticket = ticket_from_record(record, where, patterns)
        if ticket.id in first_seen:
            raise _fail(where, "id", f"{ticket.id!r} appears twice (first at {first_seen[ticket.id].rsplit(', ', 1)[-1]})")
        first_seen[ticket.id] = where
        tickets.append(ticket)
    if not tickets:
        raise _fail(str(path), None, "holds no tickets")
    return tickets


# --- storing -----------------------------------------------------------------------------------


def ticket_import(*, path: Path, actor: Any = None) -> TicketImport:
    """Read, redact and store the tickets of a file: all or none. Tickets are keyed by their id in the
    ticketing system: a ticket imported again is updated when its (redacted) content changed, else left
    alone. The run is recorded either way (Admin → Ticket imports); a failed run stores no ticket."""
    started = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    digest = ""
    try:
        tickets = load_tickets(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return _store(tickets, path=path, digest=digest, user=user, started=started)
    except ApplicationError as error:
        TicketImport.objects.create(file=str(path), sha256=digest, status=TicketImport.Status.FAILED, error=error.message,
                                    started_by=user, started_at=started, finished_at=timezone.now())
        raise


@transaction.atomic
def _store(tickets: list[TicketInput], *, path: Path, digest: str, user: Any, started: dt.datetime) -> TicketImport:
    redactions: Counter = Counter()
    for ticket in tickets:
        redactions.update(ticket.redactions)
    run = TicketImport.objects.create(file=str(path), sha256=digest, status=TicketImport.Status.DONE, total=len(tickets),
                                      redactions=dict(sorted(redactions.items())), started_by=user, started_at=started)
    existing = {row.external_id: row for row in Ticket.objects.select_for_update().filter(external_id__in=[t.id for t in tickets])}
    created, changed = [], []
    now = timezone.now()
    for ticket in tickets:
        row = existing.get(ticket.id)
        content_hash = ticket.content_hash
        if row is None:
            created.append(Ticket(external_id=ticket.id, content_hash=content_hash, imported_by=run, imported_at=now,
                                  **ticket.stored()))
        elif row.content_hash != content_hash:
            for name, value in ticket.stored().items():
                setattr(row, name, value)
            row.content_hash, row.imported_by, row.imported_at = content_hash, run, now
            changed.append(row)
    Ticket.objects.bulk_create(created)
    Ticket.objects.bulk_update(changed, ["subject", "messages", "tags", "locale", "resolved_at", "content_hash",
                                         "imported_by", "imported_at"])
    # what Verity answered to the old content says nothing about the new one
    TicketSimulation.objects.filter(ticket__in=changed).delete()
    run.created, run.updated = len(created), len(changed)
    run.unchanged = len(tickets) - len(created) - len(changed)
    run.finished_at = timezone.now()
    run.save(update_fields=["created", "updated", "unchanged", "finished_at"])
    return run


def ticket_input(row: Ticket) -> TicketInput:
    """A stored ticket in the form the simulation reads (already redacted)."""
    return TicketInput(
        id=row.external_id, subject=row.subject,
        messages=tuple(TicketMessage(message["from"], message["text"]) for message in row.messages),
        tags=tuple(row.tags), resolved_at=row.resolved_at, locale=row.locale, where=f"ticket {row.external_id}",
    )


def imported_tickets(*, ids: list[str] | None = None) -> list[TicketInput]:
    rows = Ticket.objects.order_by("resolved_at", "external_id")
    if ids:
        rows = rows.filter(external_id__in=ids)
    return [ticket_input(row) for row in rows]
