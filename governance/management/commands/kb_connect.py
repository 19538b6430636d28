"""`manage.py kb_connect SOURCE PATH`: bring existing knowledge from Zendesk Guide, Confluence or a folder of pages."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.connectors.confluence import read_confluence
from governance.connectors.folder import read_folder
from governance.connectors.owners import EMAIL_PATTERN, OwnerMap, read_owner_map
from governance.connectors.records import SourceError
from governance.connectors.sync import connector_sync
from governance.connectors.zendesk import read_zendesk
from verity.celery import workers_available
from verity.core.errors import ApplicationError

READERS = {
    "zendesk": lambda path, locale: read_zendesk(path),
    "confluence": lambda path, locale: read_confluence(path, locale=locale),
    "folder": lambda path, locale: read_folder(path, locale=locale),
}


class Command(BaseCommand):
    help = (
        "Sync a source's export into a space: zendesk (a folder of Help Center API JSON), confluence (a space "
        "export: the .xml.zip or its folder with entities.xml), folder (HTML or Markdown pages). New pages are "
        "imported as the import account (published unless a draft at the source or in a space that requires extra "
        "approval); changed pages become versions in review; pages gone from the source are flagged. Run again to sync."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", choices=sorted(READERS), help="the kind of source")
        parser.add_argument("path", type=Path, help="the export: a folder, or a Confluence .zip")
        parser.add_argument("--space", help="the space the source syncs into (required the first time; created if missing)")
        parser.add_argument("--owners", type=Path, help="owner mapping file (YAML: default, pages, sections, authors)")
        parser.add_argument("--owner", help="owner (e-mail) of new pages the mapping does not name; default: the space's default owner")
        parser.add_argument("--audience", choices=["public", "internal"],
                            help="audience of new pages (default: Zendesk by user segment, otherwise internal)")
        parser.add_argument("--locale", default="de", help="language of Confluence and folder pages that do not state one (default: de)")
        parser.add_argument("--user", help="sync as this person: every new or changed page is submitted for review by them")
        parser.add_argument("--inline", action="store_true", help="sync in this process, without workers")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for workers (default 3600)")

    def handle(self, *args, source: str, path: Path, **options) -> None:
        if options["timeout"] < 1:
            raise CommandError(f"--timeout: expected a positive number of seconds, got {options['timeout']}")
        if options["owner"] and not EMAIL_PATTERN.match(options["owner"]):
            raise CommandError(f"--owner: expected an e-mail address, got '{options['owner']}'")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"--user: no user named '{options['user']}'")
            if not (actor.is_active and actor.has_perm("kb.add_article") and actor.has_perm("kb.add_articleversion")):
                raise CommandError(f"--user: '{options['user']}' may not create articles and versions (an author or knowledge admin can).")
        try:
            owners = read_owner_map(options["owners"]) if options["owners"] else OwnerMap()
            export = READERS[source](path, options["locale"])
        except SourceError as error:
            raise CommandError(f"{error} (nothing was synced)") from None
        use_workers = not options["inline"] and workers_available()
        verbosity = options["verbosity"]
        show_progress = verbosity >= 2 or (use_workers and verbosity >= 1)
        if show_progress:
            self.stdout.write(f"Syncing {path} ({len(export.records)} pages) in {'Celery workers' if use_workers else 'this process'} ...")

        def report_progress(done: int, total: int) -> None:
            if show_progress:
                self.stdout.write(f"  {done}/{total} pages")

        try:
            report = connector_sync(
                export=export, location=str(path), space=options["space"], owners=owners, owner=options["owner"],
                audience=options["audience"], actor=actor, dispatch=use_workers, progress=report_progress,
                timeout=options["timeout"],
            )
        except (SourceError, ApplicationError) as error:
            raise CommandError(str(getattr(error, "message", error))) from None
        self.stdout.write(
            f"Synced {report.source} into the space '{report.space}': {len(report.created)} created, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.flagged)} flagged as deleted "
            f"at the source, {len(report.errors)} failed."
        )
        if verbosity >= 1:
            for label, slugs in (("created", report.created), ("updated", report.updated),
                                 ("flagged", report.flagged), ("awaiting review", report.awaiting_review)):
                if slugs:
                    self.stdout.write(f"  {label}: {', '.join(slugs)}")
            for note in report.notes:
                self.stdout.write(f"  note: {note}")
        if report.errors:
            for error in report.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError(f"{len(report.errors)} page(s) were not synced; nothing of them was stored.")
