"""The embedded PostgreSQL (with pgvector) and Valkey broker: sockets only, recovery, persistence."""

from __future__ import annotations

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from verity.core import embedded
from verity.core.db.base import DatabaseWrapper

ROOT = Path(settings.BASE_DIR)
EMBEDDED_DB = bool(settings.DATABASES["default"].get("EMBEDDED"))
needs_embedded_db = pytest.mark.skipif(not EMBEDDED_DB, reason="DATABASE_URL points at an external PostgreSQL")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def scratch_root() -> Iterator[Path]:
    """A throw-away data dir with a short path (unix socket paths are limited to 107 bytes)."""
    root = Path(tempfile.mkdtemp(prefix="vt"))
    try:
        yield root
    finally:
        embedded.stop_postgres(root)
        embedded.stop_broker(root)
        shutil.rmtree(root, ignore_errors=True)


def _connect(location: embedded.PostgresLocation) -> psycopg.Connection:
    return psycopg.connect(
        host=str(location.socket_dir), port=location.port, user=location.user, dbname=location.database,
        autocommit=True,
    )


def _wait_until_gone(pid: int, timeout: float = 15) -> None:
    """Wait until a killed process has been reaped (a zombie still counts as running for pg_ctl)."""
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid):
        assert time.monotonic() < deadline, f"process {pid} did not go away"
        time.sleep(0.05)


# --- the test database is the embedded server ----------------------------------------------------------


@needs_embedded_db
def test_embedded_postgres_answers_on_a_unix_socket_only(db):
    assert connection.settings_dict["HOST"] == str(embedded.postgres_location().socket_dir)
    assert Path(connection.settings_dict["HOST"], ".s.PGSQL.5432").is_socket()

    with connection.cursor() as cursor:
        cursor.execute("SHOW listen_addresses")
        listen_addresses = cursor.fetchone()[0]
        cursor.execute("SELECT inet_server_addr()")
        server_addr = cursor.fetchone()[0]

    assert listen_addresses == ""
    assert server_addr is None  # connected over a unix socket, not TCP


@needs_embedded_db
def test_embedded_postgres_has_pgvector(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_available_extensions WHERE name = 'vector'")
        available = cursor.fetchall()
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        cursor.execute("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector")
        distance = cursor.fetchone()[0]

    assert available == [("vector",)]
    assert distance == 1.0


@needs_embedded_db
def test_services_status_reports_postgres_running(db):
    connection.ensure_connection()  # the server is up because the tests use it

    result = subprocess.run(
        [sys.executable, "manage.py", "services", "status"], cwd=ROOT, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert f"data dir: {embedded.data_dir()}\n" in result.stdout
    assert "postgres: running\n" in result.stdout


# --- a PostgreSQL without pgvector is refused ---------------------------------------------------------


@pytest.mark.skipif(not _listening("127.0.0.1", 5432), reason="no PostgreSQL on 127.0.0.1:5432")
def test_database_wrapper_refuses_a_postgresql_without_pgvector(django_db_blocker):
    # given the plain PostgreSQL 15 of the machine, which has no pgvector
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict.update(HOST="127.0.0.1", PORT="5432", NAME="postgres", USER="postgres", PASSWORD="", EMBEDDED=False)
    with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres") as plain:
        if plain.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
            pytest.skip("the PostgreSQL on 127.0.0.1:5432 has pgvector")
    wrapper = DatabaseWrapper(settings_dict, alias="no_pgvector")

    # when / then
    with django_db_blocker.unblock():
        try:
            with pytest.raises(ImproperlyConfigured, match="has no pgvector extension") as refused:
                wrapper.ensure_connection()
        finally:
            wrapper.close()

    assert "127.0.0.1:5432" in str(refused.value)
    assert wrapper.connection is None
    assert "127.0.0.1:5432" not in DatabaseWrapper._vector_checked


# --- a throw-away embedded PostgreSQL: start, crash recovery, stop, persistence ------------------------------


def test_ensure_postgres_starts_recovers_from_kill_and_persists_across_restarts(scratch_root):
    # given a server started in a fresh data dir, with a table
    location = embedded.ensure_postgres(scratch_root)
    assert location.socket_dir == scratch_root / "run"
    assert embedded.postgres_running(scratch_root)
    with _connect(location) as conn:
        conn.execute("CREATE TABLE survivor (note text)")
        conn.execute("INSERT INTO survivor VALUES ('before the crash')")
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)

    # when the postmaster is killed with SIGKILL
    pid = int((scratch_root / "postgres" / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)
    _wait_until_gone(pid)
    assert not embedded.postgres_running(scratch_root)

    # then ensure_postgres starts it again, and committed data survived
    embedded.ensure_postgres(scratch_root)
    new_pid = int((scratch_root / "postgres" / "postmaster.pid").read_text().splitlines()[0])
    assert new_pid != pid
    with _connect(location) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT note FROM survivor").fetchall() == [("before the crash",)]

    # when it is stopped
    assert embedded.stop_postgres(scratch_root) is True
    assert not embedded.postgres_running(scratch_root)
    assert embedded.stop_postgres(scratch_root) is False
    with pytest.raises(psycopg.OperationalError):
        _connect(location)

    # then a new start finds the data again
    embedded.ensure_postgres(scratch_root)
    with _connect(location) as conn:
        conn.execute("INSERT INTO survivor VALUES ('after the restart')")
        assert conn.execute("SELECT note FROM survivor ORDER BY note DESC").fetchall() == [
            ("before the crash",), ("after the restart",),
        ]
    assert embedded.stop_postgres(scratch_root) is True


def test_ensure_postgres_is_idempotent(scratch_root):
    embedded.ensure_postgres(scratch_root)
    pid = (scratch_root / "postgres" / "postmaster.pid").read_text().splitlines()[0]

    embedded.ensure_postgres(scratch_root)

    assert (scratch_root / "postgres" / "postmaster.pid").read_text().splitlines()[0] == pid
    assert embedded.stop_postgres(scratch_root) is True


# --- a throw-away embedded Valkey broker ---------------------------------------------------------------


def test_ensure_broker_starts_valkey_on_a_unix_socket_and_stop_broker_stops_it(scratch_root):
    # when
    url = embedded.ensure_broker(scratch_root)

    # then it answers on its unix socket
    socket_path = embedded.broker_socket(scratch_root)
    assert url == f"redis+socket://{socket_path}"
    assert socket_path.is_socket()
    assert embedded.broker_running(scratch_root)
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        assert client.ping() is True
        assert client.config_get("port") == {"port": "0"}  # no TCP port
        # and a second call reuses the running broker
        assert embedded.ensure_broker(scratch_root) == url
        assert client.ping() is True
    finally:
        client.close()
    pid = int((scratch_root / "valkey" / "valkey.pid").read_text())

    # when stopped
    assert embedded.stop_broker(scratch_root) is True

    # then
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not socket_path.exists()
    assert not embedded.broker_running(scratch_root)
    assert embedded.stop_broker(scratch_root) is False
