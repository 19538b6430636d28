"""The default embedder: a multilingual model for every text, an English model added for English text."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.index.embeddings import (
    EnglishRoutedEmbedder,
    SentenceTransformerEmbedder,
    UniversalSentenceEncoder,
    embedder_from_spec,
)


@pytest.fixture(scope="module")
def models():
    base, english = UniversalSentenceEncoder(), SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    return base, english, EnglishRoutedEmbedder(base, english)


def _cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_german_texts_are_compared_by_the_multilingual_model_alone(models):
    base, _, routed = models
    question, passage = "Wie lange kann ich die Ware zurückschicken?", "Die Widerrufsfrist beträgt 14 Tage ab Erhalt der Ware."

    vectors = routed.embed_documents([passage])

    assert vectors.shape == (1, routed.dimension)
    assert _cos(routed.embed_query(question), vectors[0]) == pytest.approx(_cos(base.embed_query(question), base.embed_documents([passage])[0]), abs=1e-3)


def test_english_texts_are_compared_by_both_models(models):
    base, english, routed = models
    question, passage = "How long can I send the goods back?", "The withdrawal period is 14 days from receipt of the goods."

    combined = _cos(routed.embed_query(question), routed.embed_documents([passage])[0])

    expected = 0.5 * _cos(base.embed_query(question), base.embed_documents([passage])[0]) + 0.5 * _cos(
        english.embed_query(question), english.embed_documents([passage])[0])
    assert combined == pytest.approx(expected, abs=1e-3)


def test_a_german_question_meets_an_english_text_through_the_multilingual_model(models):
    base, _, routed = models
    question, passage = "Wie lange kann ich die Ware zurückschicken?", "The withdrawal period is 14 days from receipt of the goods."

    cross = _cos(routed.embed_query(question), routed.embed_documents([passage])[0])

    assert cross == pytest.approx(np.sqrt(0.5) * _cos(base.embed_query(question), base.embed_documents([passage])[0]), abs=1e-3)


def test_the_default_names_both_models_and_the_dimension():
    routed = embedder_from_spec("use+en")

    assert routed.key == "use-multilingual-v3+en.st:all-MiniLM-L6-v2:896"
    assert routed.dimension == 512 + 384


def test_a_repeated_query_is_embedded_once_and_callers_cannot_change_the_remembered_vector():
    from retrieval.index.embeddings import _QueryVectors

    calls = []

    def compute(text):
        calls.append(text)
        return np.array([1.0, 0.0], dtype=np.float32)

    cache = _QueryVectors()
    first = cache.get("Wie lange dauert der Versand?", compute)
    first[0] = 99.0  # a caller changing its copy
    again = cache.get("Wie lange dauert der Versand?", compute)

    assert calls == ["Wie lange dauert der Versand?"]
    assert again.tolist() == [1.0, 0.0]


def test_the_query_cache_keeps_only_the_latest_queries():
    from retrieval.index.embeddings import _QueryVectors

    cache = _QueryVectors()
    cache.size = 2
    calls = []
    for text in ("a", "b", "c", "a"):
        cache.get(text, lambda t: calls.append(t) or np.zeros(2, dtype=np.float32))

    assert calls == ["a", "b", "c", "a"]  # "a" was the oldest and had been dropped


def test_forgetting_query_vectors_makes_every_query_new_again():
    from retrieval.index.embeddings import _QueryVectors, forget_query_vectors

    first, second = _QueryVectors(), _QueryVectors()
    calls = []
    for cache in (first, second):
        cache.get("Versand", lambda t: calls.append(t) or np.zeros(2, dtype=np.float32))
    forget_query_vectors()  # what bench.retrieval does after its warm-up, so no mode profits from another's vectors
    for cache in (first, second):
        cache.get("Versand", lambda t: calls.append(t) or np.zeros(2, dtype=np.float32))

    assert calls == ["Versand"] * 4
