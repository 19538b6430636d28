"""Full reindex: every live version, in batches, as Celery tasks (or in this process).

A batch lost with its worker is sent again by whoever waits for the job (`kb_reindex`) and by a
periodic task (retrieval.tasks.index_jobs_recover), so a restarted worker finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kb.models import Article
from retrieval.index import indexing
from retrieval.index.embeddings import active_embedder
from retrieval.models import IndexJob, IndexJobBatch
from verity.core.batches import MAX_CLAIMS, batch_claim, batch_finish, batches_recover, batches_sent

BATCH_SIZE = 64

# Sends one batch (its id) to the workers (retrieval.tasks.reindex_dispatch); None: run it here.
Dispatch = Callable[[int], None]


REINDEX = "reindex"
BLOCK_USERS = "block"  # the articles using a content block, after a new version of it was published


def reindex_start(*, dispatch: Dispatch | None = None, progress: Callable[[int, int], None] | None = None) -> IndexJob:
    """Create a job over all live versions; dispatch its batches to workers, or run them here."""
    return _job_start(REINDEX, indexing.live_versions_to_index(), dispatch=dispatch, progress=progress)


def block_users_reindex_start(*, block_id: int, dispatch: Dispatch | None = None) -> IndexJob | None:
    """After a content block's new version went live: re-render and re-index every article using it,
    in batches by workers (or here), so search and answers serve the block's new text. None: no article uses it."""
    block = Article.objects.filter(pk=block_id, kind=Article.Kind.BLOCK).first()
    version_ids = indexing.block_user_versions(block) if block is not None else []
    if not version_ids:
        return None
    return _job_start(f"{BLOCK_USERS}:{block.slug}"[:30], version_ids, dispatch=dispatch)


def _job_start(kind: str, version_ids: list[int], *, dispatch: Dispatch | None,
               progress: Callable[[int, int], None] | None = None) -> IndexJob:
    embedder = active_embedder()
    job = IndexJob.objects.create(kind=kind, embedder_key=embedder.key, total=len(version_ids))
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
    if updated and IndexJob.objects.filter(pk=job_id, kind=REINDEX).exists():
        indexing.reindex_finish()  # a full reindex only: it records the embedding space and drops other spaces


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
