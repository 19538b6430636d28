"""Issue #14 item 1: the embedded PostgreSQL never deletes a data folder, and is not ensured per connection."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from verity.core import embedded
from verity.core.db.base import DatabaseWrapper


@pytest.fixture
def scratch_root() -> Iterator[Path]:
    """A throw-away data dir with a short path (unix socket paths are limited to 107 bytes)."""
    root = Path(tempfile.mkdtemp(prefix="vs"))
    try:
        yield root
    finally:
        embedded.stop_postgres(root)
        shutil.rmtree(root, ignore_errors=True)


def test_a_data_folder_with_files_but_no_pg_version_is_refused_and_kept(scratch_root):
    # given a data folder that holds something other than a cluster (or a damaged one)
    pgdata = scratch_root / "postgres"
    pgdata.mkdir()
    (pgdata / "base").mkdir()
    (pgdata / "base" / "16384").write_text("precious table data")
    (pgdata / "notes.txt").write_text("keep me")

    # when / then the start stops with a message naming the folder and the problem
    with pytest.raises(embedded.EmbeddedServiceError) as refused:
        embedded.ensure_postgres(scratch_root)
    message = str(refused.value)
    assert str(pgdata) in message
    assert "PG_VERSION" in message
    assert "not empty" in message

    # and nothing was deleted or created
    assert sorted(p.name for p in pgdata.iterdir()) == ["base", "notes.txt"]
    assert (pgdata / "base" / "16384").read_text() == "precious table data"
    assert not embedded.postgres_running(scratch_root)


def test_a_cluster_that_lost_pg_version_is_not_reinitialised(scratch_root):
    # given a cluster with data, stopped, whose PG_VERSION then went missing
    location = embedded.ensure_postgres(scratch_root)
    with psycopg.connect(host=str(location.socket_dir), port=location.port, user=location.user,
                         dbname=location.database, autocommit=True) as conn:
        conn.execute("CREATE TABLE survivor (note text)")
    assert embedded.stop_postgres(scratch_root) is True
    pgdata = scratch_root / "postgres"
    (pgdata / "PG_VERSION").unlink()
    before = sorted(str(p.relative_to(pgdata)) for p in pgdata.rglob("*"))

    # when / then
    with pytest.raises(embedded.EmbeddedServiceError, match="not empty"):
        embedded.ensure_postgres(scratch_root)
    assert sorted(str(p.relative_to(pgdata)) for p in pgdata.rglob("*")) == before


def test_a_file_in_place_of_the_data_folder_is_refused(scratch_root):
    (scratch_root / "postgres").write_text("not a folder")

    with pytest.raises(embedded.EmbeddedServiceError, match="not a folder"):
        embedded.ensure_postgres(scratch_root)

    assert (scratch_root / "postgres").read_text() == "not a folder"


def test_an_empty_data_folder_is_initialised(scratch_root):
    (scratch_root / "postgres").mkdir()

    location = embedded.ensure_postgres(scratch_root)

    assert (scratch_root / "postgres" / "PG_VERSION").exists()
    assert embedded.postgres_running(scratch_root)
    assert location.socket_dir == scratch_root / "run"
    assert [p.name for p in scratch_root.iterdir() if p.name.startswith(".postgres-init")] == []


@pytest.mark.django_db
def test_new_connections_do_not_run_the_ensure_step(monkeypatch, django_db_blocker):
    # given the process already ensured its server (the test database is open)
    connection.ensure_connection()
    calls: list[object] = []
    monkeypatch.setattr(embedded, "ensure_postgres", lambda *args, **kwargs: calls.append(args))
    wrapper = DatabaseWrapper(copy.deepcopy(connection.settings_dict), alias="default")

    # when five new connections are opened
    with django_db_blocker.unblock():
        for _ in range(5):
            wrapper.ensure_connection()
            wrapper.close()

    # then none of them ran the ensure step
    if connection.settings_dict.get("EMBEDDED"):
        assert calls == []


def test_a_failed_connection_runs_the_ensure_step_and_retries(scratch_root, monkeypatch, django_db_blocker):
    # given a process whose embedded server went away (here: one that was never started)
    location = embedded.postgres_location(scratch_root)
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict.update(HOST=str(location.socket_dir), PORT=str(location.port), NAME=location.database,
                         USER=location.user, EMBEDDED=True)
    monkeypatch.setattr(DatabaseWrapper, "_embedded_ensured", True)  # as after the first connection of the process
    calls: list[Path] = []
    real_ensure = embedded.ensure_postgres

    def ensure(root: Path | None = None):
        calls.append(scratch_root)
        return real_ensure(scratch_root)

    monkeypatch.setattr(embedded, "ensure_postgres", ensure)
    wrapper = DatabaseWrapper(settings_dict, alias="default")

    # when it connects
    with django_db_blocker.unblock():
        try:
            wrapper.ensure_connection()
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        finally:
            wrapper.close()

    # then the failure ran the ensure step once, which started the server, and the retry connected
    assert calls == [scratch_root]
    assert row == (1,)
    assert embedded.postgres_running(scratch_root)


def test_the_default_data_dir_is_dot_verity_in_the_checkout(monkeypatch):
    monkeypatch.delenv("VERITY_DATA_DIR", raising=False)

    assert embedded.data_dir() == Path(__file__).resolve().parent.parent / ".verity"
