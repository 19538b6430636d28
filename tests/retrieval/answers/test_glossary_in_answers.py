"""An answer that uses a forbidden variant of a glossary term gets the required form (the record says so)."""

from __future__ import annotations

from kb.models import GlossaryEntry
from retrieval.answers.pipeline import answer_question

RETURNS = ("# Rückgabe\n\nSie können im Webshop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware "
           "zurückgeben.")  # written before the shop was renamed


def test_a_forbidden_variant_in_an_answer_is_replaced_by_the_glossary_form(publish, standin, endpoint):
    publish("rueckgabe", body=RETURNS, title="Rückgabe")
    GlossaryEntry.objects.create(source_locale="en", target_locale="de", term="online shop", translation="Online-Shop",
                                 forbidden_variants=["Webshop"])
    standin.script.answer = "Sie können im Webshop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben. [1]"

    result = answer_question(question="Wie lange kann ich ein online gekauftes Gerät zurückgeben?", audience="public",
                             locale="de", endpoint=endpoint)

    assert result.status == "answered", result.dropped
    assert result.answer == "Sie können im Online-Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben. [1]"
    assert "glossary: 'Webshop' replaced by 'Online-Shop'" in result.dropped
