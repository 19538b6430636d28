"""Thin Celery tasks: load, call one service, stay idempotent."""

from __future__ import annotations

from celery import shared_task

from governance import services


@shared_task(name="governance.tasks.review_cycle_run", acks_late=True)
def review_cycle_run() -> dict[str, int]:
    """Daily: flag due and expired articles and e-mail each owner one digest."""
    return services.review_cycle_run()
