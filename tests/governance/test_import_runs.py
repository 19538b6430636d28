"""kb_import as bulk work: Celery tasks import batches of files, with progress in an ImportRun."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models.functions import Now

from governance import imports
from governance.imports import import_files, kb_import
from governance.models import ImportRun, ImportRunBatch, ImportRunFile
from kb.models import Article, ArticleVersion
from retrieval.models import Chunk
from tests.brokers import client_of
from verity.celery import app
from verity.core import embedded
from verity.core.batches import MAX_CLAIMS, batch_claim, batches_sent

ROOT = Path(__file__).resolve().parents[2]


def _article(slug: str, *, locale: str = "de", translation_of: str | None = None, body: str = "") -> str:
    lines = ["---", f"slug: {slug}", f"title: Titel {slug}", f"locale: {locale}", "audience: public"]
    if translation_of:
        lines.append(f"translation_of: {translation_of}")
    return "\n".join([*lines, "---", body or f"Der Inhalt von {slug} mit der Frist von 14 Tagen.", ""])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir()
    for index in range(10):
        (kb / f"a{index:02}.md").write_text(_article(f"artikel-{index}"), encoding="utf-8")
    # translations sort before their sources and form a chain: a translation of a translation
    (kb / "0-en.md").write_text(_article("article-en", locale="en", translation_of="artikel-3"), encoding="utf-8")
    (kb / "0-fr.md").write_text(_article("article-fr", locale="fr", translation_of="article-en"), encoding="utf-8")
    (kb / "b-broken.md").write_text("---\nslug: kaputt\ntitle: Kaputt\n---\nText\n", encoding="utf-8")
    return kb


def _searchable(slug: str) -> bool:
    article = Article.objects.get(slug=slug)
    return Chunk.objects.filter(version_id=article.live_version_id, is_indexed=True).exists()


def test_an_import_records_every_file_and_reports_progress(folder, db, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_BATCH_SIZE", 4)
    seen: list[tuple[int, int]] = []

    report = kb_import(folder=folder, progress=lambda done, total: seen.append((done, total)))

    # then the report is as before: 12 created, the broken file named with its key
    assert len(report.created) == 12
    assert [(Path(error.path).name, error.key) for error in report.errors] == [("b-broken.md", "locale")]
    # and the run holds one row per file, progress counted up to the total after each batch
    run = ImportRun.objects.get()
    assert (run.status, run.total, run.finished_at is not None) == (ImportRun.Status.DONE, 13, True)
    assert run.files.filter(outcome=ImportRunFile.Outcome.CREATED).count() == 12
    failed = run.files.get(outcome=ImportRunFile.Outcome.FAILED)
    assert (failed.error_key, failed.error) == ("locale", "required key is missing or empty")
    assert seen[-1] == (13, 13)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= 4
    # and every imported article is live and searchable when kb_import returns
    assert all(_searchable(slug) for slug in report.created)


def test_dispatched_batches_import_translations_after_their_sources(folder, db, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_BATCH_SIZE", 3)
    dispatched: list[list[str]] = []
    original = imports.import_files

    def spy(*, run_id, actor_id, files):
        dispatched.append([entry["path"] for entry in files])
        return original(run_id=run_id, actor_id=actor_id, files=files)

    monkeypatch.setattr(imports, "import_files", spy)

    # when the batches go through Celery (eager in the test settings, so each runs as it is sent)
    report = kb_import(folder=folder, dispatch=True)

    # then sources, translations and the translation of the translation land in three waves
    assert len(report.created) == 12 and len(report.errors) == 1
    names = [[Path(path).name for path in batch] for batch in dispatched]
    assert names[-2:] == [["0-en.md"], ["0-fr.md"]]
    assert Article.objects.get(slug="article-fr").translation_of.slug == "article-en"


def test_a_redelivered_batch_changes_nothing(folder, db):
    report = kb_import(folder=folder)
    run = ImportRun.objects.get()
    versions = ArticleVersion.objects.count()
    payload = [{"path": str(folder / "a01.md"), "text": (folder / "a01.md").read_text(encoding="utf-8")}]

    imported = import_files(run_id=run.pk, actor_id=run.started_by_id, files=payload)

    assert imported == 0
    assert ArticleVersion.objects.count() == versions
    assert run.files.count() == 13
    assert len(report.created) == 12


# --- batches lost with their worker (issue #14 item 5) -----------------------------------------------


@pytest.fixture
def lossy_workers(monkeypatch, settings):
    """Workers that lose the first batch sent to them, as a killed worker does; a short lease, and a
    waiting import that looks for lost batches at every turn."""
    settings.VERITY_BATCH_LEASE_SECONDS = 0.2
    monkeypatch.setattr(imports, "RECOVER_EVERY_SECONDS", 0)
    monkeypatch.setattr(imports, "IMPORT_BATCH_SIZE", 4)
    sent: list[int] = []
    deliver = imports.import_run_batch.apply_async

    def send(args, **options):
        sent.append(args[0])
        if len(sent) == 1:
            return None if losing["claimed"] is False else _claim_and_die(args[0])
        return deliver(args=args, **options)

    def _claim_and_die(batch_id: int) -> None:
        with batch_claim(ImportRunBatch, batch_id) as claimed:  # the worker takes the batch ...
            assert claimed
        # ... and is killed before it finishes (the lease is left to run out, as nobody renews it)
        ImportRunBatch.objects.filter(pk=batch_id).update(lease_until=Now() + dt.timedelta(seconds=0.2))

    losing = {"claimed": False}
    monkeypatch.setattr(imports.import_run_batch, "apply_async", send)
    return sent, losing


def test_a_batch_lost_before_a_worker_started_it_is_sent_again_and_the_import_finishes(folder, db, lossy_workers):
    sent, _ = lossy_workers

    # when the first batch never reaches a running worker (taken from the broker by one that was killed)
    report = kb_import(folder=folder, dispatch=True, timeout=30)

    # then the waiting import sends it again, and the run finishes with every file
    assert len(report.created) == 12
    assert [(Path(error.path).name, error.key) for error in report.errors] == [("b-broken.md", "locale")]
    run = ImportRun.objects.get()
    assert (run.status, run.files.count()) == (ImportRun.Status.DONE, 13)
    lost = run.batches.order_by("pk").first()
    assert (lost.dispatches, lost.claims, lost.finished_at is not None) == (2, 1, True)
    assert sent.count(lost.pk) == 2
    assert run.batches.filter(finished_at__isnull=True).count() == 0
    assert all(_searchable(slug) for slug in report.created)


def test_a_batch_whose_worker_died_while_importing_it_is_sent_again_and_the_import_finishes(folder, db, lossy_workers):
    sent, losing = lossy_workers
    losing["claimed"] = True

    # when the worker that started the first batch dies before finishing it (its lease runs out)
    report = kb_import(folder=folder, dispatch=True, timeout=30)

    # then the batch is sent again once the lease ran out, and a second worker imports it
    assert len(report.created) == 12 and len(report.errors) == 1
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE
    lost = run.batches.order_by("pk").first()
    assert (lost.dispatches, lost.claims, lost.finished_at is not None) == (2, 2, True)
    assert sent.count(lost.pk) == 2


def test_a_batch_held_by_a_live_worker_is_neither_run_twice_nor_sent_again(folder, db):
    kb_import(folder=folder)
    run = ImportRun.objects.get()
    batch = ImportRunBatch.objects.create(run=run, wave=0, files=[])
    batches_sent(ImportRunBatch.objects.filter(pk=batch.pk))
    sent: list[int] = []

    with batch_claim(ImportRunBatch, batch.pk) as claimed:
        # while a worker holds it, a second delivery does nothing and no watchdog sends it again
        assert claimed is True
        assert imports.import_run_batch.run(batch.pk) == 0
        assert imports.import_run_recover(run, send=sent.append) == []
    batch.refresh_from_db()
    assert (batch.claims, batch.dispatches, sent) == (1, 1, [])


def test_a_batch_that_loses_its_worker_every_time_is_given_up_with_its_files_named(folder, db, settings):
    # given a batch started MAX_CLAIMS times, each time by a worker that died (lease run out)
    settings.VERITY_BATCH_LEASE_SECONDS = 60
    kb_import(folder=folder)
    run = ImportRun.objects.get()
    payload = [{"path": "neu.md", "text": _article("neu"), "shift_days": 0}]
    batch = ImportRunBatch.objects.create(run=run, wave=0, files=payload, claims=MAX_CLAIMS, dispatches=MAX_CLAIMS,
                                          dispatched_at=Now(), lease_until=Now() - dt.timedelta(seconds=1))
    sent: list[int] = []

    assert imports.import_run_recover(run, send=sent.append) == []

    # then it is not sent again; its file is recorded as failed, naming why
    batch.refresh_from_db()
    assert sent == [] and batch.finished_at is not None
    failed = run.files.get(path="neu.md")
    assert (failed.outcome, failed.error) == (
        ImportRunFile.Outcome.FAILED, "its worker was lost 5 times while importing it; see the worker log")
    assert not Article.objects.filter(slug="neu").exists()


def test_a_file_that_fails_unexpectedly_is_recorded_and_the_others_land(folder, db, monkeypatch):
    original = imports._import_one

    def flaky(item, actor):
        if item.slug == "artikel-5":
            raise RuntimeError("disk full")
        return original(item, actor)

    monkeypatch.setattr(imports, "_import_one", flaky)

    report = kb_import(folder=folder)

    assert len(report.created) == 11
    errors = {Path(error.path).name: error.problem for error in report.errors}
    assert errors["a05.md"] == "internal error (RuntimeError); see the worker log"
    assert not Article.objects.filter(slug="artikel-5").exists()


def test_the_admin_lists_import_runs_with_each_file(folder, admin_client):
    kb_import(folder=folder)
    run = ImportRun.objects.get()

    listing = admin_client.get("/admin/governance/importrun/")
    detail = admin_client.get(f"/admin/governance/importrun/{run.pk}/change/")

    assert listing.status_code == 200 and "13/13" in listing.content.decode()
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "b-broken.md" in page and "required key is missing or empty" in page


# --- with a real worker -------------------------------------------------------------------------------


def _worker_env(broker_url: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "verity.settings", "CELERY_BROKER_URL": broker_url,
           "VERITY_EMBEDDER": settings.VERITY_EMBEDDER}  # the test's model: a worker with another would reindex
    env.pop("VERITY_CELERY_EAGER", None)
    database = connection.settings_dict
    if settings.DATABASES["default"].get("EMBEDDED"):
        env["VERITY_DATABASE_NAME"] = database["NAME"]
    else:
        credentials = quote(database["USER"] or "", safe="") + (":" + quote(database["PASSWORD"], safe="") if database["PASSWORD"] else "")
        env["DATABASE_URL"] = (
            f"postgres://{credentials}@{quote(database['HOST'] or '', safe='')}:{database['PORT'] or 5432}/{database['NAME']}"
        )
    return env


@pytest.mark.django_db(transaction=True)
def test_the_command_imports_through_a_real_worker_and_returns_when_searchable(folder):
    broker_dir = Path(tempfile.mkdtemp(prefix="vi"))  # short: unix socket paths are limited
    broker_url = embedded.ensure_broker(broker_dir)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "verity", "worker", "--pool=prefork", "--concurrency=1",
         "--loglevel=WARNING", "-n", f"importtest-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=_worker_env(broker_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with client_of(broker_url):
            for _ in range(120):
                if app.control.ping(timeout=0.5):
                    break
                time.sleep(0.25)
            out, err = StringIO(), StringIO()
            with pytest.raises(CommandError, match="1 file"):  # the broken file fails the command ...
                call_command("kb_import", str(folder), stdout=out, stderr=err)
            # ... after the worker imported all the others, each searchable when the command returned
            lines = out.getvalue().splitlines()
            assert lines[0] == f"Importing {folder} in Celery workers ..."
            assert f"Imported {folder}: 12 created, 0 updated, 0 unchanged, 1 failed." in lines
            assert "13/13 files" in out.getvalue()
            assert "b-broken.md: key 'locale'" in err.getvalue()
            assert all(_searchable(slug) for slug in Article.objects.values_list("slug", flat=True))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        embedded.stop_broker(broker_dir)


def _start_worker(name: str, env: dict[str, str]) -> subprocess.Popen:
    """A worker in its own process group, so that killing the group kills it with its pool process."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "verity", "worker", "--pool=prefork", "--concurrency=1",
         "--loglevel=WARNING", "-n", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.25)


