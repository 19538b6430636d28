"""A folder's kb.yaml reference date moves its dates to the day of import, so the demo and the
evaluation sets mean the same thing next year as on the day they were written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from governance.imports import kb_import
from kb.models import Article

ARTICLE = """---
slug: {slug}
title: {slug}
locale: de
audience: public
review_interval_days: 90
last_reviewed: {last_reviewed}
valid_from: {valid_from}
valid_until: {valid_until}
---
# {slug}

Text.
"""


def _write(folder: Path, slug: str, **dates: dt.date | str) -> None:
    values = {key: dates.get(key, "") for key in ("last_reviewed", "valid_from", "valid_until")}
    (folder / f"{slug}.md").write_text(ARTICLE.format(slug=slug, **values), encoding="utf-8")


def test_every_date_moves_by_the_days_since_the_reference_date(db, tmp_path):
    # given files written 400 days ago: one offer that had ended 10 days before, one review 100 days old
    today = timezone.localdate()
    written = today - dt.timedelta(days=400)
    (tmp_path / "kb.yaml").write_text(f"reference_date: {written.isoformat()}\n", encoding="utf-8")
    _write(tmp_path, "offer", valid_from=written - dt.timedelta(days=40), valid_until=written - dt.timedelta(days=10))
    _write(tmp_path, "overdue", last_reviewed=written - dt.timedelta(days=100))
    _write(tmp_path, "current", last_reviewed=written - dt.timedelta(days=5), valid_until=written + dt.timedelta(days=30))

    # when they are imported today
    report = kb_import(folder=tmp_path)

    # then each date keeps its distance to today
    assert report.errors == []
    offer, overdue, current = (Article.objects.get(slug=slug) for slug in ("offer", "overdue", "current"))
    assert (offer.valid_from, offer.valid_until) == (today - dt.timedelta(days=40), today - dt.timedelta(days=10))
    assert offer.is_expired(today=today)
    assert timezone.localdate(overdue.last_verified_at) == today - dt.timedelta(days=100)
    assert overdue.review_due_at < timezone.now()
    assert current.valid_until == today + dt.timedelta(days=30)
    assert not current.is_expired(today=today)
    assert current.review_due_at > timezone.now()


def test_a_folder_without_a_reference_date_is_imported_as_written(db, tmp_path):
    _write(tmp_path, "fixed", valid_from=dt.date(2020, 1, 1), valid_until=dt.date(2020, 6, 1))

    kb_import(folder=tmp_path)

    assert Article.objects.get(slug="fixed").valid_until == dt.date(2020, 6, 1)


@pytest.mark.parametrize(("content", "key", "problem"), [
    ("reference_date: 2026-13-01\n", "reference_date", "expected a date YYYY-MM-DD, got '2026-13-01'"),
    ("reference_date: [\n", None, "expected YAML text"),
    ("- 2026-12-05\n", None, "expected keys and values"),
    ("reference_date: 2026-12-05\nshift: 3\n", "shift", "unknown key; expected only 'reference_date'"),
])
def test_a_bad_kb_yaml_is_refused_with_its_key_and_nothing_is_imported(db, tmp_path, content, key, problem):
    (tmp_path / "kb.yaml").write_text(content, encoding="utf-8")
    _write(tmp_path, "article")

    report = kb_import(folder=tmp_path)

    (error,) = report.errors
    assert (Path(error.path).name, error.key) == ("kb.yaml", key)
    assert problem in error.problem
    assert not Article.objects.exists()


DEMO_KB = Path(settings.BASE_DIR) / "demo" / "kb"


def test_the_demo_keeps_its_expired_offer_and_overdue_review_on_any_day(db):
    """Runs with the clock moved too (dev.py test): the demo's special cases hold every year."""
    kb_import(folder=DEMO_KB)
    today = timezone.localdate()

    assert Article.objects.get(slug="sommer-deal-2026").is_expired(today=today)
    assert Article.objects.get(slug="router-einrichten").review_due_at < timezone.now()
    assert not Article.objects.get(slug="tarif-wechseln").is_expired(today=today)
    assert Article.objects.get(slug="tarif-wechseln").review_due_at > timezone.now()
