"""Full reindex: every live version, in batches, as Celery tasks (or in this process).

A batch lost with its worker is sent again by whoever waits for the job (`kb_reindex`) and by a
periodic task (retrieval.tasks.index_jobs_recover), so a restarted worker finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from retrieval.index import indexing
from retrieval.index.embeddings import active_embedder
from retrieval.models import IndexJob, IndexJobBatch
from verity.core.batches import MAX_CLAIMS, batch_claim, batch_finish, batches_recover, batches_sent

BATCH_SIZE = 64

# Sends one batch (its id) to the workers (retrieval.tasks.reindex_dispatch); None: run it here.
Dispatch = Callable[[int], None]


def reindex_start(*, dispatch: Dispatch | None = None, progress: Callable[[int, int], None] | None = None) -> IndexJob:
    """Create a job over all live versions; dispatch its batches to workers, or run them here."""
    embedder = active_embedder()
    version_ids = indexing.live_versions_to_index()
    job = IndexJob.objects.create(kind="reindex", embedder_key=embedder.key, total=len(version_ids))
    batches = IndexJobBatch.objects.bulk_create([
        IndexJobBatch(job=job, version_ids=version_ids[start:start + BATCH_SIZE])
        for start in range(0, len(version_ids), BATCH_SIZE)
    ])
    if not batches:
        reindex_job_finish(job.pk)
        return job
    for batch in batches:
        if dispatch is not None:
            batches_sent(IndexJobBatch.objects.filter(pk=batch.pk))
            dispatch(batch.pk)
        else:
            reindex_job_batch(batch.pk)
            job.refresh_from_db()
            if progress:
                progress(job.done, job.total)
    job.refresh_from_db()
    return job


def reindex_job_batch(batch_id: int) -> int:
    """One batch of a job: reindex its versions and count them done in one transaction, then finish
    the job after its last batch. Nothing when another worker holds the batch or it is finished."""
    batch = IndexJobBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return 0
    with batch_claim(IndexJobBatch, batch_id) as claimed:
        if not claimed:
            return 0
        with transaction.atomic():
            count = indexing.reindex_batch(batch.version_ids)
            if batch_finish(IndexJobBatch, batch_id):
                IndexJob.objects.filter(pk=batch.job_id).update(done=F("done") + len(batch.version_ids))
    if not IndexJobBatch.objects.filter(job_id=batch.job_id, finished_at__isnull=True).exists():
        reindex_job_finish(batch.job_id)
    return count


def reindex_job_finish(job_id: int) -> None:
    updated = IndexJob.objects.filter(pk=job_id, status=IndexJob.Status.RUNNING).update(
        status=IndexJob.Status.DONE, finished_at=timezone.now()
    )
    if updated:
        indexing.reindex_finish()


def reindex_recover(*, dispatch: Dispatch, job: IndexJob | None = None) -> list[int]:
    """Send again the batches of running jobs (or of `job`) lost with their worker; a job with a
    batch that lost its worker MAX_CLAIMS times fails, naming it. Returns the batches sent again."""
    jobs = IndexJob.objects.filter(status=IndexJob.Status.RUNNING)
    if job is not None:
        jobs = jobs.filter(pk=job.pk)
    recovery = batches_recover(IndexJobBatch.objects.filter(job__in=jobs), send=dispatch)
    for batch in IndexJobBatch.objects.filter(pk__in=recovery.given_up):
        IndexJob.objects.filter(pk=batch.job_id, status=IndexJob.Status.RUNNING).update(
            status=IndexJob.Status.FAILED, finished_at=timezone.now(),
            error=f"batch {batch.pk} ({len(batch.version_ids)} versions) lost its worker {MAX_CLAIMS} times; "
                  "see the worker log",
        )
    return recovery.sent_again
