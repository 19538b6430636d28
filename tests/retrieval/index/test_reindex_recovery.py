"""A reindex whose batch is lost with its worker finishes once a worker runs again (issue #14 item 5)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models.functions import Now

from retrieval import tasks
from retrieval.index import reindex
from retrieval.index.reindex import reindex_job_batch, reindex_recover, reindex_start
from retrieval.management.commands import kb_reindex
from retrieval.models import IndexJob, IndexJobBatch
from verity.core.batches import MAX_CLAIMS, batch_claim


@pytest.fixture
def articles(publish):
    for number in range(5):
        publish(f"artikel-{number}", body=f"Artikel {number}: Eine Mahnung kostet {number} Euro.")


@pytest.fixture
def short_lease(settings):
    settings.VERITY_BATCH_LEASE_SECONDS = 0.2


def test_the_command_sends_a_lost_batch_again_and_the_job_finishes(articles, short_lease, monkeypatch):
    # given workers (eager here) of which the first loses the batch it took, as a killed worker does
    monkeypatch.setattr(reindex, "BATCH_SIZE", 2)
    monkeypatch.setattr(kb_reindex, "workers_available", lambda: True)
    monkeypatch.setattr(kb_reindex, "RECOVER_EVERY_SECONDS", 0)
    sent: list[int] = []

    def dispatch(batch_id: int) -> None:
        sent.append(batch_id)
        if len(sent) > 1:
            tasks.reindex_dispatch(batch_id)

    monkeypatch.setattr(kb_reindex, "reindex_dispatch", dispatch)
    out = io.StringIO()

    # when kb_reindex waits for the workers
    call_command("kb_reindex", "--timeout", "30", stdout=out)

    # then it noticed the lost batch, sent it again, and the job is done with every article counted once
    job = IndexJob.objects.get()
    lost = job.batches.order_by("pk").first()
    assert (job.status, job.done, job.total) == (IndexJob.Status.DONE, 5, 5)
    assert (lost.dispatches, lost.claims, lost.finished_at is not None) == (2, 1, True)
    assert sent.count(lost.pk) == 2
    assert f"  batch {lost.pk} was lost with its worker; sent again" in out.getvalue().splitlines()
    assert out.getvalue().splitlines()[-1].startswith("Reindexed 5 article(s)")


def test_the_periodic_task_finishes_a_job_whose_worker_died_mid_batch(articles, short_lease):
    # given a job started by a worker (nobody waits for it), whose batch a worker took and then died
    job = reindex_start(dispatch=lambda batch_id: None)
    batch = job.batches.get()
    with batch_claim(IndexJobBatch, batch.pk) as claimed:
        assert claimed
    assert IndexJob.objects.get(pk=job.pk).status == IndexJob.Status.RUNNING

    # when beat runs the recovery after the lease ran out (database clock: see verity.core.batches)
    IndexJobBatch.objects.filter(pk=batch.pk).update(lease_until=Now() - dt.timedelta(seconds=1))
    assert tasks.index_jobs_recover.delay().get() == 1

    # then the batch ran again (eager) and the job is done
    job.refresh_from_db()
    batch.refresh_from_db()
    assert (job.status, job.done, job.total) == (IndexJob.Status.DONE, 5, 5)
    assert (batch.dispatches, batch.claims) == (2, 2)


def test_a_batch_delivered_twice_is_counted_once(articles):
    job = reindex_start()
    batch = job.batches.get()

    assert reindex_job_batch(batch.pk) == 0  # a redelivered message of a finished batch

    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (IndexJob.Status.DONE, 5, 5)
    assert IndexJobBatch.objects.get(pk=batch.pk).claims == 1


def test_a_queued_batch_is_not_sent_again_before_its_grace(articles, settings):
    settings.VERITY_BATCH_LEASE_SECONDS = 60
    job = reindex_start(dispatch=lambda batch_id: None)
    sent: list[int] = []

    assert reindex_recover(dispatch=sent.append, job=job) == []
    assert sent == []


def test_a_batch_that_loses_its_worker_every_time_fails_the_job_by_name(articles):
    job = reindex_start(dispatch=lambda batch_id: None)
    batch = job.batches.get()
    IndexJobBatch.objects.filter(pk=batch.pk).update(claims=MAX_CLAIMS, lease_until=Now() - dt.timedelta(seconds=1))
    sent: list[int] = []

    assert reindex_recover(dispatch=sent.append) == []

    job.refresh_from_db()
    assert sent == []
    assert job.status == IndexJob.Status.FAILED
    assert job.error == f"batch {batch.pk} (5 versions) lost its worker 5 times; see the worker log"
