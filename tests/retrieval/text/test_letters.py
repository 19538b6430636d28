"""Letters: greeting, body and signature of ticket messages, and the names and addresses in them."""

from __future__ import annotations

import pytest

from retrieval.answers.redaction import redact
from retrieval.text.letters import split_letter


def test_greeting_and_closing_with_signature_are_split_from_the_body():
    letter = split_letter("Hallo Herr Berger,\n\nwie lange kann ich zurückgeben?\n\nViele Grüße\nPetra Schneider\nTel. 0171")

    assert letter.greeting == "Hallo Herr Berger,"
    assert letter.body == "wie lange kann ich zurückgeben?"
    assert letter.closing == "Viele Grüße\nPetra Schneider\nTel. 0171"


@pytest.mark.parametrize(("text", "body"), [
    ("Sehr geehrte Damen und Herren,\nich möchte kündigen.\nMit freundlichen Grüßen\nDr. Helga Brandstätter", "ich möchte kündigen."),
    ("Sehr geehrte Frau Dr. Brandstätter,\n\nbitte senden Sie den Router zurück.", "bitte senden Sie den Router zurück."),
    ("Hallo zusammen, wie lange dauert die Rückgabe? Danke! LG Anna", "wie lange dauert die Rückgabe? Danke!"),
    ("Hi,\nhow long does porting take?\nBest regards,\nOliver Grant", "how long does porting take?"),
    ("Wie lange dauert die Rückgabe?", "Wie lange dauert die Rückgabe?"),
    ("Guten Tag ich habe eine Frage. Wie lange dauert es?", "Guten Tag ich habe eine Frage. Wie lange dauert es?"),
    ("Hallo,\nwie lange dauert das?\n\n[NAME]\n[EMAIL]", "wie lange dauert das?"),
])
def test_letter_bodies(text, body):
    assert split_letter(text).body == body


@pytest.mark.parametrize(("text", "redacted"), [
    ("Hallo Herr Berger, danke.", "Hallo Herr [NAME], danke."),
    ("Sehr geehrte Frau Dr. Anna-Lena Roth,", "Sehr geehrte Frau Dr. [NAME],"),
    ("Hallo Petra,\ndie Frist beträgt 14 Tage.", "Hallo [NAME],\ndie Frist beträgt 14 Tage."),
    ("Danke und viele Grüße\nAylin Demir", "Danke und viele Grüße\n[NAME]"),
    ("Grüße\nKevin und Laura Schmid", "Grüße\n[NAME]"),
    ("Gruß, Herr Müller", "Gruß, Herr [NAME]"),
    ("Guten Tag, mein Name ist Jonas Weber.", "Guten Tag, mein Name ist [NAME]."),
    ("Wir wohnen in der Lindenallee 5a in 80331 München.", "Wir wohnen in der [ADDRESS] in [ADDRESS]."),
    ("Hauptstraße 12, 83022 Rosenheim", "[ADDRESS], [ADDRESS]"),
    ("Hallo,\nwie lange?\n\nPeter Pan", "Hallo,\nwie lange?\n\n[NAME]"),
    # no person: generic addressees, a team, a subject line, amounts and periods stay
    ("Sehr geehrte Damen und Herren,", "Sehr geehrte Damen und Herren,"),
    ("Hallo Alpenfunk-Team,\nmein Datenvolumen ist leer.", "Hallo Alpenfunk-Team,\nmein Datenvolumen ist leer."),
    ("Kündigungsfrist Handyvertrag", "Kündigungsfrist Handyvertrag"),
    ("Viele Grüße\nIhr Service-Team", "Viele Grüße\nIhr Service-Team"),
    ("Die Pauschale beträgt 89,00 € und gilt 30 Tage ab dem 01.11.2026.", "Die Pauschale beträgt 89,00 € und gilt 30 Tage ab dem 01.11.2026."),
])
def test_names_and_addresses_in_letters_are_redacted(text, redacted):
    assert redact(text, letters=True).text == redacted


def test_questions_are_redacted_as_before_without_letters():
    # questions: a name after a form of address is redacted by the question rules too (#14 item 7)
    assert redact("Hallo Herr Berger, meine Nummer ist 0171 2345678.").text == "Hallo Herr [NAME], meine Nummer ist [PHONE]."
