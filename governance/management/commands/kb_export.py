"""`manage.py kb_export DIR`: write the knowledge base back as a folder (kb-format.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.imports import kb_export


class Command(BaseCommand):
    help = "Export every article's live version as <slug>.md into DIR (created if missing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)

    def handle(self, *args, folder: Path, **options) -> None:
        if folder.exists() and not folder.is_dir():
            raise CommandError(f"{folder}: exists and is not a folder")
        report = kb_export(folder=folder)
        self.stdout.write(f"Exported {len(report.written)} article(s) to {folder}.")
        if report.glossary_entries:
            self.stdout.write(f"  glossary.yaml: {report.glossary_entries} entries")
        if report.skipped_unpublished:
            self.stdout.write(f"  skipped (never published): {', '.join(report.skipped_unpublished)}")
