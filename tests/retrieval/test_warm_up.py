"""A web server started with VERITY_WARM_UP=1 loads the embedding model at start, not on the first question."""

from __future__ import annotations

import threading

from django.apps import apps


def test_ready_loads_the_model_in_the_background_when_asked(monkeypatch):
    loaded = threading.Event()

    class Embedder:
        def embed_query(self, text: str) -> None:
            loaded.set()

    monkeypatch.setattr("retrieval.apps.active_embedder", lambda: Embedder())
    monkeypatch.setenv("VERITY_WARM_UP", "1")

    apps.get_app_config("retrieval").ready()

    assert loaded.wait(5)


def test_without_the_setting_nothing_is_loaded(monkeypatch):
    called = threading.Event()
    monkeypatch.setattr("retrieval.apps.active_embedder", lambda: called.set())
    monkeypatch.delenv("VERITY_WARM_UP", raising=False)

    apps.get_app_config("retrieval").ready()

    assert not called.wait(0.3)
