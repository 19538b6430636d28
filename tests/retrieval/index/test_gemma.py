"""EmbeddingGemma-300M: its spec, the default where installed, and one run of the real model.

The suite embeds with use+en (verity/settings_test.py: VERITY_TEST_EMBEDDER); only the last test
loads EmbeddingGemma, which `python3 dev.py install` (run by `dev.py test`) puts into .models/.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from retrieval.index import embeddings, indexing
from retrieval.models import ChunkEmbedding, IndexState
from tests.retrieval.helpers import run_search, slugs
from verity.core import embedder_ir
from verity.core.modelfiles import default_embedder_path, embedder_installed

GEMMA_KEY = "embeddinggemma-300m:768"


def test_the_gemma_spec_names_the_model_with_its_prompts_and_loads_nothing_yet(monkeypatch):
    monkeypatch.delenv("VERITY_EMBEDDER_DTYPE", raising=False)
    if not embedder_installed():
        pytest.fail("EmbeddingGemma-300M is not installed: python3 dev.py install")

    embedder = embeddings.embedder_from_spec("gemma")

    assert isinstance(embedder, embeddings.GemmaEmbedder)
    assert (embedder.key, embedder.dimension, embedder.dtype) == (GEMMA_KEY, 768, "bfloat16")
    assert embedder.query_prefix == "task: search result | query: "
    assert embedder.document_prefix == "title: none | text: "
    assert embedder._model is None  # loaded at the first text, not when Django starts
    assert embeddings.embedder_from_spec("embeddinggemma").key == GEMMA_KEY


def test_the_default_is_gemma_where_installed_and_use_en_otherwise_said_in_the_log(monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "embedder_installed", lambda: True)
    assert embeddings.default_spec() == "gemma"

    monkeypatch.setattr(embeddings, "embedder_installed", lambda: False)
    with caplog.at_level(logging.WARNING, logger="retrieval.index.embeddings"):
        fallback = embeddings.embedder_from_spec("default")

    assert fallback.key == "use-multilingual-v3+en.st:all-MiniLM-L6-v2:896"
    assert "EmbeddingGemma-300M is not installed" in caplog.text and "use+en" in caplog.text


def test_a_missing_model_folder_or_a_wrong_precision_is_named(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=f"EmbeddingGemma-300M is not installed in {tmp_path}"):
        embeddings.GemmaEmbedder(tmp_path)

    monkeypatch.setenv("VERITY_EMBEDDER_DTYPE", "float16")
    with pytest.raises(ValueError, match="VERITY_EMBEDDER_DTYPE: 'float16' is not one of bfloat16, float32"):
        embeddings.GemmaEmbedder(default_embedder_path())

    with pytest.raises(ValueError, match="unknown embedder 'gemma3'.*'gemma'"):
        embeddings.embedder_from_spec("gemma3")


def test_switching_to_gemma_reindexes_and_finds_a_paraphrase(publish, settings, monkeypatch):
    """The real model: a switch from use+en is noticed, kb_reindex re-embeds, a German paraphrase finds its article."""
    monkeypatch.setattr(embeddings, "_cached", functools.lru_cache(maxsize=4)(embeddings.embedder_from_spec))
    publish("mahnung", title="Mahngebühren",
            body="Eine Mahnung kostet 2,50 Euro. Nach der zweiten Mahnung übergeben wir die Forderung an ein Inkassobüro.")
    publish("zaehlerstand", title="Zählerstand melden",
            body="Den Zählerstand melden Sie online im Kundenportal unter Zählerstand > Zählerstand erfassen.")
    publish("umzug", title="Umzug", body="Bei einem Umzug nennen Sie uns die neue Anschrift und den Auszugstag.")
    assert IndexState.objects.get().embedder_key != GEMMA_KEY

    settings.VERITY_EMBEDDER = "gemma"
    assert indexing.embedder_changed() is True

    out = io.StringIO()
    call_command("kb_reindex", "--inline", stdout=out)

    assert f"Reindexed 3 article(s) with {GEMMA_KEY}" in out.getvalue()
    assert (IndexState.objects.get().embedder_key, IndexState.objects.get().dimension) == (GEMMA_KEY, 768)
    assert set(ChunkEmbedding.objects.values_list("embedder_key", flat=True)) == {GEMMA_KEY}
    assert indexing.embedder_changed() is False
    vector = embeddings.active_embedder().embed_query("Was passiert, wenn ich meine Rechnung zu spät bezahle?")
    assert vector.shape == (768,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3
    # no word of the question is in the article: only the meaning leads there
    assert slugs(run_search("Was passiert, wenn ich meine Rechnung zu spät bezahle?", mode="semantic"))[0] == "mahnung"


def test_the_openvino_runtime_gives_torchs_vectors_for_queries_and_padded_batches(monkeypatch):
    """The converted model (dev.py install) against torch: one query, and passages of very different
    lengths in one batch, whose padding once turned every vector of the batch into NaN."""
    if not embedder_ir.converted(default_embedder_path()):
        pytest.fail("EmbeddingGemma is not converted for OpenVINO: python3 dev.py install")
    monkeypatch.setenv("VERITY_EMBEDDER_RUNTIME", "openvino")
    fast = embeddings.GemmaEmbedder()
    monkeypatch.setenv("VERITY_EMBEDDER_RUNTIME", "torch")
    reference = embeddings.GemmaEmbedder()
    assert (fast.runtime, reference.runtime, fast.key) == ("openvino", "torch", reference.key)

    query = "Was passiert, wenn ich meine Rechnung zu spät bezahle?"
    passages = ["Kurz.", "Eine Mahnung kostet 2,50 Euro. " * 3,
                "Den Zählerstand melden Sie online im Kundenportal unter Zählerstand > Zählerstand erfassen. " * 40]
    fast_documents, reference_documents = fast.embed_documents(passages), reference.embed_documents(passages)

    assert not np.isnan(fast_documents).any()
    assert np.allclose(np.linalg.norm(fast_documents, axis=1), 1.0, atol=1e-3)
    assert np.all(np.sum(fast_documents * reference_documents, axis=1) > 0.999)
    assert float(fast.embed_query(query) @ reference.embed_query(query)) > 0.999
    assert fast.embed_documents([]).shape == (0, 768)


def test_a_wrong_runtime_or_a_missing_conversion_is_named_and_auto_falls_back_to_torch(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("VERITY_EMBEDDER_RUNTIME", "onnx")
    with pytest.raises(ValueError, match="VERITY_EMBEDDER_RUNTIME: 'onnx' is not one of auto, openvino, torch"):
        embeddings.GemmaEmbedder(default_embedder_path())

    # a model folder whose conversion is missing: openvino asked for is an error, auto says it and uses torch
    folder = tmp_path / "embeddinggemma-300m"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    monkeypatch.setenv("VERITY_EMBEDDER_RUNTIME", "openvino")
    with pytest.raises(ValueError, match="VERITY_EMBEDDER_RUNTIME=openvino: the converted model is missing or stale in "
                                         f"{tmp_path / 'embeddinggemma-300m-openvino'}"):
        embeddings.GemmaEmbedder(folder)
    monkeypatch.setenv("VERITY_EMBEDDER_RUNTIME", "auto")
    with caplog.at_level(logging.WARNING, logger="retrieval.index.embeddings"):
        assert embeddings.GemmaEmbedder(folder).runtime == "torch"
    assert "EmbeddingGemma runs on torch" in caplog.text


def test_a_conversion_of_another_model_or_runtime_version_is_stale(tmp_path):
    folder = tmp_path / "embeddinggemma-300m"
    folder.mkdir()
    (tmp_path / "embeddinggemma-300m.sha256").write_text("a" * 64 + "\n")
    converted = embedder_ir.ir_folder(folder)
    converted.mkdir()
    (converted / embedder_ir.IR_FILE).write_text("<net/>")
    stamp = embedder_ir.wanted_stamp(folder)
    (converted / embedder_ir.STAMP_FILE).write_text(json.dumps(stamp))
    assert embedder_ir.converted(folder) is True

    (converted / embedder_ir.STAMP_FILE).write_text(json.dumps({**stamp, "torch": "0.1"}))
    assert embedder_ir.converted(folder) is True  # torch only converts: a newer one leaves the file usable
    (converted / embedder_ir.STAMP_FILE).write_text(json.dumps({**stamp, "openvino": "2020.1"}))
    assert embedder_ir.converted(folder) is False
    (tmp_path / "embeddinggemma-300m.sha256").write_text("b" * 64 + "\n")  # the model itself was replaced
    (converted / embedder_ir.STAMP_FILE).write_text(json.dumps(stamp))
    assert embedder_ir.converted(folder) is False
    (converted / embedder_ir.STAMP_FILE).write_text("{not json")
    assert embedder_ir.converted(folder) is False


def test_the_thread_count_is_checked_and_openvino_takes_two_by_default(monkeypatch):
    monkeypatch.delenv("VERITY_EMBEDDER_THREADS", raising=False)
    assert embeddings._openvino_threads() == min(2, len(os.sched_getaffinity(0)))
    assert embeddings._torch_threads() == 1
    monkeypatch.setenv("VERITY_EMBEDDER_THREADS", "3")
    assert (embeddings._openvino_threads(), embeddings._torch_threads()) == (3, 3)
    for wrong in ("zwei", "0", "-1"):
        monkeypatch.setenv("VERITY_EMBEDDER_THREADS", wrong)
        with pytest.raises(ValueError, match=f"VERITY_EMBEDDER_THREADS: '{wrong}' is not a whole number of threads"):
            embeddings._openvino_threads()


def test_a_model_that_openvino_cannot_load_is_logged_and_torch_computes_instead(monkeypatch, caplog):
    if not embedder_ir.converted(default_embedder_path()):
        pytest.fail("EmbeddingGemma is not converted for OpenVINO: python3 dev.py install")
    monkeypatch.setenv("VERITY_EMBEDDER_RUNTIME", "auto")
    embedder = embeddings.GemmaEmbedder()
    assert embedder.runtime == "openvino"

    def broken(*args, **kwargs):
        raise RuntimeError("Exception from src/inference/src/cpp/core.cpp: no CPU plugin")

    monkeypatch.setattr(embeddings, "OpenVinoGemma", broken)
    with caplog.at_level(logging.ERROR, logger="retrieval.index.embeddings"):
        vector = embedder.embed_query("Wie melde ich meinen Zählerstand?")

    assert embedder.runtime == "torch" and vector.shape == (768,)
    assert "OpenVINO could not load EmbeddingGemma" in caplog.text and "no CPU plugin" in caplog.text


def test_openvino_is_imported_without_its_usage_reports(tmp_path):
    """`import openvino` sends an event to Intel's analytics and writes a client id into ~/intel;
    import_openvino() makes the telemetry package unimportable first. Run in a fresh interpreter with
    its own HOME (the plain import is not run here: it would try to call out)."""
    script = "from verity.core.embedder_ir import import_openvino; import sys; import_openvino(); " \
             "assert sys.modules['openvino_telemetry'] is None; print('imported')"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HOME": str(tmp_path)}, cwd=str(Path(embedder_ir.__file__).parents[2]))

    assert result.returncode == 0 and "imported" in result.stdout, result.stderr
    assert not (tmp_path / "intel").exists()
