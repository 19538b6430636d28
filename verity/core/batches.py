"""Batches of bulk work sent to Celery workers, claimed under a lease, so that a batch lost with its
worker (killed, out of memory, restarted) is noticed and sent again (issue #14 item 5).

A worker claims a batch before it runs it and keeps the claim by renewing a short lease from a
thread while the batch runs; a killed worker stops renewing. Whoever waits for the work (the command
that started it, or a periodic task) calls `batches_recover`, which sends again the batches whose
worker is gone: claimed ones whose lease ran out, and ones nobody claimed long after they were sent
(a message the dead worker had already taken from the broker). Running a batch twice changes
nothing: a claim is refused while another worker holds the lease or once the batch is finished.

Leases compare the database's clock (statement_timestamp), the one clock that web processes,
workers and commands share, on one machine or several; Python's clock is moved in the tests.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, models
from django.db.models import F, Q
from django.db.models.functions import Now

logger = logging.getLogger(__name__)

# a batch claimed this often without finishing is given up (it kills its worker, or fails every time)
MAX_CLAIMS = 5
# a batch sent but never claimed is sent again after 2 leases, then after 4, 8, 16, 32 (it may only be queued)
UNCLAIMED_LEASES = 2
UNCLAIMED_BACKOFF_MAX = 16


class LeasedBatch(models.Model):
    """One batch of a bulk run, as sent to the workers: when, how often, and who holds it."""

    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last sent to the workers (database clock).")
    dispatches = models.PositiveIntegerField(default=0, help_text="How often it was sent.")
    claims = models.PositiveIntegerField(default=0, help_text="How often a worker started it.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker holds it until then (renewed while it runs).")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def lease_seconds() -> float:
    return float(getattr(settings, "VERITY_BATCH_LEASE_SECONDS", 60))


def _lease_end(seconds: float) -> models.Expression:
    return models.ExpressionWrapper(Now() + dt.timedelta(seconds=seconds), output_field=models.DateTimeField())


def batches_sent(queryset: models.QuerySet) -> int:
    """Record that these batches were (or are about to be) sent to the workers."""
    return queryset.update(dispatched_at=Now(), dispatches=F("dispatches") + 1, lease_until=None)


def _renew(model: type[LeasedBatch], pk: int, seconds: float, stop: threading.Event) -> None:
    try:
        while not stop.wait(seconds / 3):
            model.objects.filter(pk=pk, finished_at__isnull=True).update(lease_until=_lease_end(seconds))
    except Exception:  # noqa: BLE001 - a lapsed lease only means the batch may be sent again
        logger.exception("Renewing the lease of %s %s failed", model.__name__, pk)
    finally:
        connections.close_all()  # this thread's own connections


@contextmanager
def batch_claim(model: type[LeasedBatch], pk: int) -> Iterator[bool]:
    """Hold batch `pk` while the block runs. Yields False, and the block must do nothing, when the
    batch is finished or another worker holds it. An error releases the batch (to be sent again)."""
    seconds = lease_seconds()
    claimed = (model.objects.filter(pk=pk, finished_at__isnull=True)
               .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=Now()))
               .update(lease_until=_lease_end(seconds), claims=F("claims") + 1))
    if not claimed:
        yield False
        return
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(model, pk, seconds, stop), daemon=True,
                               name=f"lease-{model.__name__}-{pk}")
    renewer.start()
    try:
        yield True
    except BaseException:
        stop.set()
        renewer.join()
        model.objects.filter(pk=pk, finished_at__isnull=True).update(lease_until=None)
        raise
    stop.set()
    renewer.join()


def batch_finish(model: type[LeasedBatch], pk: int) -> bool:
    """Mark batch `pk` finished; True only for the call that finished it (call it in the batch's
    own transaction, so that its work and its being counted done commit together)."""
    return bool(model.objects.filter(pk=pk, finished_at__isnull=True).update(finished_at=Now(), lease_until=None))


@dataclass(frozen=True)
class Recovery:
    sent_again: list[int]
    given_up: list[int]


def batches_recover(queryset: models.QuerySet, *, send: Callable[[int], None]) -> Recovery:
    """Send again the unfinished batches of `queryset` whose worker is gone; give up on a batch that
    was started MAX_CLAIMS times without finishing. Safe to call from several processes at once."""
    seconds = lease_seconds()
    sent_again: list[int] = []
    given_up: list[int] = []
    rows = (queryset.filter(finished_at__isnull=True).annotate(database_now=Now())
            .values("pk", "dispatched_at", "dispatches", "claims", "lease_until", "database_now"))
    for row in rows:
        now, lease_until = row["database_now"], row["lease_until"]
        if lease_until is not None and lease_until >= now:
            continue  # a live worker holds it
        if lease_until is None:  # sent but not (or no longer) claimed: maybe still queued
            backoff = min(2 ** max(row["dispatches"] - 1, 0), UNCLAIMED_BACKOFF_MAX)
            sent = row["dispatched_at"]
            if sent is None or now - sent < dt.timedelta(seconds=seconds * UNCLAIMED_LEASES * backoff):
                continue  # never sent (run by the process that made it), or maybe still queued
        if row["claims"] >= MAX_CLAIMS:
            given_up.append(row["pk"])
            continue
        # only the process that changes the row sends it: two watchdogs never send a batch twice
        if batches_sent(queryset.model.objects.filter(
                pk=row["pk"], finished_at__isnull=True, dispatched_at=row["dispatched_at"], lease_until=lease_until)):
            logger.warning("%s %s was lost by its worker; sent again", queryset.model.__name__, row["pk"])
            send(row["pk"])
            sent_again.append(row["pk"])
    return Recovery(sent_again=sent_again, given_up=given_up)
