"""Fixtures for the retrieval tests: articles published through the real services, API clients.

Every article here is created, submitted and approved through governance.services, so the
publish hook indexes it exactly as in production (chunks, postings and vectors in PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance import services
from kb.models import Article
from retrieval.apikeys import apikey_create
from retrieval.index import corpus
from retrieval.llm.client import ModelEndpoint
from retrieval.models import ApiKey
from tests.llm_standin import StandinServer
from verity.core.llm_server import ensure_llm_server
from verity.core.modelfiles import default_model_path, installed, load_manifest


@pytest.fixture(autouse=True)
def _fresh_corpus_stats():
    """Search caches corpus statistics for 30 s per process; a test must not see another test's corpus."""
    corpus.stats_invalidate()
    yield
    corpus.stats_invalidate()


@pytest.fixture
def publish(author, approver, space) -> Callable[..., Article]:
    """Create an article and publish its first version (submit + approve), returning it fresh."""

    def make(
        slug: str,
        *,
        body: str,
        title: str | None = None,
        audience: str = Article.Audience.PUBLIC,
        locale: str = "de",
        **kwargs,
    ) -> Article:
        article = services.article_create(
            actor=author, slug=slug, title=title or slug.replace("-", " ").capitalize(), body=body,
            locale=locale, space=kwargs.pop("space", space), owner=author, audience=audience, **kwargs,
        )
        review = services.version_submit(actor=author, version=article.latest_version)
        services.version_approve(actor=approver, review=review)
        article.refresh_from_db()
        return article

    return make


@pytest.fixture
def revise(author):
    """Save a new version of an article and submit it; returns the open review (approve to publish)."""

    def make(article: Article, *, body: str, title: str | None = None):
        article.refresh_from_db()
        version = services.version_create(
            actor=author, article=article, title=title or article.title, body=body,
            base_version=article.latest_version.number,
        )
        return services.version_submit(actor=author, version=version)

    return make


@dataclass
class Key:
    row: ApiKey
    raw: str

    @property
    def header(self) -> str:
        return f"Bearer {self.raw}"


@pytest.fixture
def make_key(db) -> Callable[..., Key]:
    def make(name: str, audience: str = "public", **kwargs) -> Key:
        row, raw = apikey_create(name=name, audience=audience, **kwargs)
        return Key(row, raw)

    return make


@pytest.fixture
def public_key(make_key) -> Key:
    return make_key("helpcenter", "public")


@pytest.fixture
def internal_key(make_key) -> Key:
    return make_key("agent-desktop", "internal")


def _client(key: Key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=key.header)
    return client


@pytest.fixture
def public_api(public_key) -> APIClient:
    return _client(public_key)


@pytest.fixture
def internal_api(internal_key) -> APIClient:
    return _client(internal_key)


@pytest.fixture
def today() -> dt.date:
    """Today in the project's time zone, the date search filters validity by."""
    return timezone.localdate()


@pytest.fixture
def standin():
    """A local stand-in for an OpenAI-compatible model server (tests/llm_standin.py), scripted per test."""
    server = StandinServer()
    yield server
    server.close()


@pytest.fixture
def endpoint(standin) -> ModelEndpoint:
    return ModelEndpoint(standin.url, "test-key", "standin", embedded=False)


@pytest.fixture(scope="module")
def real_model() -> ModelEndpoint:
    """The default model itself on the embedded server (the few tests that read what it really writes)."""
    manifest = load_manifest()
    path = default_model_path(manifest)
    if not installed(manifest, path):
        pytest.skip("the default model is not installed (python3 dev.py install)")
    server = ensure_llm_server(path)
    return ModelEndpoint(server.url, server.api_key, server.model, embedded=True)
