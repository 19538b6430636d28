"""Import and export of knowledge-base folders (kb-format.md).

Import lives in governance, not kb, because every imported file is a governed transition: it
creates or updates an article, publishes the version and writes an audit event. Each file is
imported in its own transaction: a bad file changes nothing, the good ones still land.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from governance import ports, services
from governance.models import (
    AuditEvent,
    ImportRun,
    ImportRunBatch,
    ImportRunFile,
    Publication,
    Review,
    SettingsChange,
)
from kb.blocks import referenced_slugs
from kb.kbformat import (
    BLOCKS_FOLDER,
    GLOSSARY_FILE,
    ArticleFile,
    GlossaryFileEntry,
    KbFormatError,
    days_since_reference,
    parse_article_text,
    parse_glossary_text,
    read_reference_date,
    render_article_file,
    render_glossary_file,
    shift_dates,
)
from kb.models import Article, GlossaryEntry, Space, content_hash
from verity.core.batches import MAX_CLAIMS, batch_claim, batch_finish, batches_recover, batches_sent
from verity.core.errors import ApplicationError
from verity.core.i18n import written_in

IMPORTER_USERNAME = "verity-importer"
# files per Celery task: small enough for steady progress, large enough to keep the model warm
IMPORT_BATCH_SIZE = 8
# An import's log (the command's report, the run's file errors in the admin) is in English, like the file
# format it checks (kb-format.md), whichever process runs it; what it writes about an article (change
# notes, flag reasons) is in the article's language.
IMPORT_LOG_LANGUAGE = "en"
# how often a waiting import looks for batches lost with their worker
RECOVER_EVERY_SECONDS = 5.0

logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[KbFormatError] = field(default_factory=list)
    published_version_ids: list[int] = field(default_factory=list)
    awaiting_review: list[str] = field(default_factory=list)  # slugs with a version or settings in review
    glossary: dict[str, int] = field(default_factory=dict)  # glossary.yaml: created, updated, unchanged

    @property
    def ok(self) -> bool:
        return not self.errors


def importer_user() -> AbstractBaseUser:
    """The system account recorded as author and approver of imported versions."""
    user, created = get_user_model().objects.get_or_create(
        username=IMPORTER_USERNAME,
        defaults={"is_superuser": True, "is_staff": False, "first_name": "Verity", "last_name": "Importer"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _owner(email: str) -> AbstractBaseUser:
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        user = User.objects.filter(username=email).first()
    if user is None:
        user = User.objects.create(username=email, email=email, is_staff=True)
        user.set_unusable_password()  # an admin sets a password or an SSO login before first use
        user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name="authors"))
    return user


def _space(slug: str) -> Space:
    space, _ = Space.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
    return space


def _verified_at(day: dt.date | None) -> dt.datetime:
    if day is None:
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


def _load_folder(folder: Path, report: ImportReport, shift_days: int = 0) -> list[tuple[ArticleFile, str]]:
    """Parse every article file; sources come before their translations. Bad files go to `report`."""
    files: list[tuple[ArticleFile, str]] = []
    seen: dict[str, str] = {}
    root = folder.resolve()
    for path in sorted(folder.rglob("*.md")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if not path.resolve().is_relative_to(root):
            report.errors.append(KbFormatError(path, None, "a symbolic link to a file outside the import folder; not followed"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            report.errors.append(KbFormatError(path, None, "expected UTF-8 text"))
            continue
        try:
            parsed = shift_dates(parse_article_text(text, path), shift_days)
        except KbFormatError as error:
            report.errors.append(error)
            continue
        if parsed.slug in seen:
            report.errors.append(KbFormatError(path, "slug", f"'{parsed.slug}' is already used by {seen[parsed.slug]}"))
            continue
        seen[parsed.slug] = str(path)
        files.append((parsed, text))
    by_slug = {item.slug: (item, text) for item, text in files}
    ordered: list[tuple[ArticleFile, str]] = []
    placed: set[str] = set()

    def place(item: ArticleFile, text: str, chain: tuple[str, ...] = ()) -> None:
        if item.slug in placed or item.slug in chain:
            return
        for slug in _depends_on(item):
            if (needed := by_slug.get(slug)) is not None:
                place(*needed, chain + (item.slug,))
        placed.add(item.slug)
        ordered.append((item, text))

    for item, text in files:
        place(item, text)
    return ordered


def _depends_on(item: ArticleFile) -> list[str]:
    """What must be imported before this file: its source (of a translation) and the content blocks it uses."""
    return [*([item.translation_of] if item.translation_of else []), *referenced_slugs(item.body)]


def _waves(files: list[tuple[ArticleFile, str]]) -> list[list[tuple[ArticleFile, str]]]:
    """Group files so that each translation comes in a later wave than its source of this import, and each
    article after the content blocks of this import it uses; the files of one wave may be imported in parallel."""
    depth: dict[str, int] = {}
    by_slug = {item.slug: item for item, _ in files}
    for item, _ in files:  # what a file depends on precedes it (see _load_folder)
        depth[item.slug] = max((depth.get(slug, 0) + 1 for slug in _depends_on(item) if slug in by_slug), default=0)
    waves: list[list[tuple[ArticleFile, str]]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for item, text in files:
        waves[depth[item.slug]].append((item, text))
    return waves


@translation.override(IMPORT_LOG_LANGUAGE)
def kb_import(
    *, folder: Path, actor: AbstractBaseUser | None = None, dispatch: bool = False,
    progress: Callable[[int, int], None] | None = None, timeout: float = 3600.0,
) -> ImportReport:
    """Import every article file of `folder`; each file is all-or-nothing.

    The files are imported in batches by Celery tasks (`dispatch=True`: by workers; else in this
    process), each file in its own transaction that also indexes it, so an article is searchable
    the moment its file is recorded as imported. Returns when every file is done, with progress in
    an ImportRun (shown in the admin) and through `progress(done, total)`. A batch lost with its
    worker is sent again while this waits (verity.core.batches), so a restarted worker finishes it.
    """
    report = ImportReport()
    if not folder.is_dir():
        report.errors.append(KbFormatError(folder, None, "is not a folder"))
        return report
    try:
        shift_days = days_since_reference(read_reference_date(folder), timezone.localdate())
    except KbFormatError as error:
        report.errors.append(error)
        return report
    actor = actor or importer_user()
    _glossary_import(folder, actor, report)  # a bad glossary.yaml is reported like a bad file; articles still land
    files = _load_folder(folder, report, shift_days)
    run = ImportRun.objects.create(folder=str(folder), started_by=actor, total=len(files) + len(report.errors))
    ImportRunFile.objects.bulk_create([
        ImportRunFile(run=run, path=error.path, outcome=ImportRunFile.Outcome.FAILED, error_key=error.key or "",
                      error=error.problem)
        for error in report.errors
    ])
    expected = len(report.errors)
    report.errors.clear()  # collected again, in file order, from the run below

    def send(batch_id: int) -> None:
        import_run_batch.apply_async(args=[batch_id], expires=timeout)

    for number, wave in enumerate(_waves(files)):
        expected += len(wave)
        batches = ImportRunBatch.objects.bulk_create([
            ImportRunBatch(run=run, wave=number, files=[{"path": item.path, "text": text, "shift_days": shift_days}
                                                        for item, text in wave[start:start + IMPORT_BATCH_SIZE]])
            for start in range(0, len(wave), IMPORT_BATCH_SIZE)
        ])
        for batch in batches:
            if dispatch:
                batches_sent(ImportRunBatch.objects.filter(pk=batch.pk))
                send(batch.pk)
            else:
                import_run_batch.run(batch.pk)
                if progress:
                    progress(run.files.count(), run.total)
        if dispatch and not _wait(run, expected, progress, deadline=run.started_at.timestamp() + timeout, send=send):
            run.status, run.error = ImportRun.Status.FAILED, f"not finished within {timeout:.0f} s (are workers running?)"
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            break
    else:
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.DONE, finished_at=timezone.now())
    result = _report_of(run, [item for item, _ in files])
    result.glossary = report.glossary
    return result


def _glossary_import(folder: Path, actor: AbstractBaseUser, report: ImportReport) -> None:
    """Create or update the entries of the folder's glossary.yaml, all or none; a bad file goes to `report`."""
    path = folder / GLOSSARY_FILE
    if not path.is_file():
        return
    try:
        entries = parse_glossary_text(path.read_text(encoding="utf-8"), path)
    except UnicodeDecodeError:
        error = KbFormatError(path, None, "expected UTF-8 text")
    except KbFormatError as parsed_error:
        error = parsed_error
    else:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        try:
            with transaction.atomic():
                for number, item in enumerate(entries, start=1):
                    entry = GlossaryEntry.objects.filter(source_locale=item.source, target_locale=item.target,
                                                         term__iexact=item.term).first() or GlossaryEntry()
                    wanted = {"source_locale": item.source, "target_locale": item.target, "term": item.term,
                              "translation": "" if item.do_not_translate else item.translation,
                              "do_not_translate": item.do_not_translate, "forbidden_variants": item.forbidden,
                              "note": item.note}
                    changed = [name for name, value in wanted.items() if getattr(entry, name) != value]
                    if entry.pk and not changed:
                        counts["unchanged"] += 1
                        continue
                    counts["updated" if entry.pk else "created"] += 1
                    for name, value in wanted.items():
                        setattr(entry, name, value)
                    try:
                        services.glossary_entry_save(actor=actor, entry=entry, changed=changed)
                    except ValidationError as invalid:
                        key, problems = next(iter(invalid.message_dict.items()))
                        raise KbFormatError(path, key, f"entry {number} ('{item.term}'): {' '.join(problems)}") from None
        except KbFormatError as invalid_error:
            error = invalid_error
        else:
            report.glossary = counts
            return
    report.errors.insert(0, error)


