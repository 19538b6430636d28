"""`manage.py kb_reindex`: rebuild chunks, keyword postings and vectors of every live version."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from retrieval.index.reindex import reindex_recover, reindex_start
from retrieval.models import IndexJob
from retrieval.tasks import reindex_dispatch
from verity.celery import workers_available

# how often the waiting command looks for batches lost with their worker
RECOVER_EVERY_SECONDS = 5.0


class Command(BaseCommand):
    help = "Rebuild the search index (in Celery workers if any answer, else in this process)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--inline", action="store_true", help="index in this process, without workers")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for workers")

    def handle(self, *args, inline: bool, timeout: int, **options) -> None:
        started = time.monotonic()
        use_workers = not inline and workers_available()

        def report(done: int, total: int) -> None:
            self.stdout.write(f"  {done}/{total} articles indexed")

        job = reindex_start(dispatch=reindex_dispatch if use_workers else None, progress=None if use_workers else report)
        where = "Celery workers" if use_workers else "this process"
        self.stdout.write(f"Reindexing {job.total} live article(s) in {where} (job {job.pk}).")
        last = -1
        recovered_at = time.monotonic()
        while job.status == IndexJob.Status.RUNNING:
            if time.monotonic() - started > timeout:
                raise CommandError(f"Job {job.pk} did not finish within {timeout} s ({job.done}/{job.total}).")
            if job.done != last:
                self.stdout.write(f"  {job.done}/{job.total} articles indexed")
                last = job.done
            if use_workers and time.monotonic() - recovered_at >= RECOVER_EVERY_SECONDS:
                for batch_id in reindex_recover(dispatch=reindex_dispatch, job=job):
                    self.stdout.write(f"  batch {batch_id} was lost with its worker; sent again")
                recovered_at = time.monotonic()
            time.sleep(0.5)
            job.refresh_from_db()
        if job.status == IndexJob.Status.FAILED:
            raise CommandError(f"Reindex failed: {job.error}")
        self.stdout.write(f"Reindexed {job.total} article(s) with {job.embedder_key} in {time.monotonic() - started:.1f} s.")
