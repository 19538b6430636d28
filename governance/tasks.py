"""Thin Celery tasks: load, call one service, stay idempotent."""

from __future__ import annotations

from celery import shared_task

from governance import services


@shared_task(name="governance.tasks.review_cycle_run", acks_late=True)
def review_cycle_run() -> dict[str, int]:
    """Daily: flag due and expired articles and e-mail each owner one digest."""
    return services.review_cycle_run()


@shared_task(name="governance.tasks.import_batch", acks_late=True)
def import_batch(run_id: int, actor_id: int, files: list[dict[str, str]]) -> int:
    """Import some files of a `kb_import` run, each in its own transaction (idempotent per file)."""
    from governance.imports import import_files

    return import_files(run_id=run_id, actor_id=actor_id, files=files)
