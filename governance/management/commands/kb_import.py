"""`manage.py kb_import DIR`: import a knowledge-base folder (kb-format.md)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.imports import kb_import


class Command(BaseCommand):
    help = "Import a folder of Markdown articles (kb-format.md). Each file is all-or-nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--user", help="username recorded as author and approver (default: the importer account)")

    def handle(self, *args, folder: Path, user: str | None = None, **options) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder}: not a folder")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"--user: no user named '{user}'")
            if not (actor.is_active and actor.has_perm("kb.add_article") and actor.has_perm("kb.add_articleversion")):
                raise CommandError(f"--user: '{user}' may not create articles and versions (an author or knowledge admin can).")
        report = kb_import(folder=folder, actor=actor)
        self.stdout.write(
            f"Imported {folder}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.errors)} failed."
        )
        for label, slugs in (("created", report.created), ("updated", report.updated)):
            if slugs and options["verbosity"] >= 1:
                self.stdout.write(f"  {label}: {', '.join(slugs)}")
        if report.errors:
            for error in report.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError(f"{len(report.errors)} file(s) were not imported; nothing of them was stored.")
