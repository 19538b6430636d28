"""Thin Celery tasks: take ids, call one service, own their retries, stay idempotent."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from retrieval.answers.drafting import suggestion_draft_run
from retrieval.impact.assessment import change_event_run
from retrieval.impact.contradictions import contradictions_flag, contradictions_scan
from retrieval.index import indexing
from retrieval.index.reindex import block_users_reindex_start, reindex_job_batch, reindex_recover, reindex_start
from retrieval.translation.drafting import translation_run


@shared_task(name="retrieval.tasks.index_job_batch", acks_late=True, autoretry_for=(Exception,), max_retries=3,
             retry_backoff=True)
def index_job_batch(batch_id: int) -> int:
    """One batch of a reindex job (idempotent: a finished or held batch is not run again)."""
    return reindex_job_batch(batch_id)


def reindex_dispatch(batch_id: int) -> None:
    """Send one batch of a reindex job to the workers (retrieval.index.reindex.Dispatch)."""
    index_job_batch.apply_async(args=[batch_id], expires=6 * 3600)


@shared_task(name="retrieval.tasks.index_jobs_recover")
def index_jobs_recover() -> int:
    """Every minute (beat): send again the reindex batches lost with their worker."""
    return len(reindex_recover(dispatch=reindex_dispatch))


@shared_task(name="retrieval.tasks.block_users_reindex", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def block_users_reindex(block_id: int) -> int | None:
    """A content block's new version is live: re-index the articles using it (a job of batches, like a reindex)."""
    job = block_users_reindex_start(block_id=block_id, dispatch=reindex_dispatch)
    return job.pk if job else None


@shared_task(name="retrieval.tasks.reindex_if_embedder_changed")
def reindex_if_embedder_changed() -> int | None:
    """Run by workers at start: a new embedding model means a full reindex, never mixed vectors."""
    if not indexing.embedder_changed():
        return None
    return reindex_start(dispatch=reindex_dispatch).pk


@shared_task(name="retrieval.tasks.change_event_assess", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def change_event_assess(event_id: int) -> int:
    """Find what a change makes wrong and flag it; idempotent (open flags are not raised twice)."""
    return change_event_run(event_id)


@shared_task(name="retrieval.tasks.contradictions_scan_all", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def contradictions_scan_all() -> int:
    """Nightly: flag both articles of every pair of live articles stating different values for one fact."""
    return contradictions_flag(contradictions_scan())


@shared_task(name="retrieval.tasks.contradictions_scan_article", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def contradictions_scan_article(article_id: int) -> int:
    """The same for the pairs one article is part of (e.g. after it was published)."""
    return contradictions_flag(contradictions_scan([article_id]))


@shared_task(name="retrieval.tasks.translation_draft_run", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def translation_draft_run(draft_id: int) -> int:
    """Draft one requested translation with the model (idempotent: a finished draft is not run again)."""
    return translation_run(draft_id).pk


@shared_task(name="retrieval.tasks.suggestion_draft", acks_late=True, autoretry_for=(OperationalError,),
             max_retries=3, retry_backoff=True)
def suggestion_draft(suggestion_id: int) -> str:
    """Draft a suggested new version with the language model (idempotent: only a suggestion being drafted)."""
    return suggestion_draft_run(suggestion_id)
