"""Shared fixtures: users in each role, a space, and articles in known workflow states."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from governance import services
from governance.models import AuditEvent, Review, ReviewApproval
from governance.roles import ROLE_PERMISSIONS
from kb.models import Article, ArticleVersion, Space

CLOCK_SHIFT = re.compile(r"^\+?(\d+)([dy]?)$")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift", default=os.environ.get("VERITY_TEST_CLOCK_SHIFT", "0"),
        help="run the suite with Python's clock moved ahead: '0' (today), '400d', '1y', '3y' (a year is 365 days)",
    )


def clock_shift_days(value: str) -> int:
    match = CLOCK_SHIFT.match(value.strip())
    if not match:
        raise pytest.UsageError(f"--clock-shift: expected a number of days or years like '400d' or '3y', got {value!r}")
    count, unit = int(match.group(1)), match.group(2) or "d"
    return count * 365 if unit == "y" else count


def pytest_configure(config: pytest.Config) -> None:
    """Move the clock before any test runs, so a test that mixes fixed dates with today fails today.

    Only Python's clock moves (the database's now() is not used by Verity's code); processes the
    tests start (a Celery worker, the database server) keep the real clock.
    """
    days = clock_shift_days(config.getoption("--clock-shift"))
    if days:
        traveller = time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=days), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str:
    days = clock_shift_days(config.getoption("--clock-shift"))
    return f"clock: {'today' if not days else f'moved {days} days ahead'} ({dt.datetime.now(dt.UTC).date().isoformat()} UTC)"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the server's default language (German), like a request without Accept-Language.

    (A request's LocaleMiddleware leaves its language active on the thread; without this, a test calling a
    service after an English request would see English messages.)
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def _ensure_roles() -> None:
    """Recreate the role groups when a transactional test has flushed the migration data.

    (Not roles_sync(): called with the global app registry it resets each app's models_module.)
    """
    if Group.objects.filter(name__in=ROLE_PERMISSIONS).count() == len(ROLE_PERMISSIONS):
        return
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in (perm.split(".") for perm in perms)
        ])


def _user(username: str, *groups: str, **extra):
    _ensure_roles()
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="pw-" + username, is_staff=True, **extra
    )
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def author(db):
    return _user("anna", "authors")


@pytest.fixture
def author2(db):
    return _user("ben", "authors")


@pytest.fixture
def approver(db):
    return _user("clara", "approvers")


@pytest.fixture
def approver2(db):
    return _user("david", "approvers")


@pytest.fixture
def admin_user_role(db):
    return _user("erika", "knowledge admins")


@pytest.fixture
def agent(db):
    return _user("felix", "agents")


@pytest.fixture
def space(db):
    return Space.objects.create(slug="vertrag", name="Vertrag", default_review_interval_days=90)


@pytest.fixture
def sensitive_space(db):
    return Space.objects.create(slug="recht", name="Recht", requires_extra_approval=True)


@pytest.fixture
def make_article(author, space):
    def make(slug: str = "tarifwechsel", *, body: str = "Sie können einmal pro Monat wechseln.", **kwargs) -> Article:
        params = {
            "actor": author, "slug": slug, "title": kwargs.pop("title", "Tarif wechseln"), "body": body,
            "locale": "de", "space": space, "owner": author, "audience": Article.Audience.PUBLIC,
        }
        params.update(kwargs)
        return services.article_create(**params)

    return make


@pytest.fixture
def published_article(make_article, author, approver):
    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_approve(actor=approver, review=review)
    article.refresh_from_db()
    return article


@pytest.fixture
def audit_counts(db):
    """A function returning how many audit events of each type exist, as a Counter."""

    def count() -> Counter:
        return Counter(AuditEvent.objects.values_list("event_type", flat=True))

    return count


@pytest.fixture
def article_state(db):
    """A function returning everything a refused action must leave unchanged, read fresh from the DB."""

    def snapshot(article: Article) -> dict:
        fresh = Article.objects.get(pk=article.pk)
        return {
            "title": fresh.title,
            "live_version_id": fresh.live_version_id,
            "latest_version_id": fresh.latest_version_id,
            "last_verified_at": fresh.last_verified_at,
            "review_due_at": fresh.review_due_at,
            "versions": list(
                ArticleVersion.objects.filter(article=fresh).order_by("number").values_list("number", "title", "body")
            ),
            "reviews": list(
                Review.objects.filter(article=fresh).order_by("pk").values_list("pk", "version_id", "status", "comment")
            ),
            "approvals": list(
                ReviewApproval.objects.filter(review__article=fresh).order_by("pk").values_list("review_id", "approver_id", "step")
            ),
            "audit_events": AuditEvent.objects.count(),
        }

    return snapshot
