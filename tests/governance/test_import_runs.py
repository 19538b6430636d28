"""kb_import as bulk work: Celery tasks import batches of files, with progress in an ImportRun."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from kombu import pools as kombu_pools

from governance import imports
from governance.imports import import_files, kb_import
from governance.models import ImportRun, ImportRunFile
from kb.models import Article, ArticleVersion
from retrieval.models import Chunk
from verity.celery import app
from verity.core import embedded

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
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "verity.settings", "CELERY_BROKER_URL": broker_url}
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


@contextmanager
def _client_of(broker_url: str) -> Iterator[None]:
    """Send this process's tasks and control messages to `broker_url`, for real (not eagerly)."""

    def drop_connections() -> None:
        # kombu keeps connection and producer pools per broker in global registries: reset them, so
        # that neither this test nor the ones after it reuse a pool of the other broker (or a closed one)
        kombu_pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    drop_connections()
    app.conf.task_always_eager, app.conf.broker_url = False, broker_url
    try:
        yield
    finally:
        drop_connections()
        app.conf.task_always_eager, app.conf.broker_url = saved


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
        with _client_of(broker_url):
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
