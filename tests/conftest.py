"""Shared fixtures: users in each role, a space, and articles in known workflow states."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from governance import services
from kb.models import Article, Space


def _user(username: str, *groups: str, **extra):
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
