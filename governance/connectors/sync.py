"""`kb_connect`: sync a connected source's export into its space, through governance.

Like `kb_import`, this lives in governance: every page is a governed transition. The export is
read and checked as a whole first (governance.connectors.zendesk/confluence/folder): an export
that cannot be parsed, an empty one, a space that does not match, or new pages without an owner
stop the run before anything is written. Then each page is synced in its own transaction
(record by record, as kb_import does file by file): a broken record is reported with its file
and id and leaves nothing behind, the good ones still land, and every run is an ImportRun with
progress in the admin.

What a page becomes:
- first seen, as the import identity: published like kb_import (author and approver: import),
  unless it is a draft at the source or its space requires extra approval: then its first version
  is submitted for review and nothing is served before approval; as a person (`--user`): always
  submitted for review, by that person;
- seen again, unchanged (same title and converted body as when last synced): nothing happens;
- seen again, changed: a new version, submitted for review (the live one stays served; the
  admin's compare view shows the diff). A pending version of an earlier sync by the same account
  is withdrawn first: the newer source text supersedes it. A version in review by anyone else
  is left alone and the page is reported, changing nothing;
- gone from the export: the article is flagged ("Deleted at the source") for its owner, never
  removed; it comes back unflagged if the page reappears. When a record's id could not be read,
  deletions are not assessed in that run.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import services
from governance.connectors.owners import OwnerMap
from governance.connectors.records import SourceError, SourceExport, SourceRecord
from governance.imports import IMPORTER_USERNAME, _owner, _wait, importer_user, run_batch_claimed
from governance.models import (
    AuditEvent,
    ConnectorSource,
    Flag,
    ImportRun,
    ImportRunBatch,
    ImportRunFile,
    Review,
    SourceLink,
)
from kb.models import SLUG_PATTERN, Article, ArticleVersion, Space, content_hash
from verity.core.batches import batches_sent
from verity.core.errors import ApplicationError

# pages per Celery task, as for kb_import
CONNECT_BATCH_SIZE = 8
MAX_SLUG_BASE = 70
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})

logger = logging.getLogger(__name__)


class RecordProblem(Exception):
    """One page cannot be synced: recorded as failed with the field it is about."""

    def __init__(self, key: str | None, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(problem)


@dataclass(frozen=True)
class RecordError:
    where: str
    key: str | None
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: '{self.key}': {self.problem}" if self.key else f"{self.where}: {self.problem}"


@dataclass
class SyncReport:
    source: str = ""
    space: str = ""
    run_id: int | None = None
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # deleted at the source
    awaiting_review: list[str] = field(default_factory=list)  # slugs with a version of this run in review
    errors: list[RecordError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def connector_sync(
    *, export: SourceExport, location: str, space: str | None = None, owners: OwnerMap | None = None,
    owner: str | None = None, audience: str | None = None, actor: AbstractBaseUser | None = None,
    dispatch: bool = False, progress: Callable[[int, int], None] | None = None, timeout: float = 3600.0,
) -> SyncReport:
    """Sync `export` into its space (see the module's docstring); returns when every page is done.

    `space`: the space's slug, required the first time (created if missing); `owners`/`owner`: who
    owns new pages (else the space's default owner); `audience`: overrides the source's own.
    """
    owners = owners or OwnerMap()
    if not export.records:
        raise SourceError(location, "has no pages: nothing was synced, and nothing was flagged as deleted")
    actor = actor or importer_user()
    source = ConnectorSource.objects.select_related("space__default_owner").filter(kind=export.kind, name=export.name).first()
    target = _target_space(source, space, export)
    linked = set(source.links.values_list("external_id", flat=True)) if source else set()
    items: list[tuple[SourceRecord, str | None]] = []
    unowned: list[str] = []
    for record in export.records:
        if record.problem is not None:
            continue
        email = None
        if record.external_id not in linked:
            email = owners.owner_for(record) or owner
            if email is None and (target is None or target.default_owner_id is None):
                unowned.append(record.where)
        items.append((record, email))
    if unowned:
        raise ApplicationError(
            f"{len(unowned)} new page(s) have no owner (first: {unowned[0]}). Name them in an owner mapping file "
            "(--owners), give --owner EMAIL, or set the space's default owner. Nothing was synced.",
            code="owner_missing",
        )
    present = {record.external_id for record in export.records}
    with transaction.atomic():
        if target is None:
            target = Space.objects.create(slug=space, name=space.replace("-", " ").title(),
                                          default_owner=_owner(owner) if owner else None)
        if source is None:
            source = ConnectorSource.objects.create(kind=export.kind, name=export.name, space=target, location=location)
        else:
            ConnectorSource.objects.filter(pk=source.pk).update(location=location)
        gone = [] if export.unidentified else list(
            source.links.filter(deleted_at__isnull=True).exclude(external_id__in=present).select_related("article")
        )
        run = ImportRun.objects.create(folder=location, source=source, started_by=actor,
                                       total=len(export.records) + len(gone))
        ImportRunFile.objects.bulk_create([
            ImportRunFile(run=run, path=_row_path(record), outcome=ImportRunFile.Outcome.FAILED,
                          error_key=record.problem_key or "", error=record.problem, note="; ".join(record.notes))
            for record in export.records if record.problem is not None
        ])
    expected = run.total - len(items) - len(gone)
    waves = [[item for item in items if not item[0].translation_of], [item for item in items if item[0].translation_of]]

    def send(batch_id: int) -> None:
        connect_run_batch.apply_async(args=[batch_id], expires=timeout)

    for number, wave in enumerate(waves):
        expected += len(wave)
        # leased batches, like kb_import's: a batch lost with its worker is sent again while this waits
        batches = ImportRunBatch.objects.bulk_create([
            ImportRunBatch(run=run, wave=number, files=[
                {"path": _row_path(record), "record": record.as_payload(), "owner": email, "audience": audience or ""}
                for record, email in wave[start:start + CONNECT_BATCH_SIZE]])
            for start in range(0, len(wave), CONNECT_BATCH_SIZE)
        ])
        for batch in batches:
            if dispatch:
                batches_sent(ImportRunBatch.objects.filter(pk=batch.pk))
                send(batch.pk)
            else:
                connect_run_batch.run(batch.pk)
                if progress:
                    progress(run.files.count(), run.total)
        if dispatch and not _wait(run, expected, progress, deadline=run.started_at.timestamp() + timeout, send=send):
            run.status, run.error = ImportRun.Status.FAILED, f"not finished within {timeout:.0f} s (are workers running?)"
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            return _report(run, export)
    for link in gone:
        _flag_gone(run=run, link=link, actor=actor)
        if progress:
            progress(run.files.count(), run.total)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.DONE, finished_at=timezone.now())
    return _report(run, export)


def _target_space(source: ConnectorSource | None, space: str | None, export: SourceExport) -> Space | None:
    """The space the source syncs into; None when it is to be created. Refuses a mismatch."""
    if source is not None:
        if space and space != source.space.slug:
            raise ApplicationError(
                f"{source} syncs into the space '{source.space.slug}', not '{space}'. Nothing was synced.",
                code="space_mismatch",
            )
        return source.space
    if not space:
        raise ApplicationError(f"First sync of {export.kind} '{export.name}': name its space with --space.", code="space_required")
    if not re.match(SLUG_PATTERN, space):
        raise ApplicationError(f"--space: '{space}' is not a space slug (a-z, 0-9 and '-').", code="space_invalid")
    return Space.objects.select_related("default_owner").filter(slug=space).first()


def _row_path(record: SourceRecord) -> str:
    return record.where[:1000]


def _report(run: ImportRun, export: SourceExport) -> SyncReport:
    source = run.source
    report = SyncReport(source=str(source), space=source.space.slug, run_id=run.pk, notes=list(export.notes))
    rows = list(run.files.order_by("pk"))
    in_review = set(Review.objects.filter(version_id__in=[row.version_id for row in rows if row.version_id],
                                          status=Review.Status.IN_REVIEW).values_list("version_id", flat=True))
    done = set()
    for row in rows:
        done.add(row.path)
        if row.outcome == ImportRunFile.Outcome.FAILED:
            report.errors.append(RecordError(row.path, row.error_key or None, row.error))
            continue
        getattr(report, row.outcome).append(row.slug)
        if row.version_id in in_review:
            report.awaiting_review.append(row.slug)
        if row.note:
            report.notes.append(f"{row.path}: {row.note}")
    for record in export.records:
        if _row_path(record) not in done and run.status == ImportRun.Status.FAILED:
            report.errors.append(RecordError(record.where, None, f"not synced: {run.error}"))
    if export.unidentified:
        report.notes.append(f"{export.unidentified} record(s) without an id: pages deleted at the source were not looked for in this run")
    return report


@shared_task(name="governance.tasks.connect_run_batch", acks_late=True)
def connect_run_batch(batch_id: int) -> int:
    """Sync one batch of a `kb_connect` run, each page in its own transaction (idempotent per page)."""
    return run_batch_claimed(batch_id, lambda batch: connect_records(
        run_id=batch.run_id, actor_id=batch.run.started_by_id, items=batch.files,
        audience=next((item.get("audience") for item in batch.files), "") or None))


@shared_task(name="governance.tasks.connect_batch", acks_late=True)
def connect_batch(run_id: int, actor_id: int, audience: str, items: list[dict]) -> int:
    """Sync some pages of a `kb_connect` run. Kept for messages queued before batches were leased
    (`connect_run_batch`); nothing sends it any more."""
    return connect_records(run_id=run_id, actor_id=actor_id, audience=audience or None, items=items)


def connect_records(*, run_id: int, actor_id: int, audience: str | None, items: list[dict]) -> int:
    run = ImportRun.objects.select_related("source__space__default_owner").get(pk=run_id)
    actor = get_user_model().objects.get(pk=actor_id)
    synced = 0
    for item in items:
        record = SourceRecord.from_payload(item["record"])
        path = _row_path(record)
        if ImportRunFile.objects.filter(run=run, path=path).exists():
            continue  # a redelivered task: this page is done
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    outcome, article, version = _sync_one(record, owner_email=item.get("owner"), source=run.source,
                                                          actor=actor, audience=audience)
                    ImportRunFile.objects.create(run=run, path=path, slug=article.slug, outcome=outcome, version=version,
                                                 note="; ".join(record.notes) if outcome != "unchanged" else "")
                synced += 1
            except RecordProblem as error:
                _record_failure(run, path, error.key or "", error.problem)
            except ApplicationError as error:
                _record_failure(run, path, "", error.message)
            except ValidationError as error:
                _record_failure(run, path, "", "; ".join(f"{key}: {' '.join(messages)}" for key, messages in error.message_dict.items())
                                if hasattr(error, "error_dict") else " ".join(error.messages))
            except IntegrityError:
                if attempt == 1:
                    continue  # two workers chose the same new slug at once: try again with the other one taken
                logger.exception("Sync of %s failed", path)
                _record_failure(run, path, "", "could not be stored (a conflicting change?); see the worker log")
            except Exception as error:  # noqa: BLE001 - one broken page must not stop the others
                logger.exception("Sync of %s failed", path)
                _record_failure(run, path, "", f"internal error ({type(error).__name__}); see the worker log")
            break
    return synced


def _record_failure(run: ImportRun, path: str, key: str, problem: str) -> None:
    ImportRunFile.objects.get_or_create(
        run=run, path=path, defaults={"outcome": ImportRunFile.Outcome.FAILED, "error_key": key, "error": problem},
    )


def _sync_one(
    record: SourceRecord, *, owner_email: str | None, source: ConnectorSource, actor: AbstractBaseUser, audience: str | None,
) -> tuple[str, Article, ArticleVersion | None]:
    link = SourceLink.objects.select_for_update().select_related("article").filter(
        source=source, external_id=record.external_id).first()
    if link is None:
        return _create(record, owner_email=owner_email, source=source, actor=actor, audience=audience)
    return _update(record, link=link, source=source, actor=actor)


def _create(
    record: SourceRecord, *, owner_email: str | None, source: ConnectorSource, actor: AbstractBaseUser, audience: str | None,
) -> tuple[str, Article, ArticleVersion]:
    space = source.space
    translation_of = None
    if record.translation_of:
        original = SourceLink.objects.select_related("article").filter(source=source, external_id=record.translation_of).first()
        if original is None:
            raise RecordProblem("translation_of", f"the page it translates ({record.translation_of}) was not imported; see its error")
        translation_of = original.article
    owner = _owner(owner_email) if owner_email else space.default_owner
    if owner is None:
        raise RecordProblem("owner", "no owner: name it in the owner mapping, give --owner, or set the space's default owner")
    by_person = actor.get_username() != IMPORTER_USERNAME
    publish = not by_person and not record.draft and not space.requires_extra_approval
    article = services.article_create(
        actor=actor, slug=_free_slug(record), title=record.title, body=record.body, locale=record.locale, space=space,
        owner=owner, audience=audience or record.audience or Article.Audience.INTERNAL, tags=record.tags,
        translation_of=translation_of, metadata={**record.metadata, "source": _source_metadata(source, record)},
        change_note=f"Imported from {source}", audit=False,
    )
    version = article.latest_version
    review = None
    if publish:
        services.version_publish(actor=actor, version=version, audit=False)
    else:
        review = services.version_submit(actor=actor, version=version)
    why = None if publish else ("imported by a person" if by_person else "a draft at the source" if record.draft
                                else "the space requires extra approval")
    services.audit_record(
        event_type=AuditEvent.Type.ARTICLE_IMPORT, actor=actor, article=article, version=version,
        details={"source": str(source), "page": record.external_id, "outcome": "created",
                 "approved_by": "import" if publish else None, "review": review.pk if review else None, "in_review_because": why},
    )
    SourceLink.objects.create(source=source, external_id=record.external_id, article=article, url=record.url[:1000],
                              source_updated_at=record.updated_at[:40], source_hash=content_hash(record.title, record.body))
    return ImportRunFile.Outcome.CREATED, article, version


def _update(
    record: SourceRecord, *, link: SourceLink, source: ConnectorSource, actor: AbstractBaseUser,
) -> tuple[str, Article, ArticleVersion | None]:
    article = Article.objects.select_for_update().get(pk=link.article_id)
    changed = False
    if link.deleted_at is not None:
        link.deleted_at = None
        services.flags_resolve(article=article, reasons=[Flag.Reason.SOURCE_DELETED], actor=actor,
                               note=f"Back in {source} (sync of {timezone.localdate():%Y-%m-%d}).")
        changed = True
    if sorted(record.tags) != sorted(article.tags):
        services.article_update_settings(actor=actor, article=article, tags=list(record.tags))
        changed = True
    new_hash = content_hash(record.title, record.body)
    version = None
    if new_hash != link.source_hash:
        version = _new_pending_version(record, article=article, source=source, actor=actor)
        changed = changed or version is not None
    link.source_hash = new_hash
    link.url, link.source_updated_at, link.synced_at = record.url[:1000], record.updated_at[:40], timezone.now()
    link.save(update_fields=["source_hash", "url", "source_updated_at", "synced_at", "deleted_at"])
    if not changed:
        return ImportRunFile.Outcome.UNCHANGED, article, None
    services.audit_record(
        event_type=AuditEvent.Type.ARTICLE_IMPORT, actor=actor, article=article, version=version,
        details={"source": str(source), "page": record.external_id, "outcome": "updated",
                 "new_version": version.number if version else None, "approved_by": None},
    )
    return ImportRunFile.Outcome.UPDATED, article, version


def _new_pending_version(
    record: SourceRecord, *, article: Article, source: ConnectorSource, actor: AbstractBaseUser,
) -> ArticleVersion | None:
    """The source's new text as a version in review; None when the latest version already has it."""
    review = services._open_review(article)
    if review is not None:
        review = Review.objects.select_related("version", "submitted_by").get(pk=review.pk)
        if review.submitted_by_id != actor.pk or review.version.author_id != actor.pk:
            raise RecordProblem(None, (
                f"'{article.slug}' has version {review.version.number} in review (submitted by {review.submitted_by}); "
                "decide or withdraw it, then sync again"))
        services.review_withdraw(actor=actor, review=review)  # an earlier sync's text, superseded
    article.refresh_from_db()
    latest = article.latest_version
    if latest.content_hash == content_hash(record.title, record.body):
        return None
    version = services.version_create(
        actor=actor, article=article, title=record.title, body=record.body, base_version=latest.number,
        change_note=f"Changed in {source}" + (f" (updated {record.updated_at})" if record.updated_at else ""),
    )
    services.version_submit(actor=actor, version=version)
    return version


def _flag_gone(*, run: ImportRun, link: SourceLink, actor: AbstractBaseUser) -> None:
    """Flag the article of a page no longer in the export, for its owner; it stays as it is served."""
    path = f"{run.source.get_kind_display()}: page {link.external_id} (no longer in the export)"[:1000]
    with transaction.atomic():
        link = SourceLink.objects.select_for_update().select_related("article").get(pk=link.pk)
        if link.deleted_at is None:
            article = link.article
            services.flag_raise(
                article=article, reason=Flag.Reason.SOURCE_DELETED, raised_by=actor, evidence=link.url,
                summary=(f"No longer in {run.source} (page {link.external_id}, sync of {timezone.localdate():%Y-%m-%d}): "
                         "it was deleted or unpublished there. Retire it here (valid until) or keep it and dismiss "
                         "this flag with the reason."),
            )
            link.deleted_at = timezone.now()
            link.save(update_fields=["deleted_at"])
        ImportRunFile.objects.get_or_create(run=run, path=path, defaults={
            "slug": link.article.slug, "outcome": ImportRunFile.Outcome.FLAGGED})


def _source_metadata(source: ConnectorSource, record: SourceRecord) -> dict[str, str]:
    return {"kind": source.kind, "name": source.name, "id": record.external_id, "url": record.url,
            "updated_at": record.updated_at}


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.translate(_GERMAN)).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > MAX_SLUG_BASE:
        slug = slug[:MAX_SLUG_BASE].rsplit("-", 1)[0] or slug[:MAX_SLUG_BASE]
    return slug


def _free_slug(record: SourceRecord) -> str:
    """A readable slug from the title, unique in the knowledge base: the language, then the page id, added on a clash."""
    ident = re.sub(r"[^a-z0-9]+", "-", record.external_id.lower()).strip("-")[-40:] or "seite"
    base = _slugify(record.title) or ident
    candidates = [base, *([f"{base}-{record.locale}"] if record.translation_of else []), f"{base}-{ident}"]
    for candidate in candidates:
        if not Article.objects.filter(slug=candidate).exists():
            return candidate
    number = 2
    while Article.objects.filter(slug=f"{base}-{ident}-{number}").exists():
        number += 1
    return f"{base}-{ident}-{number}"
