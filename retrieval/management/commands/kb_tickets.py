"""`manage.py kb_tickets import FILE` and `kb_tickets gaps`: past tickets and the knowledge gaps they show."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from retrieval.answers.ticket_simulation import ticket_gaps
from retrieval.answers.tickets import ticket_import
from verity.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Past tickets. 'import FILE' reads resolved tickets (.jsonl, .json or .csv; README 'Past tickets'), redacts "
        "personal data and stores them, all or nothing; 'gaps' lists the topics of imported tickets the knowledge "
        "base could not answer in their last simulation (`kb_eval --tickets`)."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="import|gaps")
        importing = actions.add_parser("import", help="import a file of resolved tickets")
        importing.add_argument("file", type=Path)
        importing.add_argument("--user", help="record this person as the importer (default: none)")
        actions.add_parser("gaps", help="ticket topics the knowledge base could not answer, with counts")

    def handle(self, *args, action: str, **options) -> None:
        if action == "import":
            self._import(options["file"], options.get("user"))
        else:
            self._gaps()

    def _import(self, file: Path, username: str | None) -> None:
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"--user: no user named '{username}'")
        try:
            run = ticket_import(path=file, actor=actor)
        except ApplicationError as error:
            raise CommandError(f"{error.message}. Nothing of this file was stored.") from error
        self.stdout.write(
            f"Imported {file}: {run.total} tickets, {run.created} created, {run.updated} updated, {run.unchanged} unchanged."
        )
        redacted = ", ".join(f"{count} {label}" for label, count in sorted(run.redactions.items())) or "nothing"
        self.stdout.write(f"  redacted before storage: {redacted}")

    def _gaps(self) -> None:
        topics = ticket_gaps()
        if not topics:
            self.stdout.write("No ticket gaps: no imported ticket was refused or disagreed in its last simulation "
                              "(run `manage.py kb_eval --tickets` after `kb_tickets import FILE`).")
            return
        self.stdout.write("Ticket topics the knowledge base could not answer (last simulation of each imported ticket):")
        for topic in topics:
            self.stdout.write(f"  {topic.count} ticket(s), {topic.refused} refused, {topic.disagreeing} disagreeing: "
                              f"„{topic.label}“{f' ({topic.tags})' if topic.tags else ''}  [{', '.join(topic.ticket_ids)}]")
            for example in topic.examples:
                self.stdout.write(f"      „{example}“")
