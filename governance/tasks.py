"""Thin Celery tasks: load, call one service, stay idempotent.

`import_batch` is defined next to the import it runs (governance.imports, which enqueues it) and
registered here, so that this module imports that one and not the other way round.
"""

from __future__ import annotations

from celery import shared_task

from governance import services
from governance.imports import import_batch  # noqa: F401 - registers the task with the workers


@shared_task(name="governance.tasks.review_cycle_run", acks_late=True)
def review_cycle_run() -> dict[str, int]:
    """Daily: flag due and expired articles and e-mail each owner one digest."""
    return services.review_cycle_run()


@shared_task(name="governance.tasks.publications_publish_due", acks_late=True)
def publications_publish_due() -> list[int]:
    """Every minute: publish the scheduled versions whose go-live time has come (idempotent)."""
    return services.publications_publish_due()