@pytest.mark.django_db(transaction=True)
def test_an_import_and_a_reindex_finish_after_their_worker_is_killed_mid_batch(folder):
    """Real processes: the command, a worker killed (SIGKILL) while it holds a batch, then a new worker."""
    from retrieval.models import IndexJob, IndexJobBatch

    broker_dir = Path(tempfile.mkdtemp(prefix="vk"))  # short: unix socket paths are limited
    broker_url = embedded.ensure_broker(broker_dir)
    env = {**_worker_env(broker_url), "VERITY_BATCH_LEASE_SECONDS": "5"}
    workers: list[subprocess.Popen] = []
    commands: list[subprocess.Popen] = []

    def killed_mid_batch(model, table: str, command: list[str]) -> tuple[subprocess.Popen, object]:
        """Start `command` against the one worker (started if none runs); it takes a batch, blocks on
        `table` and is killed; then start another worker. Returns the command's process and the lost batch."""
        if not any(worker.poll() is None for worker in workers):
            workers.append(_start_worker(f"worker{len(workers)}", env))
        with client_of(broker_url):
            _wait_for(lambda: app.control.ping(timeout=0.5), seconds=60, what="the worker to answer")
        with transaction.atomic():
            with connection.cursor() as cursor:  # writes to `table` wait until this transaction ends
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
            commands.append(process)
            _wait_for(lambda: model.objects.filter(claims=1, finished_at__isnull=True).exists(), seconds=120,
                      what="the worker to take a batch")
            batch = model.objects.filter(claims=1, finished_at__isnull=True).get()
            os.killpg(workers[-1].pid, signal.SIGKILL)
            workers[-1].wait(timeout=30)
        workers.append(_start_worker(f"worker{len(workers)}", env))
        return process, batch

    def stop_workers() -> None:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)

    try:
        # an import: the worker dies holding the first batch; the second worker finishes it
        process, lost = killed_mid_batch(
            ImportRunBatch, "kb_article", [sys.executable, "manage.py", "kb_import", str(folder), "--timeout", "300"])
        out, err = process.communicate(timeout=300)
        assert process.returncode == 1, err  # the broken file, and nothing else
        assert f"Imported {folder}: 12 created, 0 updated, 0 unchanged, 1 failed." in out.splitlines()
        lost.refresh_from_db()
        # started twice (the dead worker, then the new one); sent again at least once (more on a busy machine,
        # when the new worker takes longer than the grace to start: the extra copies find it held or finished)
        assert (lost.claims, lost.dispatches >= 2, lost.finished_at is not None) == (2, True, True)
        assert ImportRun.objects.get().status == ImportRun.Status.DONE
        assert all(_searchable(slug) for slug in Article.objects.values_list("slug", flat=True))

        # a reindex: the same, the worker dying while it rebuilds the chunks of its batch
        process, lost = killed_mid_batch(
            IndexJobBatch, "retrieval_chunk", [sys.executable, "manage.py", "kb_reindex", "--timeout", "300"])
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert f"  batch {lost.pk} was lost with its worker; sent again" in out.splitlines()
        job = IndexJob.objects.get()
        assert (job.status, job.done, job.total) == (IndexJob.Status.DONE, 12, 12)
        lost.refresh_from_db()
        assert (lost.claims, lost.dispatches >= 2, lost.finished_at is not None) == (2, True, True)
        assert all(_searchable(slug) for slug in Article.objects.values_list("slug", flat=True))
    finally:
        for process in commands:
            if process.poll() is None:
                process.kill()
                process.communicate()
        stop_workers()
        embedded.stop_broker(broker_dir)
