"""Full reindex: every live version, in batches, as Celery tasks (or in this process)."""

from __future__ import annotations

from collections.abc import Callable

from retrieval import indexing
from retrieval.embeddings import active_embedder
from retrieval.models import IndexJob

BATCH_SIZE = 64


def reindex_start(*, dispatch: bool, progress: Callable[[int, int], None] | None = None) -> IndexJob:
    """Create a job over all live versions; dispatch its batches to workers, or run them here."""
    from retrieval.tasks import reindex_batch, reindex_finish

    embedder = active_embedder()
    version_ids = indexing.live_versions_to_index()
    batches = [version_ids[i:i + BATCH_SIZE] for i in range(0, len(version_ids), BATCH_SIZE)]
    job = IndexJob.objects.create(kind="reindex", embedder_key=embedder.key, total=len(version_ids))
    if not batches:
        reindex_finish(job.pk)
        return job
    for batch in batches:
        if dispatch:
            reindex_batch.apply_async(args=[job.pk, batch], expires=6 * 3600)
        else:
            reindex_batch.run(job.pk, batch)
            job.refresh_from_db()
            if progress:
                progress(job.done, job.total)
    job.refresh_from_db()
    return job
