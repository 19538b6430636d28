"""VerityRetriever against a real running server (pytest-django's live_server, real HTTP)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from retrieval.langchain import VerityApiError, VerityRetriever

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served_kb(publish, live_server, settings):
    settings.VERITY_BASE_URL = "https://kb.example.org"  # links point at the public site, not the server asked
    publish("rueckgabe-widerruf", title="Rückgabe und Widerruf",
            body="Sie können Ihren Vertrag innerhalb von 14 Tagen ohne Angabe von Gründen widerrufen.")
    publish("widerruf-intern", title="Widerruf intern", audience="internal",
            body="Widerruf nach Fristende: Teamleitung darf bis 30 Tage kulant widerrufen lassen. Codewort Eisvogel.")
    return live_server


def test_retriever_returns_documents_citing_slug_version_and_url(served_kb, make_key):
    key = make_key("chatbot", "public")
    retriever = VerityRetriever(base_url=served_kb.url, api_key=key.raw, k=3, locale="de")

    docs = retriever.invoke("Vertrag widerrufen Frist Eisvogel")

    assert [type(doc) for doc in docs] == [Document]
    [doc] = docs
    assert doc.metadata == {
        "slug": "rueckgabe-widerruf", "locale": "de", "title": "Rückgabe und Widerruf", "version": 1,
        "score": doc.metadata["score"], "url": "https://kb.example.org/articles/rueckgabe-widerruf/", "state": "current",
    }
    assert 0 < doc.metadata["score"] <= 1
    assert doc.page_content.startswith("Rückgabe und Widerruf\n")
    assert "innerhalb von 14 Tagen" in doc.page_content
    assert "Eisvogel" not in doc.page_content


def test_retriever_with_an_internal_key_also_gets_internal_articles(served_kb, make_key):
    key = make_key("agent-assist", "internal")

    docs = VerityRetriever(base_url=served_kb.url + "/", api_key=key.raw, k=3).invoke("Widerruf nach Fristende Eisvogel")

    assert [doc.metadata["slug"] for doc in docs][0] == "widerruf-intern"
    assert {doc.metadata["slug"] for doc in docs} == {"widerruf-intern", "rueckgabe-widerruf"}


def test_retriever_k_limits_the_documents(served_kb, make_key, publish):
    for n in range(3):
        publish(f"widerruf-formular-{n}", body=f"Widerrufsformular {n}: Vertrag widerrufen per Formular.")
    key = make_key("chatbot", "public")

    docs = VerityRetriever(base_url=served_kb.url, api_key=key.raw, k=2).invoke("Vertrag widerrufen")

    assert len(docs) == 2


def test_wrong_key_raises_verity_api_error_401(served_kb, make_key):
    make_key("chatbot", "public")
    retriever = VerityRetriever(base_url=served_kb.url, api_key="vk_not-a-key", k=3)

    with pytest.raises(VerityApiError) as raised:
        retriever.invoke("Vertrag widerrufen")

    assert (raised.value.status, raised.value.code, raised.value.message) == (401, "invalid_api_key", "Unknown API key.")


def test_revoked_key_raises_verity_api_error_403(served_kb, make_key):
    from retrieval.apikeys import apikey_revoke

    key = make_key("chatbot", "public")
    apikey_revoke(name="chatbot")

    with pytest.raises(VerityApiError) as raised:
        VerityRetriever(base_url=served_kb.url, api_key=key.raw).invoke("Vertrag widerrufen")

    assert (raised.value.status, raised.value.code) == (403, "api_key_revoked")
