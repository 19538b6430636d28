"""Bounded work per request (issue #14 item 4): no input makes one request do unbounded work."""

from __future__ import annotations

import pytest
from compound_split import char_split

from retrieval.text import tokens as analysis

LONGEST_SPLIT_WORD = 64


@pytest.fixture
def splitter_calls(monkeypatch) -> list[str]:
    """Words given to the compound splitter; one longer than the cap fails at once instead of running for minutes."""
    calls: list[str] = []
    real = char_split.split_compound

    def spy(word: str):
        calls.append(word)
        assert len(word) <= LONGEST_SPLIT_WORD, f"a {len(word)}-character word was given to the compound splitter"
        return real(word)

    monkeypatch.setattr(char_split, "split_compound", spy)
    analysis._split_compound.cache_clear()
    analysis._terms_for_word.cache_clear()
    yield calls
    analysis._split_compound.cache_clear()
    analysis._terms_for_word.cache_clear()


def test_a_long_compound_is_stemmed_but_not_split(splitter_calls):
    word = ("Donaudampfschifffahrtsgesellschaft" * 60)[:2000]

    terms = analysis.analyze(word, "de")

    assert len(terms) == 1
    assert splitter_calls == []


def test_compounds_up_to_the_cap_are_still_split(splitter_calls):
    assert "etikett" in analysis.analyze("Rücksendeetikett", "de")
    assert splitter_calls[0] == "rücksendeetikett"


def test_an_answer_question_of_one_long_compound_is_answered_without_splitting_it(splitter_calls, public_api):
    question = ("Rücksendeetikettenbestellformularausfüllhilfe" * 50)[:2000]

    response = public_api.post("/api/v1/answer", {"question": question}, format="json")

    assert response.status_code == 200
    assert all(len(word) <= LONGEST_SPLIT_WORD for word in splitter_calls)


def test_a_search_query_of_one_long_compound_is_answered_without_splitting_it(splitter_calls, public_api):
    response = public_api.get("/api/v1/search", {"q": ("Versandkostenpauschale" * 50)[:1000]})

    assert response.status_code == 200
    assert response.json() == {"results": []}
