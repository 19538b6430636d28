"""Celery talks to a real broker: the embedded Valkey by default, or CELERY_BROKER_URL when set."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from kombu.exceptions import OperationalError

from verity.core import embedded

ROOT = Path(__file__).resolve().parent.parent


def _worker_answers_ping(broker_url: str, env: dict[str, str]) -> list:
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "verity", "worker", "--pool=solo", "--loglevel=WARNING",
         "-n", f"pingtest-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = Celery(broker=broker_url)
    try:
        for _ in range(80):
            try:
                replies = client.control.ping(timeout=0.5)
            except OperationalError:  # the worker has not started the embedded broker yet (slow on a busy machine)
                replies = []
            if replies:
                return replies
            time.sleep(0.25)
        return []
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_worker_uses_the_embedded_broker_by_default(tmp_path_factory):
    # given a fresh data dir with no broker running (short path: unix sockets)
    import tempfile

    data_dir = Path(tempfile.mkdtemp(prefix="vb"))
    env = {**os.environ, "VERITY_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "verity.settings"}
    env.pop("CELERY_BROKER_URL", None)
    try:
        # when a worker starts, it starts the broker itself; then a client reaches it over the socket
        url = embedded.broker_url(data_dir)
        assert url.startswith("redis+socket://")
        replies = _worker_answers_ping(url, env)
        # then
        assert len(replies) == 1
        assert embedded.broker_running(data_dir)
    finally:
        embedded.stop_broker(data_dir)
        embedded.stop_postgres(data_dir)  # the worker's Django start-up starts one in its data dir too
    assert not embedded.broker_running(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def _redis_available() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_configured_broker_url_is_used():
    url = "redis://127.0.0.1:6379/14"
    env = {**os.environ, "CELERY_BROKER_URL": url, "DJANGO_SETTINGS_MODULE": "verity.settings"}

    replies = _worker_answers_ping(url, env)

    assert len(replies) == 1


def test_settings_pick_embedded_broker_only_without_url(settings):
    assert settings.CELERY_BROKER_EMBEDDED is (not os.environ.get("CELERY_BROKER_URL"))
    if settings.CELERY_BROKER_EMBEDDED:
        assert embedded.broker_url() == settings.CELERY_BROKER_URL
