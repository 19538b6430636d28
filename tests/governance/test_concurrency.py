"""Races against the real database: row locks and constraints let exactly one of two writers win."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from governance import services
from governance.models import AuditEvent, Review, ReviewApproval
from kb.models import Article, ArticleVersion
from verity.core.errors import ConcurrentEditError, InvalidTransitionError

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same moment; return each result or raised exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - handed back to the test to assert on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _split(results: list[Any], error_type: type[Exception]) -> tuple[list[Any], list[Exception]]:
    errors = [result for result in results if isinstance(result, error_type)]
    others = [result for result in results if not isinstance(result, Exception)]
    assert len(errors) + len(others) == len(results), results
    return others, errors


def test_two_approvers_approving_at_once_publish_exactly_once(make_article, author, approver, approver2):
    # given a version in review
    article = make_article()
    version = article.latest_version
    review = services.version_submit(actor=author, version=version)

    # when two approvers approve at the same moment
    results = _race(
        lambda: services.version_approve(actor=approver, review=review),
        lambda: services.version_approve(actor=approver2, review=review),
    )

    # then one wins and the other is told the review is already decided
    wins, refusals = _split(results, InvalidTransitionError)
    assert (len(wins), len(refusals)) == (1, 1)
    assert "bereits entschieden (Freigegeben und veröffentlicht)" in refusals[0].message
    article.refresh_from_db()
    assert article.live_version_id == version.pk
    assert Review.objects.get(pk=review.pk).status == Review.Status.APPROVED
    assert ReviewApproval.objects.filter(review=review).count() == 1
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.VERSION_PUBLISH, article=article).count() == 1
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.VERSION_APPROVE, article=article).count() == 1
    winner = ReviewApproval.objects.get(review=review).approver
    assert AuditEvent.objects.get(event_type=AuditEvent.Type.VERSION_PUBLISH, article=article).actor == winner


def test_two_editors_saving_from_the_same_base_create_exactly_one_version(make_article, author, author2):
    # given both editors opened version 1
    article = make_article()
    bodies = {"anna": "Fassung von Anna.", "ben": "Fassung von Ben."}

    # when both save at the same moment
    results = _race(
        lambda: services.version_create(actor=author, article=article, title="Tarif wechseln", body=bodies["anna"], base_version=1),
        lambda: services.version_create(actor=author2, article=article, title="Tarif wechseln", body=bodies["ben"], base_version=1),
    )

    # then exactly one new version exists, and the other editor is told to reload
    saved, conflicts = _split(results, ConcurrentEditError)
    assert (len(saved), len(conflicts)) == (1, 1)
    winner = saved[0]
    assert conflicts[0].details == {"base_version": 1, "latest_version": 2}
    assert list(ArticleVersion.objects.filter(article=article).order_by("number").values_list("number", "author__username", "body")) == [
        (1, "anna", "Sie können einmal pro Monat wechseln.\n"),
        (2, winner.author.username, bodies[winner.author.username] + "\n"),
    ]
    article.refresh_from_db()
    assert article.latest_version_id == winner.pk
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.VERSION_CREATE, article=article).count() == 1


def test_two_concurrent_submits_open_exactly_one_review(make_article, author, author2):
    article = make_article()
    version = article.latest_version

    results = _race(
        lambda: services.version_submit(actor=author, version=version),
        lambda: services.version_submit(actor=author2, version=version),
    )

    submitted, refusals = _split(results, InvalidTransitionError)
    assert (len(submitted), len(refusals)) == (1, 1)
    assert list(Review.objects.filter(article=article).values_list("pk", "status", "version_id")) == [
        (submitted[0].pk, Review.Status.IN_REVIEW, version.pk)
    ]
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.VERSION_SUBMIT, article=article).count() == 1
    assert Article.objects.get(pk=article.pk).live_version_id is None


def test_an_edit_racing_a_submit_leaves_a_consistent_state(make_article, author, author2):
    # given version 1 as a draft: ben submits it while anna saves version 2 on top of it
    article = make_article()
    v1 = article.latest_version

    results = _race(
        lambda: services.version_submit(actor=author2, version=v1),
        lambda: services.version_create(actor=author, article=article, title="Tarif wechseln", body="Neu.", base_version=1),
    )

    # then exactly one of them happened; the other was refused as an invalid transition
    done, refusals = _split(results, InvalidTransitionError)
    assert (len(done), len(refusals)) == (1, 1)
    article.refresh_from_db()
    if isinstance(done[0], Review):
        # the submit won: the edit was refused because v1 is in review
        assert ArticleVersion.objects.filter(article=article).count() == 1
        assert list(Review.objects.filter(article=article).values_list("version_id", "status")) == [
            (v1.pk, Review.Status.IN_REVIEW)
        ]
    else:
        # the edit won: submitting the outdated v1 was refused, naming the latest version
        assert refusals[0].message == "Nur die neueste Version (v2) kann eingereicht werden, nicht v1."
        assert article.latest_version_id == done[0].pk
        assert Review.objects.filter(article=article).count() == 0