def _wait(run: ImportRun, expected: int, progress: Callable[[int, int], None] | None, *, deadline: float,
          send: Callable[[int], None] | None = None) -> bool:
    """Wait until `expected` files of the run are recorded, sending again the batches lost with their
    worker (when `send` is given: leased batches); False when the deadline passes first."""
    last = -1
    recovered_at = time.monotonic()
    while True:
        done = run.files.count()
        if progress and done != last:
            progress(done, run.total)
            last = done
        if done >= expected:
            return True
        if time.time() > deadline:
            return False
        if send is not None and time.monotonic() - recovered_at >= RECOVER_EVERY_SECONDS:
            import_run_recover(run, send=send)
            recovered_at = time.monotonic()
        time.sleep(0.25)


def import_run_recover(run: ImportRun, *, send: Callable[[int], None]) -> list[int]:
    """Send again the batches of `run` lost with their worker; the files of a batch that lost its
    worker MAX_CLAIMS times are recorded as failed. Returns the ids of the batches sent again."""
    recovery = batches_recover(ImportRunBatch.objects.filter(run=run), send=send)
    for batch in ImportRunBatch.objects.filter(pk__in=recovery.given_up):
        for entry in batch.files:
            _record_failure(run, entry["path"], "", f"its worker was lost {MAX_CLAIMS} times while importing it; "
                                                    "see the worker log")
        batch_finish(ImportRunBatch, batch.pk)
    return recovery.sent_again


