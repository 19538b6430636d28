"""Corpus statistics of the index: the number of indexed chunks, their average length and the
document frequency of terms, so BM25's idf is computed in one place for search, answers and change
impact; and `snapshot`, one consistent view of the index for all queries of one search.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

STATS_TTL_SECONDS = 30.0
# Document frequencies of *common* terms only are cached (see retrieval.tuning.COMMON_TERM_FRACTION):
# counting "cell" in a 100k-chunk index reads tens of thousands of index entries, and a few more or
# fewer chunks change its idf by nothing that matters. Rare terms are counted exactly on every query.
COMMON_DF_TTL_SECONDS = 300.0


def bm25_idf(total: float, df: float) -> float:
    """Lucene's BM25 idf of a term found in `df` of `total` chunks (an unseen term weighs like a rare one)."""
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


_stats_lock = threading.Lock()
_stats_cache: tuple[float, float, float] | None = None  # (fetched_at, n, avgdl)


_in_snapshot = threading.local()


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view of the index for every query of one search (REPEATABLE READ, read-only).

    Without it, a publish committing between the keyword and the vector query could mix chunks of
    two versions in one result. Inside a caller's transaction (a simulation, a test) that
    transaction decides what is visible.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        _in_snapshot.active = True
        try:
            yield
        finally:
            _in_snapshot.active = False


def _cacheable() -> bool:
    """Corpus statistics may be shared between searches unless a caller's transaction may differ."""
    return not connection.in_atomic_block or getattr(_in_snapshot, "active", False)


def corpus_stats() -> tuple[float, float]:
    """(number of indexed chunks, their average length in terms), cached for STATS_TTL_SECONDS."""
    global _stats_cache
    with _stats_lock:
        if _stats_cache and time.monotonic() - _stats_cache[0] < STATS_TTL_SECONDS and _cacheable():
            return _stats_cache[1], _stats_cache[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(avg(length), 1) FROM retrieval_chunk WHERE is_indexed")
        n, avgdl = cursor.fetchone()
    n, avgdl = float(n), float(avgdl) or 1.0
    if _cacheable() and n > 0:  # an empty index is never cached: the first publish must be found at once
        with _stats_lock:
            _stats_cache = (time.monotonic(), n, avgdl)
    return n, avgdl


def stats_invalidate() -> None:
    """After a publish, this process's cached corpus statistics are stale."""
    global _stats_cache
    with _stats_lock:
        _stats_cache = None
        _common_df_cache.clear()


_common_df_cache: dict[str, tuple[float, int]] = {}


def common_df_cached(terms: list[str]) -> dict[str, int]:
    if connection.in_atomic_block:
        return {}
    now = time.monotonic()
    with _stats_lock:
        found = {t: _common_df_cache.get(t) for t in terms}
    return {t: entry[1] for t, entry in found.items() if entry and now - entry[0] < COMMON_DF_TTL_SECONDS}


def common_df_remember(counts: dict[str, int]) -> None:
    if connection.in_atomic_block or not counts:
        return
    now = time.monotonic()
    with _stats_lock:
        if len(_common_df_cache) > 50_000:
            _common_df_cache.clear()
        _common_df_cache.update({t: (now, count) for t, count in counts.items()})


def document_frequencies(terms: list[str]) -> dict[str, int]:
    """How many indexed chunks contain each term (terms in none are left out); an index-only scan."""
    if not terms:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT term, count(*) FROM retrieval_posting WHERE term = ANY(%s) GROUP BY term", [terms])
        return dict(cursor.fetchall())


def idf_weights(terms: set[str] | list[str]) -> dict[str, float]:
    """BM25 idf of each term over the indexed chunks, counted now (not cached)."""
    if not terms:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM retrieval_chunk WHERE is_indexed")
        total = max(1, cursor.fetchone()[0])
    df = document_frequencies(sorted(terms))
    return {term: bm25_idf(total, df.get(term, 0)) for term in terms}
