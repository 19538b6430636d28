"""A real broker for the tests that need one (the suite's tasks otherwise run eagerly, in-process)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kombu import pools as kombu_pools

from verity.celery import app
from verity.core import embedded


@contextmanager
def client_of(broker_url: str) -> Iterator[None]:
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


@contextmanager
def broker_without_workers() -> Iterator[str]:
    """A fresh embedded broker that no worker listens to, this process its client; yields its URL."""
    broker_dir = Path(tempfile.mkdtemp(prefix="vw"))  # short: unix socket paths are limited
    try:
        broker_url = embedded.ensure_broker(broker_dir)
        with client_of(broker_url):
            yield broker_url
    finally:
        embedded.stop_broker(broker_dir)
        shutil.rmtree(broker_dir, ignore_errors=True)
