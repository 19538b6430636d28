"""Indexing: publish hooks, imports, full reindex, and switching the embedding model."""

from __future__ import annotations

import functools
import hashlib
import io
import textwrap

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from governance.imports import kb_import
from kb.models import Article
from retrieval.index import embeddings, indexing
from retrieval.models import Chunk, ChunkEmbedding, IndexJob, IndexState, Posting
from retrieval.search import hybrid as search_module
from retrieval.tasks import reindex_if_embedder_changed
from tests.retrieval.helpers import run_search, slugs

USE_KEY = "use-multilingual-v3+en.st:all-MiniLM-L6-v2:896"  # the default embedder
MINILM_KEY = "st:all-MiniLM-L6-v2:384"


def _result_rows(results):
    return [(r.article.slug, r.version_number, r.score, r.snippet, r.state) for r in results]


def _vector_index_exists(key: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [indexing.vector_index_name(key)])
        return cursor.fetchone() is not None


def _served_chunks() -> set[int]:
    """Chunks of live versions: exactly what the index must hold."""
    return set(Chunk.objects.filter(version_id__in=Article.objects.values("live_version_id")).values_list("pk", flat=True))


def _assert_index_holds_only_live_chunks(key: str) -> None:
    served = _served_chunks()
    assert set(Chunk.objects.filter(is_indexed=True).values_list("pk", flat=True)) == served
    assert set(Posting.objects.values_list("chunk_id", flat=True).distinct()) == served
    assert sorted(ChunkEmbedding.objects.values_list("chunk_id", flat=True)) == sorted(served)
    assert set(ChunkEmbedding.objects.values_list("embedder_key", flat=True)) == {key}


@pytest.fixture
def fresh_embedder_cache(monkeypatch):
    """An empty embedder cache for this test; the process-wide one (with its loaded model) comes back after."""
    monkeypatch.setattr(embeddings, "_cached", functools.lru_cache(maxsize=4)(embeddings.embedder_from_spec))


@pytest.fixture
def semantic_calls(monkeypatch) -> list[str]:
    """Records every vector query search makes (the real one still runs)."""
    calls: list[str] = []
    real = search_module.semantic_hits

    def spy(query, today, embedder, vector=None):
        calls.append(embedder.key)
        return real(query, today, embedder, vector)

    monkeypatch.setattr(search_module, "semantic_hits", spy)
    return calls


# --- publishing indexes --------------------------------------------------------------------------


def test_publishing_writes_postings_and_vectors_of_the_live_version_only(publish, make_article):
    article = publish("zaehlerstand", body="# Zählerstand\n\nMelden Sie den Zählerstand online im Kundenkonto.\n\n"
                                          "## Fristen\n\nDie Ablesung erfolgt jährlich im Dezember.")
    make_article("entwurf", body="Ein Entwurf, der nie veröffentlicht wurde.")

    chunks = list(Chunk.objects.filter(article=article).order_by("ordinal"))
    assert [c.version_id for c in chunks] == [article.live_version_id] * len(chunks)
    assert all(c.is_indexed and c.locale == "de" and c.length > 0 for c in chunks)
    assert Chunk.objects.exclude(article=article).count() == 0
    _assert_index_holds_only_live_chunks(USE_KEY)
    assert set(ChunkEmbedding.objects.values_list("audience", "locale")) == {("public", "de")}
    state = IndexState.objects.get()
    assert (state.embedder_key, state.dimension) == (USE_KEY, 896)
    assert _vector_index_exists(USE_KEY)


def test_indexing_a_version_twice_changes_nothing(publish):
    article = publish("zaehlerstand", body="Melden Sie den Zählerstand online im Kundenkonto.")
    before = (Chunk.objects.count(), Posting.objects.count(), ChunkEmbedding.objects.count())

    assert indexing.versions_index([article.live_version]) == 0

    assert (Chunk.objects.count(), Posting.objects.count(), ChunkEmbedding.objects.count()) == before


def test_imported_articles_are_searchable_when_the_import_returns(db, tmp_path):
    (tmp_path / "roaming.md").write_text(textwrap.dedent("""\
        ---
        slug: roaming-eu
        title: Roaming in der EU
        locale: de
        kind: article
        space: tarife
        audience: public
        owner: tina@example.com
        ---
        In allen EU-Ländern telefonieren Sie zu Inlandskonditionen (Roaming like at home).
        """), encoding="utf-8")
    (tmp_path / "roaming-intern.md").write_text(textwrap.dedent("""\
        ---
        slug: roaming-eu-internal
        title: EU roaming (internal)
        locale: en
        kind: runbook
        space: tarife
        audience: internal
        owner: tina@example.com
        translation_of: roaming-eu
        ---
        Roaming: after 90 days abroad the fair-use surcharge may be waived by team leads.
        """), encoding="utf-8")

    report = kb_import(folder=tmp_path)

    assert report.ok and sorted(report.created) == ["roaming-eu", "roaming-eu-internal"]
    assert slugs(run_search("Roaming fair-use surcharge", mode="keyword", locale="en")) == ["roaming-eu"]
    assert slugs(run_search("Roaming fair-use surcharge", audiences=("public", "internal"), mode="keyword", locale="en")) == [
        "roaming-eu-internal"]
    _assert_index_holds_only_live_chunks(USE_KEY)

    # when the file changes and is imported again, the new version replaces the old one in the index
    path = tmp_path / "roaming.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Inlandskonditionen", "Heimatpreisen"),
                    encoding="utf-8")
    report = kb_import(folder=tmp_path)

    assert report.updated == ["roaming-eu"]
    results = run_search("Roaming Heimatpreisen", mode="hybrid", locale="de")
    assert [(r.article.slug, r.version_number) for r in results] == [("roaming-eu", 2)]
    assert slugs(run_search("Inlandskonditionen", mode="keyword", locale="de")) == []
    _assert_index_holds_only_live_chunks(USE_KEY)


