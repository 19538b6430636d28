"""`manage.py kb_tickets import FILE`, `kb_tickets gaps` and `kb_tickets draft`: past tickets, the knowledge
gaps they show, and a new article drafted from one of them."""

from __future__ import annotations

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from governance.models import Suggestion
from kb.models import Space
from retrieval.answers.ticket_drafting import ticket_draft_request, ticket_suggestion_draft_run
from retrieval.answers.ticket_simulation import ticket_gaps
from retrieval.answers.tickets import ticket_import
from verity.celery import workers_available
from verity.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Past tickets. 'import FILE' reads resolved tickets (.jsonl, .json or .csv; README 'Past tickets'), redacts "
        "personal data and stores them, all or nothing; 'gaps' lists the topics of imported tickets the knowledge "
        "base could not answer in their last simulation (`kb_eval --tickets`), numbered; 'draft' asks the model "
        "for a new article from one of them (--topic N or --tickets ID,...), verified against the agents' "
        "replies, as a suggestion for the person named by --user to edit, accept or reject in the admin."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="import|gaps|draft")
        importing = actions.add_parser("import", help="import a file of resolved tickets")
        importing.add_argument("file", type=Path)
        importing.add_argument("--user", help="record this person as the importer (default: none)")
        actions.add_parser("gaps", help="ticket topics the knowledge base could not answer, with counts")
        drafting = actions.add_parser("draft", help="draft a new article from a ticket gap topic, for review")
        chosen = drafting.add_mutually_exclusive_group(required=True)
        chosen.add_argument("--topic", type=int, metavar="N", help="the Nth topic of `kb_tickets gaps` (1: the largest)")
        chosen.add_argument("--tickets", metavar="ID,ID", help="these ticket ids (comma-separated)")
        drafting.add_argument("--user", required=True, help="who asks (may add articles); they decide in the admin")
        drafting.add_argument("--space", help="the space of the new article (default: the only space)")
        drafting.add_argument("--title", default="", help="working title (default: the topic's name)")
        drafting.add_argument("--locale", default="", help="language of the draft (default: most of the tickets')")
        drafting.add_argument("--inline", action="store_true",
                              help="draft in this process (default: in a Celery worker when one answers)")
        drafting.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the worker (1800)")

    def handle(self, *args, action: str, **options) -> None:
        if action == "import":
            self._import(options["file"], options.get("user"))
        elif action == "draft":
            self._draft(**options)
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
        for number, topic in enumerate(topics, start=1):
            self.stdout.write(f"  #{number}  {topic.count} ticket(s), {topic.refused} refused, {topic.disagreeing} disagreeing: "
                              f"„{topic.label}“{f' ({topic.tags})' if topic.tags else ''}  [{', '.join(topic.ticket_ids)}]")
            for example in topic.examples:
                self.stdout.write(f"      „{example}“")
        self.stdout.write("Draft an article from one: `manage.py kb_tickets draft --topic N --user NAME [--space SLUG]`.")

    def _draft(self, *, topic: int | None, tickets: str | None, user: str, space: str | None, title: str, locale: str,
               inline: bool, timeout: float, **options) -> None:
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"--user: no user named '{user}'")
        target = self._space(space)
        if topic is not None:
            topics = ticket_gaps()
            if not 1 <= topic <= len(topics):
                raise CommandError(f"--topic: there are {len(topics)} ticket gap topic(s), numbered 1 to {len(topics)} "
                                   "by `manage.py kb_tickets gaps`" if topics else
                                   "--topic: there are no ticket gaps (`manage.py kb_eval --tickets` after "
                                   "`kb_tickets import FILE`)")
            ids, title = topics[topic - 1].ticket_ids, title or topics[topic - 1].label
        else:
            ids = [ticket_id for ticket_id in (tickets or "").split(",") if ticket_id.strip()]
        in_worker = not inline and workers_available()
        try:
            suggestion = ticket_draft_request(actor=actor, space=target, ticket_ids=ids, title=title, locale=locale,
                                              dispatch=None if in_worker else (lambda pk: None))
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Drafting „{suggestion.title}“ from {len(suggestion.source_tickets)} ticket(s) "
                          f"({', '.join(suggestion.source_tickets)}) for space {target.slug}, "
                          f"{'in a Celery worker' if in_worker else 'in this process'} ...")
        if in_worker:
            deadline = time.monotonic() + timeout
            while suggestion.status == Suggestion.Status.DRAFTING and time.monotonic() < deadline:
                time.sleep(2)
                suggestion.refresh_from_db()
        else:
            ticket_suggestion_draft_run(suggestion.pk)
            suggestion.refresh_from_db()
        self._report(suggestion)

    def _space(self, slug: str | None) -> Space:
        if slug:
            space = Space.objects.filter(slug=slug).first()
            if space is None:
                known = ", ".join(Space.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"--space: no space '{slug}' (spaces: {known})")
            return space
        spaces = list(Space.objects.all()[:2])
        if len(spaces) != 1:
            known = ", ".join(Space.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"--space: name the space of the new article (spaces: {known})")
        return spaces[0]

    def _report(self, suggestion: Suggestion) -> None:
        page = reverse("admin:governance_suggestion_change", args=[suggestion.pk])
        if suggestion.status == Suggestion.Status.DRAFTING:
            self.stdout.write(f"Still being drafted; the admin shows it when it is ready: {page}")
            return
        if suggestion.status == Suggestion.Status.FAILED:
            self.stdout.write(f"Not drafted: {suggestion.error}")
        else:
            self.stdout.write(f"Drafted ({suggestion.generator}); slug proposed: {suggestion.slug}\n")
            self.stdout.write(f"# {suggestion.title}\n\n{suggestion.body}")
        removed = suggestion.needs_human
        if removed:
            self.stdout.write(f"Removed, needs a human ({len(removed)}):")
            for item in removed:
                self.stdout.write(f"  - „{item['old']}“: {item['problem']}")
        if suggestion.status == Suggestion.Status.READY:
            self.stdout.write(f"Edit, accept or reject it in the admin: {page}")
        else:
            raise CommandError("Nothing was drafted.")
