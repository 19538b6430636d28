"""Comparing an answer with a reference reply, fact by fact."""

from __future__ import annotations

from retrieval.text.agreement import compare_facts


def test_same_values_agree_and_citation_marks_and_placeholders_are_ignored():
    comparison = compare_facts("Die Frist beträgt 14 Tage ab Erhalt, [NAME]. Das kostet 4,95 €.",
                               "Sie können innerhalb von 14 Tagen ab Erhalt zurückgeben. [1] Das Etikett kostet 4,95 €. [2]")

    assert (comparison.stated, comparison.agreeing, comparison.differences) == (2, 2, ())


def test_a_different_value_of_the_same_kind_next_to_the_same_words_is_a_contradiction():
    comparison = compare_facts("Geräte können Sie innerhalb von 30 Tagen ab Erhalt der Ware zurückgeben.",
                               "Die Widerrufsfrist beträgt 14 Tage ab Erhalt der Ware. [1]")

    assert [(d.kind, d.stated, d.answer) for d in comparison.differences] == [("contradicted", "30 Tagen", "14 Tage")]
    assert str(comparison.differences[0]) == "agent: 30 Tagen, answer: 14 Tage"


def test_values_the_answer_does_not_state_are_missing():
    comparison = compare_facts("Die Ersatz-SIM kostet 14,95 € und kommt in 2 bis 3 Werktagen.",
                               "Sperren Sie die SIM-Karte sofort in der App. [1]")

    assert [(d.kind, d.stated) for d in comparison.differences] == [("missing", "14,95 €"), ("missing", "2 bis 3 Werktagen")]
    assert comparison.agreeing == 0


def test_other_magnitudes_are_not_contradictions_and_a_repeated_value_counts_once():
    comparison = compare_facts("Nach 30 Minuten ist die Karte aktiv. Nach 30 Minuten ist sie aktiv.",
                               "Die Rückgabe ist 14 Tage möglich. [1]")

    assert [(d.kind, d.stated) for d in comparison.differences] == [("missing", "30 Minuten")]


def test_word_overlap_is_the_share_of_the_references_content_words_in_the_answer():
    assert compare_facts("Rückgabe im Shop", "Die Rückgabe im Shop ist möglich.").overlap == 1.0
    assert compare_facts("Rückgabe im Shop", "Tarif wechseln.").overlap == 0.0
