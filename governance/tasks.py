"""Thin Celery tasks: load, call one service, stay idempotent.

`import_run_batch` and `connect_run_batch` (and the older `connect_batch`) are defined next to the import and the sync they run
(governance.imports, governance.connectors.sync, which enqueue them) and registered here, so that
this module imports those and not the other way round.
"""

from __future__ import annotations

from celery import shared_task

from governance import services
from governance.connectors.sync import connect_batch, connect_run_batch  # noqa: F401 - registers the tasks with the workers
from governance.imports import import_run_batch  # noqa: F401 - registers the task with the workers


@shared_task(name="governance.tasks.review_cycle_run", acks_late=True)
def review_cycle_run() -> dict[str, int]:
    """Daily: flag due and expired articles and e-mail each owner one digest."""
    return services.review_cycle_run()


@shared_task(name="governance.tasks.publications_publish_due", acks_late=True)
def publications_publish_due() -> list[int]:
    """Every minute: publish the scheduled versions whose go-live time has come (idempotent)."""
    return services.publications_publish_due()


@shared_task(name="governance.tasks.notifications_send_digest", acks_late=True)
def notifications_send_digest() -> int:
    """Hourly: e-mail each person the notifications they have not read yet (idempotent)."""
    return services.notifications_send_digest()
