"""Evidence selection: days of the week, the asking sentence of a message, the confidence decision."""

from __future__ import annotations

import pytest

from retrieval import evidence
from retrieval.evidence import normalise_days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mo–Fr 8:00–20:00 Uhr, Sa 9:00–16:00 Uhr", "wdmo wdtu wdwe wdth wdfr wdwk 8:00–20:00 Uhr, wdsa 9:00–16:00 Uhr"),
        ("Mon–Fri 8:00–20:00, Sat 9:00–16:00", "wdmo wdtu wdwe wdth wdfr wdwk 8:00–20:00, wdsa 9:00–16:00"),
        ("Mo–Sa 8:00–22:00 Uhr", "wdmo wdtu wdwe wdth wdfr wdsa wdwk 8:00–22:00 Uhr"),
        ("Montag bis Freitag", "wdmo wdtu wdwe wdth wdfr wdwk"),
        ("bis wann kann ich samstags anrufen?", "bis wann kann ich wdsa anrufen?"),
        ("What time on weekdays?", "What time on wdwk?"),
        # abbreviations outside a schedule are words ("So erreichen Sie ...", "Do I ...")
        ("So erreichen Sie uns. Do I need a PIN?", "So erreichen Sie uns. Do I need a PIN?"),
    ],
)
def test_days_of_the_week_become_one_token_each(text, expected):
    assert normalise_days(text) == expected


@pytest.mark.django_db
def test_terms_of_the_story_around_the_question_count_half(monkeypatch):
    # given every term equally rare
    monkeypatch.setattr(evidence, "_idf", lambda terms: dict.fromkeys(terms, 2.0))
    # when a message tells a story and then asks
    weights = evidence._question_weights("Ich habe ein Handy bestellt. Wie lange dauert die Lieferung?", ["de"])["de"]
    # then the asking sentence's terms weigh fully, the story's half
    assert weights["liefer"] == 2.0
    assert weights["bestellt"] == 1.0
    assert weights["handy"] == 1.0


@pytest.mark.django_db
def test_a_single_question_weighs_all_its_terms_fully(monkeypatch):
    monkeypatch.setattr(evidence, "_idf", lambda terms: dict.fromkeys(terms, 2.0))
    weights = evidence._question_weights("Wie lange dauert die Lieferung, wenn ich ein Handy bestelle?", ["de"])["de"]
    assert set(weights.values()) == {2.0}


@pytest.mark.django_db
def test_opening_hours_by_weekday_are_covered(monkeypatch):
    monkeypatch.setattr(evidence, "_idf", lambda terms: dict.fromkeys(terms, 2.0))
    weights = evidence._question_weights("Bis wann seid ihr samstags erreichbar?", ["de"])
    row = "Erreichbarkeit: Mo–Fr 8:00–20:00 Uhr, Sa 9:00–16:00 Uhr"
    other = "Erreichbarkeit: rund um die Uhr"
    assert evidence._best_coverage(row, weights) > evidence._best_coverage(other, weights)


@pytest.mark.django_db
def test_a_prefixed_german_verb_covers_its_noun(monkeypatch):
    monkeypatch.setattr(evidence, "_idf", lambda terms: dict.fromkeys(terms, 2.0))
    weights = evidence._question_weights("Wie lange braucht ihr für die Antwort?", ["de"])
    answer = "Wir beantworten Ihren Antrag innerhalb von 1 Monat."
    unrelated = "Wir speichern Ihre Daten 6 Monate."
    assert evidence._best_coverage(answer, weights) > evidence._best_coverage(unrelated, weights)
    # short roots are never split off ("Vertrag" is not about "trag")
    assert evidence._root("vertrag", "de") == "vertrag"
    assert evidence._root("beantwort", "en") == "beantwort"