def _report_of(run: ImportRun, files: list[ArticleFile]) -> ImportReport:
    report = ImportReport()
    rows = {row.path: row for row in run.files.all()}
    order = {item.path: index for index, item in enumerate(files)}
    published = set(Publication.objects.filter(version_id__in=[row.version_id for row in rows.values() if row.version_id])
                    .values_list("version_id", flat=True))
    in_review = set(Article.objects.filter(slug__in=[row.slug for row in rows.values()])
                    .filter(Q(reviews__status=Review.Status.IN_REVIEW) | Q(settings_changes__status=SettingsChange.Status.PENDING))
                    .values_list("slug", flat=True))
    by_person = run.started_by is not None and run.started_by.get_username() != IMPORTER_USERNAME
    for row in sorted(rows.values(), key=lambda row: (order.get(row.path, -1), row.pk)):
        if row.outcome == ImportRunFile.Outcome.FAILED:
            report.errors.append(KbFormatError(row.path, row.error_key or None, row.error))
            continue
        getattr(report, row.outcome).append(row.slug)
        if row.version_id and row.outcome != ImportRunFile.Outcome.UNCHANGED and row.version_id in published:
            report.published_version_ids.append(row.version_id)
        if by_person and row.slug in in_review and row.outcome != ImportRunFile.Outcome.UNCHANGED:
            report.awaiting_review.append(row.slug)
    for item in files:
        if item.path not in rows:
            report.errors.append(KbFormatError(item.path, None, f"not imported: {run.error or 'the import stopped'}"))
    return report


