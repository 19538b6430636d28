"""`manage.py kb_import DIR`: import a knowledge-base folder (kb-format.md)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.imports import kb_import
from verity.celery import workers_available


class Command(BaseCommand):
    help = (
        "Import a folder of Markdown articles (kb-format.md). Each file is all-or-nothing. Files are imported "
        "and indexed by Celery workers if any answer, else in this process; returns when all are searchable."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--user",
            help="import as this person: their new and changed articles are submitted for review (and settings "
                 "that need review are proposed), never published by the import; default: the import account, "
                 "which publishes (the audit says 'import')",
        )
        parser.add_argument("--inline", action="store_true", help="import in this process, without workers")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for workers (default 3600)")

    def handle(self, *args, folder: Path, user: str | None = None, inline: bool, timeout: int, **options) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder}: not a folder")
        if timeout < 1:
            raise CommandError(f"--timeout: expected a positive number of seconds, got {timeout}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"--user: no user named '{user}'")
            if not (actor.is_active and actor.has_perm("kb.add_article") and actor.has_perm("kb.add_articleversion")):
                raise CommandError(f"--user: '{user}' may not create articles and versions (an author or knowledge admin can).")
        use_workers = not inline and workers_available()
        verbosity = options["verbosity"]
        # progress lines while workers import, or with -v 2; the summary line stays the first line otherwise
        show_progress = verbosity >= 2 or (use_workers and verbosity >= 1)
        if show_progress:
            self.stdout.write(f"Importing {folder} in {'Celery workers' if use_workers else 'this process'} ...")

        def report_progress(done: int, total: int) -> None:
            if show_progress:
                self.stdout.write(f"  {done}/{total} files")

        report = kb_import(folder=folder, actor=actor, dispatch=use_workers, progress=report_progress, timeout=timeout)
        self.stdout.write(
            f"Imported {folder}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.errors)} failed."
        )
        if report.glossary:
            self.stdout.write("  glossary.yaml: {created} created, {updated} updated, {unchanged} unchanged".format(**report.glossary))
        for label, slugs in (("created", report.created), ("updated", report.updated),
                             ("awaiting review", report.awaiting_review)):
            if slugs and verbosity >= 1:
                self.stdout.write(f"  {label}: {', '.join(slugs)}")
        if report.errors:
            for error in report.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError(f"{len(report.errors)} file(s) were not imported; nothing of them was stored.")
