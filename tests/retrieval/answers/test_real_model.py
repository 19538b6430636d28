"""The default model itself (Qwen2.5-Coder-1.5B, installed by `dev.py install`) answers, refuses and is verified.

A handful of tests, each a few model calls on the embedded server (shared with the rest of this
checkout). Skipped only where the model is not installed (`VERITY_SKIP_MODEL=1`).
"""

from __future__ import annotations

import re

import pytest

from retrieval.answers.pipeline import answer_question
from retrieval.answers.verification import numbers_in

RETURNS = (
    "# Rückgabe im Online-Shop\n\n## Frist\n\nGeräte aus dem Online-Shop können Sie innerhalb von 14 Tagen ab Erhalt "
    "der Ware zurückgeben. Das Rücksendeetikett ist kostenlos.\n\n## Erstattung\n\nDen Kaufpreis erstatten wir "
    "innerhalb von 10 Tagen nach Eingang der Rücksendung."
)
HOTLINE = (
    "# Hotline\n\n## Erreichbarkeit\n\nUnsere Hotline 0800 123 4567 erreichen Sie montags bis freitags von 8 bis 20 Uhr. "
    "Samstags sind wir von 9 bis 14 Uhr für Sie da."
)


@pytest.fixture
def shop(publish):
    publish("rueckgabe", body=RETURNS, title="Rückgabe im Online-Shop")
    publish("hotline", body=HOTLINE, title="Hotline")


def _verified(result) -> None:
    """Every sentence cites a source, and every number stands in what it cites."""
    quotes = " ".join(c.quote for c in result.citations)
    for sentence in re.split(r"(?<=\])\s+", result.answer.strip()):
        assert re.search(r"\[\d+\]$", sentence), sentence
        assert numbers_in(re.sub(r"\[\d+\]", "", sentence)) <= numbers_in(quotes), sentence


def test_the_model_answers_a_question_the_article_answers(shop, real_model):
    result = answer_question(question="Wie lange habe ich Zeit, ein im Online-Shop gekauftes Handy zurückzuschicken?",
                             audience="public", locale="de", endpoint=real_model)

    assert result.status == "answered", (result.reason, result.dropped)
    assert "14 Tage" in result.answer
    assert {c.slug for c in result.citations} == {"rueckgabe"}
    _verified(result)


def test_the_model_answers_with_the_asked_figure_not_the_neighbouring_one(shop, real_model):
    result = answer_question(question="Wann ist die Hotline am Samstag erreichbar?", audience="public", locale="de",
                             endpoint=real_model)

    assert result.status == "answered", (result.reason, result.dropped)
    assert "9 bis 14 Uhr" in result.answer
    _verified(result)


def test_the_model_does_not_answer_what_the_articles_do_not_say(shop, real_model):
    result = answer_question(question="Kann ich bei euch auch mit Bitcoin bezahlen?", audience="public", locale="de",
                             endpoint=real_model)

    assert result.status == "refused", result.answer
    assert result.citations == []
