"""One number reader for all of Verity: German and English decimals, thousands and units."""

from __future__ import annotations

import pytest

from retrieval.text.facts import extract_facts
from retrieval.text.numbers import numbers_in, parse_number, quantities


@pytest.mark.parametrize(
    ("token", "language", "expected"),
    [
        ("1.000,50", "de", 1000.5),
        ("1,000.50", "en", 1000.5),
        ("2,500", "de", 2.5),
        ("2,500", "en", 2500.0),
        ("1.5", "en", 1.5),
        ("1.500", "de", 1500.0),
        ("14,95", "de", 14.95),
        ("0,00", "de", 0.0),
        ("5.000", "de", 5000.0),
        ("65,–", "de", 65.0),
        ("zwölf", "de", 12.0),
        ("1.2.3", "de", None),
    ],
)
def test_parse_number_reads_the_notation_of_the_language(token, language, expected):
    assert parse_number(token, language) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14,95 €", (("money", 14.95),)),
        ("0,00 €", (("money", 0.0),)),
        ("5.000 kWh", (("word:kwh", 5000.0),)),
        ("1.000,50 €", (("money", 1000.5),)),
        ("2,500 €", (("money", 2.5),)),
    ],
)
def test_quantities_use_the_same_reader(text, expected):
    assert quantities(text, "de") == expected


def test_english_quantities_read_english_thousands():
    assert quantities("2,500 € a year", "en") == (("money", 2500.0),)


def test_facts_use_the_same_reader():
    (fee,) = [fact for fact in extract_facts("Die Gebühr beträgt 1.000,50 € einmalig.", "de") if fact.type == "money"]
    assert fee.value == (1000.5,)
    (free,) = [fact for fact in extract_facts("Die Lieferung kostet 0,00 €.", "de") if fact.type == "money"]
    assert free.value == (0.0,)


def test_numbers_in_is_a_notation_free_comparison_key():
    assert numbers_in("14,95 € und 1.000 Minuten") == {"14.95", "1000"}
    assert numbers_in("€14.95 and 1,000 minutes") == {"14.95", "1000"}


@pytest.mark.parametrize(("sentence", "language", "expected"), [
    ("Die Deckungssumme beträgt 50 Mio. € pauschal.", "de", (50_000_000.0,)),
    ("Versicherungssumme: 10 Millionen Euro", "de", (10_000_000.0,)),
    ("bis 1,5 Mio. EUR je Schadenfall", "de", (1_500_000.0,)),
    ("Deckung bis 3 Mrd. €", "de", (3_000_000_000.0,)),
    ("Cover of EUR 2 million per claim.", "en", (2_000_000.0,)),
    ("Cover up to EUR 1 billion.", "en", (1_000_000_000.0,)),
    ("Deckung 1–2 Mio. € je Fall", "de", (1_000_000.0, 2_000_000.0)),
    ("Die Gebühr beträgt 150 €.", "de", (150.0,)),
])
def test_amounts_are_read_with_their_scale_word(sentence, language, expected):
    # "50 Mio. €" is fifty million, not a count of 50 "Mio" or a fee of 50 €
    (amount,) = [fact for fact in extract_facts(sentence, language) if fact.type == "money"]
    assert amount.value == expected
    assert amount.unit.startswith("money:EUR")


def test_a_count_is_read_with_its_scale_word():
    (count,) = [fact for fact in extract_facts("Wir betreuen 2 Millionen Kunden.", "de") if fact.type == "count"]
    assert count.value == (2_000_000.0,)
    assert not [fact for fact in extract_facts("Die Summe liegt bei 50 Mio.", "de") if fact.type == "count"]


@pytest.mark.parametrize(("sentence", "language", "root"), [
    ("Sie finden die Option unter Rechnung und Zahlung > Zahlungsart.", "de", "rechnung und zahlung"),
    ("Open Billing and Payments > Payment method.", "en", "billing and payments"),
    ("Gehen Sie zu Profil und dann Einstellungen > Datenschutz.", "de", "einstellungen"),
])
def test_a_menu_item_named_with_a_conjunction_is_one_item(sentence, language, root):
    (path,) = [fact for fact in extract_facts(sentence, language) if fact.type == "path"]
    assert path.value[0].endswith(root)  # not only its last word ("zahlung")