@translation.override(IMPORT_LOG_LANGUAGE)
def import_files(*, run_id: int, actor_id: int, files: list[dict[str, str | int]]) -> int:
    """Import files of a run (the body of the Celery task); safe to run again for the same files."""
    run = ImportRun.objects.get(pk=run_id)
    actor = get_user_model().objects.get(pk=actor_id)
    imported = 0
    for entry in files:
        path = entry["path"]
        if ImportRunFile.objects.filter(run=run, path=path).exists():
            continue  # a redelivered task: this file is done
        try:
            item = shift_dates(parse_article_text(entry["text"], path), int(entry.get("shift_days", 0)))
            with transaction.atomic():
                outcome, version_id = _import_one(item, actor)
                ImportRunFile.objects.create(run=run, path=path, slug=item.slug, outcome=outcome, version_id=version_id)
            imported += 1
        except KbFormatError as error:
            _record_failure(run, path, error.key or "", error.problem)
        except ApplicationError as error:  # e.g. a content block the body uses is unknown or unpublished
            _record_failure(run, path, "body" if error.code == "block_reference" else "", error.message)
        except IntegrityError:
            if not ImportRunFile.objects.filter(run=run, path=path).exists():
                logger.exception("Import of %s failed", path)
                _record_failure(run, path, "", "could not be stored (a conflicting change?); see the worker log")
        except Exception as error:  # noqa: BLE001 - one broken file must not stop the others
            logger.exception("Import of %s failed", path)
            _record_failure(run, path, "", f"internal error ({type(error).__name__}); see the worker log")
    return imported


def run_batch_claimed(batch_id: int, work: Callable[[ImportRunBatch], int]) -> int:
    """`work` on one batch of a run (kb_import's or kb_connect's) while this worker holds it; nothing when the
    batch is gone, finished or held by another worker. Finished once `work` returns."""
    batch = ImportRunBatch.objects.select_related("run").filter(pk=batch_id).first()
    if batch is None:
        return 0
    with batch_claim(ImportRunBatch, batch_id) as claimed:
        if not claimed:
            return 0
        done = work(batch)
        batch_finish(ImportRunBatch, batch_id)
    return done


@shared_task(name="governance.tasks.import_run_batch", acks_late=True)
def import_run_batch(batch_id: int) -> int:
    """Import one batch of a `kb_import` run, each file in its own transaction (idempotent per file)."""
    return run_batch_claimed(batch_id, lambda batch: import_files(
        run_id=batch.run_id, actor_id=batch.run.started_by_id, files=batch.files))


def _record_failure(run: ImportRun, path: str, key: str, problem: str) -> None:
    ImportRunFile.objects.get_or_create(
        run=run, path=path, defaults={"outcome": ImportRunFile.Outcome.FAILED, "error_key": key, "error": problem},
    )


def _file_settings(item: ArticleFile) -> dict[str, Any]:
    """The article settings a file states (its space and owner created if missing)."""
    translation_of = None
    if item.translation_of:
        translation_of = Article.objects.filter(slug=item.translation_of).first()
        if translation_of is None:
            raise KbFormatError(item.path, "translation_of", f"no article with the slug '{item.translation_of}' exists")
    return {
        "locale": item.locale, "kind": item.kind, "audience": item.audience, "space": _space(item.space),
        "owner": _owner(item.owner), "review_interval_days": item.review_interval_days,
        "valid_from": item.valid_from, "valid_until": item.valid_until, "tags": item.tags,
        "translation_of": translation_of, "metadata": item.metadata,
    }


