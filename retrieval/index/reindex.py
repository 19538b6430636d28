"""Full reindex: every live version, in batches, as Celery tasks (or in this process)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F
from django.utils import timezone

from retrieval.index import indexing
from retrieval.index.embeddings import active_embedder
from retrieval.models import IndexJob

BATCH_SIZE = 64

# Sends one batch of a job to the workers (retrieval.tasks.reindex_dispatch); None: run it here.
Dispatch = Callable[[int, list[int]], None]


def reindex_start(*, dispatch: Dispatch | None = None, progress: Callable[[int, int], None] | None = None) -> IndexJob:
    """Create a job over all live versions; dispatch its batches to workers, or run them here."""
    embedder = active_embedder()
    version_ids = indexing.live_versions_to_index()
    batches = [version_ids[i:i + BATCH_SIZE] for i in range(0, len(version_ids), BATCH_SIZE)]
    job = IndexJob.objects.create(kind="reindex", embedder_key=embedder.key, total=len(version_ids))
    if not batches:
        reindex_job_finish(job.pk)
        return job
    for batch in batches:
        if dispatch is not None:
            dispatch(job.pk, batch)
        else:
            reindex_job_batch(job.pk, batch)
            job.refresh_from_db()
            if progress:
                progress(job.done, job.total)
    job.refresh_from_db()
    return job


def reindex_job_batch(job_id: int, version_ids: list[int]) -> int:
    """One batch of a job: reindex these versions, count them done, finish the job after its last batch."""
    count = indexing.reindex_batch(version_ids)
    IndexJob.objects.filter(pk=job_id).update(done=F("done") + len(version_ids))
    job = IndexJob.objects.get(pk=job_id)
    if job.done >= job.total and job.status == IndexJob.Status.RUNNING:
        reindex_job_finish(job_id)
    return count


def reindex_job_finish(job_id: int) -> None:
    updated = IndexJob.objects.filter(pk=job_id, status=IndexJob.Status.RUNNING).update(
        status=IndexJob.Status.DONE, finished_at=timezone.now()
    )
    if updated:
        indexing.reindex_finish()
