"""The score of a translation without a model: facts and glossary terms kept, back-translation agreement."""

from __future__ import annotations

from retrieval.text.translation import (
    GlossaryRule,
    agreement,
    forbidden_replace,
    score,
    split_sections,
    survival,
    word_differences,
)

SOURCE = ("Öffnen Sie Mein Konto > Bestellungen > Rücksendung. Das Etikett kostet 4,95 € und gilt bis zum 1. März 2027. "
          "Die Frist beträgt 14 Tage, Hotline 0800 123 4567.")
FAITHFUL = ("Open My Account > Orders > Return. The label costs €4.95 and is valid until 1 March 2027. "
            "The deadline is 14 days, hotline 0800 123 4567.")
RULES = [GlossaryRule(term="Mein Konto", required="My Account", forbidden=("My Profile",))]


def _missing(target: str) -> list[tuple[str, str]]:
    return [(item.kind, item.text) for item in survival(SOURCE, target, source_locale="de", target_locale="en",
                                                         glossary=RULES) if not item.kept]


def test_a_faithful_translation_keeps_every_number_amount_date_path_and_term():
    items = survival(SOURCE, FAITHFUL, source_locale="de", target_locale="en", glossary=RULES)

    assert [(item.kind, item.text, item.kept) for item in items] == [
        ("menu_path", "Öffnen Sie Mein Konto > Bestellungen > Rücksendung", True),
        ("amount", "4,95 €", True),
        ("date", "1. März 2027", True),
        ("duration", "14 Tage", True),
        ("phone", "0800 123 4567", True),
        ("glossary", "Mein Konto", True),
    ]


def test_a_dropped_or_changed_number_is_missing_with_its_source_sentence():
    assert _missing(FAITHFUL.replace("14 days", "ten days")) == [("duration", "14 Tage")]
    assert _missing(FAITHFUL.replace("14 days", "two weeks")) == []  # the same period, written otherwise
    assert _missing(FAITHFUL.replace("€4.95", "€5.95")) == [("amount", "4,95 €")]
    assert _missing(FAITHFUL.replace("1 March 2027", "1 May 2027")) == [("date", "1. März 2027")]
    (item,) = [i for i in survival(SOURCE, FAITHFUL.replace("14 days", "ten days"), source_locale="de",
                                   target_locale="en", glossary=RULES) if not i.kept]
    assert item.context == "Die Frist beträgt 14 Tage, Hotline 0800 123 4567."


def test_a_menu_path_with_a_step_lost_or_a_glossary_term_written_otherwise_is_missing():
    assert _missing(FAITHFUL.replace("My Account > Orders > Return", "Orders > Return")) == [
        ("menu_path", "Öffnen Sie Mein Konto > Bestellungen > Rücksendung"), ("glossary", "Mein Konto")]
    assert _missing(FAITHFUL.replace("> Return", "> Return > Label")) == [
        ("menu_path", "Öffnen Sie Mein Konto > Bestellungen > Rücksendung")]
    assert _missing(FAITHFUL.replace("My Account", "My Profile")) == [("glossary", "Mein Konto")]


def test_forbidden_variants_are_replaced_by_the_required_form_in_any_case_as_whole_words():
    rules = [GlossaryRule(term="VerityBox", required="VerityBox", forbidden=("Verity Box", "Verity-Box"), do_not_translate=True)]

    text, replaced = forbidden_replace("Send the verity box back. The Verity-Boxes stay.", rules)

    assert text == "Send the VerityBox back. The Verity-Boxes stay."
    assert replaced == [("Verity Box", "VerityBox")]


def test_a_dropped_number_lowers_the_score():
    total = len(survival(SOURCE, FAITHFUL, source_locale="de", target_locale="en", glossary=RULES))

    assert score(agreement_share=0.8, kept=total, total=total, agreement_weight=0.4) == (92, 80, 100)
    assert score(agreement_share=0.8, kept=total - 1, total=total, agreement_weight=0.4) == (82, 80, 83)
    assert score(agreement_share=0.8, kept=0, total=0, agreement_weight=0.4) == (92, 80, 100)


def test_agreement_is_one_for_the_same_text_and_falls_with_what_the_back_translation_lost():
    same = agreement(SOURCE, SOURCE)
    lost = agreement(SOURCE, "Öffnen Sie Mein Konto. Das Etikett kostet etwas.")

    assert same == 1.0
    assert 0.0 < lost < 0.6


def test_the_differing_words_are_marked_on_both_sides():
    assert word_differences("Die Frist beträgt 14 Tage.", "Die Frist ist 10 Tage.") == [
        ("same", "Die Frist"), ("source", "beträgt 14"), ("back", "ist 10"), ("same", "Tage.")]


def test_long_articles_are_cut_before_headings_and_between_paragraphs():
    body = "# Titel\n\nEins.\n\n## Teil\n\n" + "a" * 50 + "\n\n" + "b" * 50 + "\n\n| x | y |\n|---|---|\n| 1 | 2 |"

    assert split_sections(body, max_chars=60) == [
        "# Titel\n\nEins.", "## Teil\n\n" + "a" * 50, "b" * 50, "| x | y |\n|---|---|\n| 1 | 2 |"]