def _import_one(item: ArticleFile, actor: AbstractBaseUser) -> tuple[str, int | None]:
    """Import one file: as the import identity it publishes; as a person it goes through review."""
    if actor.get_username() != IMPORTER_USERNAME:
        return _import_one_for_review(item, actor)
    settings = _file_settings(item)
    verified_at = _verified_at(item.last_reviewed)
    article = Article.objects.select_for_update().filter(slug=item.slug).first()
    if article is None:
        article = services.article_create(
            actor=actor, slug=item.slug, title=item.title, body=item.body, change_note=_note(item, "imported"),
            last_verified_at=verified_at, audit=False, **settings,
        )
        version = article.latest_version
        services.version_publish(actor=actor, version=version, audit=False)
        _set_verified(article, verified_at)
        services.audit_record(
            event_type=AuditEvent.Type.ARTICLE_IMPORT, actor=actor, article=article, version=version,
            details={"file": item.path, "outcome": "created", "approved_by": "import"},
        )
        return "created", version.pk

    changed_settings = {key: value for key, value in settings.items() if getattr(article, key) != value}
    if "kind" in changed_settings and Article.Kind.BLOCK in (article.kind, item.kind):
        raise KbFormatError(item.path, "kind", f"'{item.slug}' is {'a content block' if article.is_block else 'an article'} "
                                               f"in Verity; a file cannot change that (got '{item.kind}')")
    current = article.live_version or article.latest_version
    content_changed = current is None or current.content_hash != content_hash(item.title, item.body)
    verified_changed = item.last_reviewed is not None and timezone.localdate(article.last_verified_at) != item.last_reviewed
    if not changed_settings and not content_changed and not verified_changed:
        return "unchanged", None
    for key, value in changed_settings.items():
        setattr(article, key, value)
    version = None
    if content_changed:
        if services._open_review(article):
            raise KbFormatError(item.path, None, f"'{item.slug}' has a version in review; decide or withdraw it before importing a new one")
        if scheduled := services._scheduled_review(article):
            raise KbFormatError(item.path, None, f"'{item.slug}' has version {scheduled.version.number} scheduled to go live; "
                                                 "a knowledge admin cancels that publication before a new one is imported")
        version = services._version_insert(
            article=article, author=actor, title=item.title, body=item.body, change_note=_note(item, "imported"),
            based_on=article.latest_version,
        )
        services.version_publish(actor=actor, version=version, audit=False)
        article.refresh_from_db()
        for key, value in changed_settings.items():
            setattr(article, key, value)
    if item.last_reviewed is not None:
        article.last_verified_at = verified_at
    article.review_due_at = article.compute_review_due_at()
    article.full_clean(exclude=["review_due_at", "live_version", "latest_version"])
    article.save()
    if changed_settings:
        ports.serving().article_settings_changed(article=article, changed=set(changed_settings))
    services.audit_record(
        event_type=AuditEvent.Type.ARTICLE_IMPORT, actor=actor, article=article, version=version or article.live_version,
        details={
            "file": item.path, "outcome": "updated", "new_version": version.number if version else None,
            "changed_settings": sorted(changed_settings), "approved_by": "import",
        },
    )
    return "updated", version.pk if version else None