# --- full reindex ------------------------------------------------------------------------------


def test_reindex_with_the_same_model_keeps_serving_the_same_results(publish, revise, approver):
    from governance import services

    article = publish("mahnung", body="Eine Mahnung kostet 2,50 Euro.")
    services.version_approve(actor=approver, review=revise(article, body="Eine Mahnung kostet 3 Euro."))
    publish("intern-mahnung", body="Mahnungen bis 10 Euro dürfen erlassen werden.", audience="internal")
    before = _result_rows(run_search("Mahnung Euro", audiences=("public", "internal")))
    out = io.StringIO()

    call_command("kb_reindex", "--inline", stdout=out)

    assert _result_rows(run_search("Mahnung Euro", audiences=("public", "internal"))) == before
    assert [(r.article.slug, r.version_number) for r in run_search("Mahnung Euro")] == [("mahnung", 2)]
    _assert_index_holds_only_live_chunks(USE_KEY)
    job = IndexJob.objects.get()
    assert (job.kind, job.status, job.total, job.done, job.embedder_key) == ("reindex", "done", 2, 2, USE_KEY)
    assert out.getvalue().splitlines()[-1].startswith(f"Reindexed 2 article(s) with {USE_KEY} in ")


def test_switching_the_embedding_model_serves_keyword_only_until_the_reindex(
    publish, revise, approver, settings, fresh_embedder_cache, semantic_calls
):
    from governance import services

    # given articles indexed with the default model, one of them with an older version
    article = publish("mahnung", body="Eine Mahnung kostet 2,50 Euro. Nach der zweiten Mahnung folgt das Inkasso.")
    services.version_approve(actor=approver, review=revise(article, body="Eine Mahnung kostet 3 Euro. Danach Inkasso."))
    publish("mahnung-intern", audience="internal", body="Mahngebühren bis 10 Euro dürfen Agenten erlassen.")
    publish("datenvolumen", body="Zusätzliches Datenvolumen buchen Sie in der App.")
    assert IndexState.objects.get().embedder_key == USE_KEY

    # when the configured model changes
    settings.VERITY_EMBEDDER = "st:all-MiniLM-L6-v2"

    # then search notices, answers by keywords only and never compares a MiniLM query with USE vectors
    assert embeddings.active_embedder().key == MINILM_KEY
    assert indexing.embedder_changed() is True
    hybrid = run_search("Mahnung Inkasso Euro", audiences=("public", "internal"), mode="hybrid")
    keyword = run_search("Mahnung Inkasso Euro", audiences=("public", "internal"), mode="keyword")
    assert _result_rows(hybrid) == _result_rows(keyword)
    assert [(r.article.slug, r.version_number) for r in hybrid] == [("mahnung", 2), ("mahnung-intern", 1)]
    assert run_search("Mahnung Inkasso Euro", mode="semantic") == []
    assert semantic_calls == []

    # when the index is rebuilt
    out = io.StringIO()
    call_command("kb_reindex", "--inline", stdout=out)

    # then only vectors of the new model are left, for live chunks only, and semantic search works again
    state = IndexState.objects.get()
    assert (state.embedder_key, state.dimension) == (MINILM_KEY, 384)
    assert ChunkEmbedding.objects.filter(embedder_key=USE_KEY).count() == 0
    _assert_index_holds_only_live_chunks(MINILM_KEY)
    assert set(ChunkEmbedding.objects.values_list("chunk__article__slug", "audience")) == {
        ("mahnung", "public"), ("mahnung-intern", "internal"), ("datenvolumen", "public")}
    assert _vector_index_exists(MINILM_KEY)
    assert indexing.embedder_changed() is False
    job = IndexJob.objects.get()
    assert (job.status, job.total, job.done, job.embedder_key) == ("done", 3, 3, MINILM_KEY)
    assert f"Reindexed 3 article(s) with {MINILM_KEY}" in out.getvalue()

    semantic = run_search("Mahnung Inkasso Euro", mode="semantic")
    assert semantic_calls == [MINILM_KEY]
    assert sorted(slugs(semantic)) == ["datenvolumen", "mahnung"]
    assert [r.version_number for r in semantic if r.article.slug == "mahnung"] == [2]
    assert slugs(run_search("Mahnung Inkasso Euro", mode="hybrid"))[0] == "mahnung"
    assert semantic_calls == [MINILM_KEY, MINILM_KEY]


class HashEmbedder:
    """A deterministic stand-in model: bag of hashed words, 64 dimensions."""

    key = "test-hash:64"
    dimension = 64

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in text.lower().split():
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.array([self._vector(text) for text in texts], dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def test_workers_reindex_at_start_only_when_the_model_changed(publish, monkeypatch):
    publish("mahnung", body="Eine Mahnung kostet 3 Euro.")
    assert reindex_if_embedder_changed.delay().get() is None
    assert IndexJob.objects.count() == 0

    double = HashEmbedder()
    monkeypatch.setattr(embeddings, "_cached", lambda spec: double)
    job_id = reindex_if_embedder_changed.delay().get()

    job = IndexJob.objects.get()
    assert (job.pk, job.status, job.total, job.done, job.embedder_key) == (job_id, "done", 1, 1, "test-hash:64")
    assert (IndexState.objects.get().embedder_key, IndexState.objects.get().dimension) == ("test-hash:64", 64)
    _assert_index_holds_only_live_chunks("test-hash:64")
    assert slugs(run_search("Mahnung kostet", mode="semantic")) == ["mahnung"]
    assert reindex_if_embedder_changed.delay().get() is None
