"""One cache of passage and sentence vectors, per (model, text), least recently used first out.

A version's chunk texts never change, and the same passages come up for many questions (answers)
and with every change (change impact, contradictions): they are embedded once per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from retrieval.index.embeddings import Embedder

VECTOR_CACHE_SIZE = 50_000  # about 175 MB at the default embedder's 896 dimensions

_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_vectors_lock = threading.Lock()


def cached_vectors(embedder: Embedder, texts: list[str]) -> list[np.ndarray]:
    """The vector of each text (in order), embedding only the texts not seen before."""
    known: dict[str, np.ndarray] = {}
    with _vectors_lock:
        for text in texts:
            if (embedder.key, text) in _vectors:
                _vectors.move_to_end((embedder.key, text))
                known[text] = _vectors[(embedder.key, text)]
    missing = [text for text in dict.fromkeys(texts) if text not in known]
    if missing:
        computed = dict(zip(missing, embedder.embed_documents(missing), strict=True))
        known.update(computed)
        with _vectors_lock:
            for text, vector in computed.items():
                _vectors[(embedder.key, text)] = vector
            while len(_vectors) > VECTOR_CACHE_SIZE:
                _vectors.popitem(last=False)
    return [known[text] for text in texts]