def _import_one_for_review(item: ArticleFile, actor: AbstractBaseUser) -> tuple[str, int | None]:
    """Import one file as a person (`kb_import --user`): nobody publishes their own text.

    A new article and changed content become a version by `actor`, submitted for review; settings of a
    published article that need review become a settings change proposed by `actor`; the others apply
    at once, as in the admin. `last_reviewed` is not taken over: verifying is an approver's act.
    """
    settings = _file_settings(item)
    try:
        article = Article.objects.select_for_update().filter(slug=item.slug).first()
        if article is None:
            article = services.article_create(
                actor=actor, slug=item.slug, title=item.title, body=item.body, change_note=_note(item, "for_review"),
                audit=False, **settings,
            )
            version = article.latest_version
            review = services.version_submit(actor=actor, version=version)
            services.audit_record(
                event_type=AuditEvent.Type.ARTICLE_IMPORT, actor=actor, article=article, version=version,
                details={"file": item.path, "outcome": "created", "review": review.pk, "approved_by": None},
            )
            return "created", version.pk
        changed = {key: value for key, value in settings.items() if getattr(article, key) != value}
        current = article.latest_version
        content_changed = current is None or current.content_hash != content_hash(item.title, item.body)
        if not changed and not content_changed:
            return "unchanged", None
        gated = services.settings_needing_review(article=article, changes=changed)
        immediate = {key: value for key, value in changed.items() if key not in gated}
        if immediate:
            services.article_update_settings(actor=actor, article=article, **immediate)
        proposal = None
        if gated:
            proposal = services.settings_change_propose(
                actor=actor, article=article, note=_note(item, "from_file"), **{key: changed[key] for key in gated},
            )
        version = review = None
        if content_changed:
            article.refresh_from_db()
            version = services.version_create(
                actor=actor, article=article, title=item.title, body=item.body, change_note=_note(item, "for_review"),
                base_version=article.latest_version.number,
            )
            review = services.version_submit(actor=actor, version=version)
    except ApplicationError as error:
        raise KbFormatError(item.path, None, error.message) from None
    services.audit_record(
        event_type=AuditEvent.Type.ARTICLE_IMPORT, actor=actor, article=article, version=version,
        details={
            "file": item.path, "outcome": "updated", "new_version": version.number if version else None,
            "review": review.pk if review else None, "settings_change": proposal.pk if proposal else None,
            "changed_settings": sorted(immediate), "approved_by": None,
        },
    )
    return "updated", version.pk if version else None


def _note(item: ArticleFile, kind: str) -> str:
    """A change or proposal note the import writes, in the article's language."""
    with written_in(item.locale):
        return {
            "imported": gettext("Imported"),
            "for_review": gettext("Imported for review"),
            "from_file": gettext("Imported from %(path)s") % {"path": item.path},
        }[kind]


def _set_verified(article: Article, verified_at: dt.datetime) -> None:
    article.refresh_from_db()
    article.last_verified_at = verified_at
    article.review_due_at = article.compute_review_due_at()
    article.save(update_fields=["last_verified_at", "review_due_at"])


def article_to_file(article: Article) -> ArticleFile:
    version = article.live_version
    return ArticleFile(
        path=f"{BLOCKS_FOLDER}/{article.slug}.md" if article.is_block else f"{article.slug}.md",
        slug=article.slug, title=version.title, locale=article.locale,
        body=version.body, kind=article.kind, space=article.space.slug, audience=article.audience,
        owner=article.owner.email or article.owner.get_username(),
        review_interval_days=article.review_interval_days,
        last_reviewed=timezone.localdate(article.last_verified_at),
        valid_from=article.valid_from, valid_until=article.valid_until, tags=list(article.tags),
        translation_of=article.translation_of.slug if article.translation_of_id else None,
        metadata=dict(article.metadata),
    )


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    skipped_unpublished: list[str] = field(default_factory=list)
    glossary_entries: int = 0


def kb_export(*, folder: Path) -> ExportReport:
    """Write every article's live version as `<slug>.md` (content blocks as `blocks/<slug>.md`); articles
    never published are skipped. Bodies keep their `{{ block:slug }}` references."""
    report = ExportReport()
    folder.mkdir(parents=True, exist_ok=True)
    articles = Article.objects.select_related("live_version", "space", "owner", "translation_of").order_by("slug")
    for article in articles:
        if article.live_version_id is None:
            report.skipped_unpublished.append(article.slug)
            continue
        file = article_to_file(article)
        target = folder / file.path
        target.parent.mkdir(exist_ok=True)
        target.write_text(render_article_file(file), encoding="utf-8")
        report.written.append(article.slug)
    entries = [
        GlossaryFileEntry(source=entry.source_locale, target=entry.target_locale, term=entry.term,
                          translation=entry.translation, do_not_translate=entry.do_not_translate,
                          forbidden=list(entry.forbidden_variants), note=entry.note)
        for entry in GlossaryEntry.objects.order_by("source_locale", "target_locale", "term")
    ]
    if entries:
        (folder / GLOSSARY_FILE).write_text(render_glossary_file(entries), encoding="utf-8")
        report.glossary_entries = len(entries)
    return report
