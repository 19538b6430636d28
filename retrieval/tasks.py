"""Thin Celery tasks for bulk indexing; each batch is one transaction and safe to retry."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.db.models import F
from django.utils import timezone

from retrieval import indexing
from retrieval.models import IndexJob


@shared_task(name="retrieval.tasks.reindex_batch", acks_late=True, autoretry_for=(Exception,), max_retries=3,
             retry_backoff=True)
def reindex_batch(job_id: int, version_ids: list[int]) -> int:
    count = indexing.reindex_batch(version_ids)
    IndexJob.objects.filter(pk=job_id).update(done=F("done") + len(version_ids))
    job = IndexJob.objects.get(pk=job_id)
    if job.done >= job.total and job.status == IndexJob.Status.RUNNING:
        reindex_finish(job_id)
    return count


def reindex_finish(job_id: int) -> None:
    updated = IndexJob.objects.filter(pk=job_id, status=IndexJob.Status.RUNNING).update(
        status=IndexJob.Status.DONE, finished_at=timezone.now()
    )
    if updated:
        indexing.reindex_finish()


@shared_task(name="retrieval.tasks.reindex_if_embedder_changed")
def reindex_if_embedder_changed() -> int | None:
    """Run by workers at start: a new embedding model means a full reindex, never mixed vectors."""
    if not indexing.embedder_changed():
        return None
    from retrieval.reindex import reindex_start

    return reindex_start(dispatch=True).pk


@shared_task(name="retrieval.tasks.change_event_assess", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def change_event_assess(event_id: int) -> int:
    """Find what a change makes wrong and flag it; idempotent (open flags are not raised twice)."""
    from retrieval.impact import change_event_run

    return change_event_run(event_id)


@shared_task(name="retrieval.tasks.contradictions_scan_all", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def contradictions_scan_all() -> int:
    """Nightly: flag both articles of every pair of live articles stating different values for one fact."""
    from retrieval.contradictions import contradictions_flag, contradictions_scan

    return contradictions_flag(contradictions_scan())


@shared_task(name="retrieval.tasks.contradictions_scan_article", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def contradictions_scan_article(article_id: int) -> int:
    """The same for the pairs one article is part of (e.g. after it was published)."""
    from retrieval.contradictions import contradictions_flag, contradictions_scan

    return contradictions_flag(contradictions_scan([article_id]))
