"""The embedded language-model server: llama.cpp (the prebuilt `xllamacpp` wheel) started on demand.

Like the embedded PostgreSQL it lives under VERITY_DATA_DIR (`llm/`), is started by whichever
process needs it first (web, worker, a command, the tests) under an exclusive file lock, is shared
by all of them, survives their restarts, recovers from a killed server (a stale state file is
replaced), and is stopped by `manage.py services stop`. It listens on a free TCP port of 127.0.0.1
chosen at start (never a fixed port, so checkouts never collide) and requires a random API key
written to a state file readable only by this user, so other local users cannot use it.

    python -m verity.core.llm_server serve --model M.gguf --threads 2 --state DIR/llm/server.json
is the server process itself; nothing else calls it directly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from verity.core.embedded import EmbeddedServiceError, _locked, data_dir

START_TIMEOUT = 180.0  # loading a 1 GB model from a cold disk on a busy machine
CONTEXT_TOKENS = 8192  # shared by the parallel slots
PARALLEL_SLOTS = 2


@dataclass(frozen=True)
class LlmServer:
    url: str  # the OpenAI-compatible base URL, ending in /v1
    api_key: str
    model: str  # the model file's name, as the API reports it
    pid: int


def state_file(root: Path | None = None) -> Path:
    return (root or data_dir()) / "llm" / "server.json"


def default_threads() -> int:
    configured = os.environ.get("VERITY_LLM_THREADS", "").strip()
    if configured:
        try:
            threads = int(configured)
        except ValueError:
            raise EmbeddedServiceError(f"VERITY_LLM_THREADS: expected a whole number, got '{configured}'") from None
        if threads < 1:
            raise EmbeddedServiceError(f"VERITY_LLM_THREADS: expected at least 1, got {threads}")
        return threads
    return max(1, min(os.cpu_count() or 1, 8))


def _alive(pid: int) -> bool:
    try:  # a server this process started and that has exited: reap it (else it lingers as a zombie)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _healthy(server: LlmServer, timeout: float = 2.0) -> bool:
    request = urllib.request.Request(server.url.removesuffix("/v1") + "/health",  # noqa: S310 - our own 127.0.0.1 URL
                                     headers={"Authorization": f"Bearer {server.api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _read_state(root: Path) -> LlmServer | None:
    try:
        data = json.loads(state_file(root).read_text())
        return LlmServer(url=data["url"], api_key=data["api_key"], model=data["model"], pid=int(data["pid"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def running_server(root: Path | None = None) -> LlmServer | None:
    """The live server of this data dir, or None (a state file of a dead process does not count)."""
    root = root or data_dir()
    server = _read_state(root)
    if server is None or not _alive(server.pid) or not _healthy(server):
        return None
    return server


def ensure_llm_server(model_path: Path, *, threads: int | None = None, root: Path | None = None) -> LlmServer:
    """Start the model server for `model_path` if this data dir has none running; idempotent."""
    root = root or data_dir()
    model_path = Path(model_path)
    if not model_path.is_file():
        raise EmbeddedServiceError(
            f"The language model {model_path} does not exist; run `python3 dev.py install` "
            "(or set VERITY_LLM_MODEL_PATH to a GGUF file, or VERITY_GENERATOR=extractive)."
        )
    with _locked(root, "llm"):
        server = running_server(root)
        if server is not None and server.model == model_path.name:
            return server
        if server is not None:  # another model was configured: replace it
            _terminate(server.pid)
        stale = _read_state(root)
        if stale is not None and _alive(stale.pid):
            _terminate(stale.pid)  # started but unhealthy (hung): replace it
        state = state_file(root)
        state.parent.mkdir(parents=True, exist_ok=True)
        state.unlink(missing_ok=True)
        log = open(root / "llm.log", "ab")  # noqa: SIM115 - handed to the child process
        try:
            process = subprocess.Popen(  # noqa: S603 - our own module and arguments
                [sys.executable, "-m", "verity.core.llm_server", "serve", "--model", str(model_path),
                 "--threads", str(threads or default_threads()), "--state", str(state)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EmbeddedServiceError(
                    f"The language-model server stopped at start (exit {process.returncode}); see {root / 'llm.log'}."
                )
            server = _read_state(root)
            if server is not None and _healthy(server):
                return server
            time.sleep(0.2)
        _terminate(process.pid)
        raise EmbeddedServiceError(
            f"The language-model server did not answer within {START_TIMEOUT:.0f} s; see {root / 'llm.log'}."
        )


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop_llm_server(root: Path | None = None) -> bool:
    root = root or data_dir()
    with _locked(root, "llm"):
        server = _read_state(root)
        state_file(root).unlink(missing_ok=True)
        if server is None or not _alive(server.pid):
            return False
        _terminate(server.pid)
        return True


def serve(model: Path, threads: int, state: Path) -> None:
    """The server process: load the model, publish the address and key, serve until SIGTERM."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = PARALLEL_SLOTS
    params.port = 0  # a free port, chosen by the server
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    api_key = "vl-" + secrets.token_urlsafe(24)
    params.api_keys = [api_key]
    server = xllamacpp.Server(params)
    tmp = state.with_name(state.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": server.listening_address.rstrip("/") + "/v1", "api_key": api_key, "model": model.name,
                   "pid": os.getpid(), "threads": threads}, handle)
    os.replace(tmp, state)
    stop = False

    def _stop(*_args: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop:
        signal.pause()
    del server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verity.core.llm_server")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve")
    run.add_argument("--model", type=Path, required=True)
    run.add_argument("--threads", type=int, required=True)
    run.add_argument("--state", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.model, args.threads, args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
