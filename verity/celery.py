"""The Celery app. With CELERY_BROKER_URL unset the embedded Valkey broker is started on demand."""

from __future__ import annotations

import os
import threading
import time

from celery import Celery
from celery.signals import beat_init, before_task_publish, worker_init, worker_ready

from verity.core import embedded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verity.settings")

app = Celery("verity")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_embedded_broker(**_: object) -> None:
    from django.conf import settings

    if getattr(settings, "CELERY_BROKER_EMBEDDED", False) and not settings.CELERY_TASK_ALWAYS_EAGER:
        embedded.ensure_broker()


worker_init.connect(_ensure_embedded_broker, weak=False)
beat_init.connect(_ensure_embedded_broker, weak=False)
before_task_publish.connect(_ensure_embedded_broker, weak=False)


@worker_ready.connect(weak=False)
def _reindex_if_embedder_changed(sender, **_: object) -> None:
    """A worker that starts with a different embedding model queues a full reindex."""
    sender.app.send_task("retrieval.tasks.reindex_if_embedder_changed", expires=3600)


# said wherever work waits for a worker (a change's assessment, GET /healthz) while none answers
NO_WORKER_WARNING = ("No Celery worker answers: queued work (change assessments, imports, reindexes) waits "
                     "until one runs (`celery -A verity worker`).")


def workers_answering(*, timeout: float = 1.0, limit: int | None = None) -> int:
    """How many workers answer a ping within `timeout` (stop at `limit` replies); 0 in eager mode
    (tests), where tasks run in the process that sends them, and when no broker is reachable."""
    if app.conf.task_always_eager:
        return 0
    try:
        return len(app.control.ping(timeout=timeout, limit=limit))
    except Exception:  # noqa: BLE001 - no broker reachable means no workers
        return 0


_recent_pings: dict[str, tuple[float, int]] = {}  # broker URL -> (monotonic time, workers that answered)
_recent_lock = threading.Lock()


def workers_answering_recently() -> int:
    """`workers_answering()`, its answer reused for VERITY_HEALTH_CACHE_SECONDS (5) in this process: a ping
    waits its whole second for replies, so a load balancer probing /healthz every few seconds per web server
    held a web worker for a second each time. 0 means off."""
    from django.conf import settings

    max_age = float(getattr(settings, "VERITY_HEALTH_CACHE_SECONDS", 5))
    if app.conf.task_always_eager or max_age <= 0:
        return workers_answering()
    key = str(app.conf.broker_url)
    with _recent_lock:  # concurrent probes in one process wait for one ping instead of sending several
        seen = _recent_pings.get(key)
        if seen is not None and time.monotonic() - seen[0] < max_age:
            return seen[1]
        count = workers_answering()
        _recent_pings[key] = (time.monotonic(), count)
        return count


def workers_available(timeout: float = 1.0) -> bool:
    """True when at least one worker answers a ping (never in eager mode, i.e. in tests)."""
    return workers_answering(timeout=timeout, limit=1) > 0


def workers_missing(timeout: float = 1.0) -> bool:
    """True when tasks go to workers and none answers: what is queued stays pending until one runs."""
    return not app.conf.task_always_eager and not workers_available(timeout)
