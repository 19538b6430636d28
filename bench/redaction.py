"""Redaction of personal data: the kinds tried and caught, and what it leaves alone.

    python -m bench.redaction           # the table (Markdown), as in the README
    python -m bench.redaction --misses  # also every example that was not caught, and every changed negative

An example is caught when its personal value is gone from the redacted text and the label says
what it is (a tax ID redacted as [PHONE] is not caught). The negatives are ordinary knowledge-base
and question text (amounts, dates of policies, article numbers, menu paths, opening hours, generic
greetings) that must come back unchanged; the knowledge bases of demo/ and eval/ and their questions
are run through as well. The examples are written for this file; the tests use the same ones
(tests/retrieval/answers/test_redaction.py). No database is needed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.answers.redaction import redact

ROOT = Path(__file__).resolve().parent.parent
# labels of business contact data that knowledge-base text legitimately contains (a hotline, a postal address)
CONTACT_LABELS = {"EMAIL", "PHONE", "ADDRESS"}


@dataclass(frozen=True)
class Example:
    kind: str
    label: str
    text: str
    secrets: tuple[str, ...]  # what must be gone afterwards


def _examples(kind: str, label: str, *cases: tuple[str, str | tuple[str, ...]]) -> list[Example]:
    return [Example(kind, label, text, (secret,) if isinstance(secret, str) else secret) for text, secret in cases]


EXAMPLES: list[Example] = [
    *_examples(
        "e-mail address", "EMAIL",
        ("Ich bin max.muster@example.de und warte auf Antwort.", "max.muster@example.de"),
        ("Schicken Sie die Rechnung an anna_schmidt+rechnung@web-mail.co.uk", "anna_schmidt+rechnung@web-mail.co.uk"),
        ("My email is j.doe@mail.example.com, please reply.", "j.doe@mail.example.com"),
    ),
    *_examples(
        "e-mail spelled out", "EMAIL",
        ("Schreiben Sie mir an max punkt muster at gmail punkt com", ("max", "muster", "gmail")),
        ("meine mail: anna [at] web [dot] de", ("anna", "web")),
        ("Erreichbar unter k.meier (at) gmx.de", ("k.meier", "gmx")),
        ("Mail an peter.lustig ät t-online punkt de bitte", ("peter.lustig", "t-online")),
        ("write to john dot smith at outlook dot com", ("john", "smith", "outlook")),
        ("Adresse: lisa.m at posteo.de", ("lisa.m", "posteo")),
    ),
    *_examples(
        "phone number", "PHONE",
        ("Rufen Sie mich an: +49 170 1234567", "170 1234567"),
        ("Meine Handynummer ist 0171/2345678.", "2345678"),
        ("Tel. (089) 123 456 78", "123 456 78"),
        ("Bitte Rückruf unter 0049 30 98765432", "98765432"),
        ("Telefon: 30 1234 5678", "1234 5678"),
    ),
    *_examples(
        "phone number spelled out", "PHONE",
        ("Meine Nummer: null eins sieben zwei drei vier fünf sechs sieben acht neun", "drei vier fünf"),
        ("ruf mich an null eins fünf eins, eins zwei drei vier fünf sechs sieben", "zwei drei vier"),
        ("Handy null 171 zwei drei vier fünf sechs sieben", "zwei drei vier"),
        ("plus vier neun eins sieben null eins zwei drei vier fünf", "eins zwei drei"),
        ("call me on zero seven nine one two three four five six", "three four five"),
    ),
    *_examples(
        "IBAN", "IBAN",
        ("Abbuchung von DE89 3704 0044 0532 0130 00 bitte stoppen", "3704 0044 0532"),
        ("IBAN: GB82WEST12345698765432", "GB82WEST12345698765432"),
    ),
    *_examples(
        "payment card", "CARD",
        ("Karte 4111 1111 1111 1111 wurde doppelt belastet", "4111 1111 1111 1111"),
        ("card number 5500-0000-0000-0004", "5500-0000-0000-0004"),
    ),
    *_examples(
        "street address", "ADDRESS",
        ("Ich wohne in der Hauptstraße 12, 80331 München.", ("Hauptstraße 12", "80331")),
        ("Neue Anschrift: Musterweg 3a\n12345 Musterstadt", ("Musterweg 3a", "12345 Musterstadt")),
        ("Lieferung an Berliner Str. 5 in Köln bitte", "Berliner Str. 5"),
        ("Konrad-Adenauer-Straße 1, 53113 Bonn", ("Adenauer", "53113")),
        ("Wir sind umgezogen: Am Sonnenhang 7, 01067 Dresden", ("Sonnenhang 7", "01067")),
        ("Paket bitte an die Lindenallee 23-25 schicken", "Lindenallee 23-25"),
        ("Rechnungsadresse 10115 Berlin, Schillerplatz 4", ("10115 Berlin", "Schillerplatz 4")),
        ("I moved to 221B Baker Street, London.", "221B Baker Street"),
    ),
    *_examples(
        "name after an introduction", "NAME",
        ("Mein Name ist Max Mustermann und ich habe eine Frage zur Rechnung.", ("Max", "Mustermann")),
        ("mein name ist max mustermann wie kann ich kündigen", ("max", "mustermann")),
        ("Ich heiße Anna-Lena Schmidt. Wie lange dauert die Lieferung?", ("Anna-Lena", "Schmidt")),
        ("Guten Tag, hier spricht Jürgen Weber von nebenan.", "Jürgen Weber"),
        ("My name is John Smith and I want to cancel.", "John Smith"),
        ("Name: Ludwig van Beethoven, Kundennummer folgt", ("Ludwig", "Beethoven")),
    ),
    *_examples(
        "name after a greeting", "NAME",
        ("Hallo Frau Müller, ich habe eine Frage zum Tarif.", "Müller"),
        ("Sehr geehrter Herr Dr. Schmidt,\nwie kann ich kündigen?", "Schmidt"),
        ("Liebe Anna, danke für die schnelle Hilfe.", "Anna"),
        ("Hi Tobias, wo finde ich meine Rechnung?", "Tobias"),
        ("Dear Mrs Johnson, my parcel did not arrive.", "Johnson"),
    ),
    *_examples(
        "name in a closing", "NAME",
        ("Bitte um Rückruf.\nMit freundlichen Grüßen\nMax Mustermann", ("Max", "Mustermann")),
        ("Danke im Voraus. Viele Grüße\nanna", "anna"),
        ("Vielen Dank! Beste Grüße, Katrin Vogel", ("Katrin", "Vogel")),
        ("Thanks for your help.\nKind regards,\nEmily Clarke", ("Emily", "Clarke")),
        ("Das wäre super. LG, Sabine", "Sabine"),
    ),
    *_examples(
        "name after Frau, Herr, Mr, Mrs", "NAME",
        ("Ich habe gestern mit Frau Schneider telefoniert.", "Schneider"),
        ("Der Vertrag läuft auf Herrn Özdemir.", "Özdemir"),
        ("Mr. Thompson called about the invoice.", "Thompson"),
    ),
    *_examples(
        "birth date", "BIRTH_DATE",
        ("Ich bin geboren am 03.04.1985 und möchte den Jugendtarif.", "03.04.1985"),
        ("Mein Geburtsdatum ist der 3. April 1985.", "3. April 1985"),
        ("Geburtsdatum: 1985-04-03", "1985-04-03"),
        ("geb. 7.11.62, Vertrag läuft auf mich", "7.11.62"),
        ("Mein Geburtstag ist am 24.12.1990", "24.12.1990"),
        ("date of birth: March 5, 1979", "March 5, 1979"),
    ),
    *_examples(
        "VAT ID", "VAT_ID",
        ("Unsere USt-IdNr.: DE123456788", "DE123456788"),
        ("Bitte die Umsatzsteuer-ID DE 136 695 976 auf die Rechnung setzen", "136 695 976"),
        ("Rechnung an Firma mit DE811569869", "DE811569869"),
        ("Our VAT number is ATU12345678", "ATU12345678"),
        ("VAT ID NL123456789B01 for the invoice please", "NL123456789B01"),
    ),
    *_examples(
        "ID card or passport number", "ID_CARD",
        ("Meine Personalausweisnummer ist L01X00T47", "L01X00T47"),
        ("Mein Ausweis hat die Nummer T22000129", "T22000129"),
        ("Ausweis-Nr.: LZ6311T47", "LZ6311T47"),
        ("Reisepassnummer C01X00T47 für die Buchung", "C01X00T47"),
        ("Hier ist der Code von der Karte: L01X00T471", "L01X00T471"),
    ),
    *_examples(
        "tax ID (Steuer-ID)", "TAX_ID",
        ("Meine Steuer-ID ist 12 345 678 901", "12 345 678 901"),
        ("Steueridentifikationsnummer 86095742719", "86095742719"),
        ("Die IdNr. lautet 47036892816.", "47036892816"),
        ("Für den Freistellungsauftrag: 65929970489", "65929970489"),
        ("tax ID 57549285017", "57549285017"),
    ),
    *_examples(
        "tax number (Steuernummer)", "TAX_ID",
        ("Steuernummer 21/815/08150", "21/815/08150"),
        ("St.-Nr. 181/815/08155 beim Finanzamt", "181/815/08155"),
        ("meine Steuernummer lautet 9181081508155", "9181081508155"),
    ),
    *_examples(
        "social-insurance number", "SOCIAL_INSURANCE_NO",
        ("Meine Rentenversicherungsnummer ist 65 170839 J 00 3", "170839"),
        ("Sozialversicherungsnummer: 12 120485 M 51 0", "120485"),
        ("SV-Nummer 15070649C103 für die Bescheinigung", "15070649C103"),
        ("Die Nummer 53 270139 M 50 8 steht auf dem Ausweis", "270139"),
        ("social security number 123-45-6789", "123-45-6789"),
    ),
    *_examples(
        "health-insurance number", "HEALTH_INSURANCE_NO",
        ("Versichertennummer A123456780", "A123456780"),
        ("Meine Krankenversichertennummer ist Z 987 654 321", "987 654 321"),
        ("KVNR: B112233445", "B112233445"),
    ),
]

# Written after the patterns were settled, to see how they do on phrasings they were not developed
# with. The first run caught 29 of 33 (a spelled-out "elf", a closing "Viele Grüße aus Hamburg" with
# the name on the next line, a date before "geboren", "Geb.-Datum"); those four were fixed after, so
# this set is no longer unseen.
HELD_OUT: list[Example] = [
    *_examples("e-mail spelled out", "EMAIL",
               ("Meine E-Mail ist sandra punkt berger at icloud punkt com", ("sandra", "berger", "icloud")),
               ("schreib an tim-mueller at hotmail.de", ("tim-mueller", "hotmail")),
               ("info at meinefirma dot eu", "meinefirma")),
    *_examples("phone number", "PHONE",
               ("Meine Festnetznummer: 030-12345678", "12345678"),
               ("WhatsApp +43 664 1234567", "664 1234567")),
    *_examples("phone number spelled out", "PHONE",
               ("Nummer: null drei null, vier vier fünf fünf sechs sechs sieben", "vier vier fünf"),
               ("null acht neun eins zwei drei vier fünf sechs", "zwei drei vier"),
               ("Sie erreichen mich unter null sieben elf zwei drei vier fünf sechs", "zwei drei vier")),
    *_examples("street address", "ADDRESS",
               ("Bitte an Goethestr. 17, 60313 Frankfurt am Main senden", ("Goethestr. 17", "60313")),
               ("wohne jetzt in der Bahnhofstraße 3b", "Bahnhofstraße 3b"),
               ("Lieferadresse: An der Alster 40, 20099 Hamburg", ("Alster 40", "20099")),
               ("Unsere neue Adresse ist Friedrich-Ebert-Allee 120", "Friedrich-Ebert-Allee 120"),
               ("Rückgabe an Kirchgasse 2 ist erledigt", "Kirchgasse 2"),
               ("My address is 12 Oak Road, Leeds", "12 Oak Road")),
    *_examples("name after an introduction", "NAME",
               ("Hallo, mein Name ist Petra Hoffmann.", ("Petra", "Hoffmann")),
               ("Ich heiße Lukas und bin 17.", "Lukas"),
               ("Hello, my name is Sarah O'Connor.", ("Sarah", "O'Connor"))),
    *_examples("name after a greeting", "NAME",
               ("Guten Morgen Herr Schulz, meine Rechnung fehlt.", "Schulz"),
               ("Sehr geehrte Frau Prof. Dr. Klein,\nich bitte um Auskunft.", "Klein")),
    *_examples("name in a closing", "NAME",
               ("Viele Grüße aus Hamburg\nJonas Becker", ("Jonas", "Becker")),
               ("MfG\nThomas Wagner", ("Thomas", "Wagner"))),
    *_examples("birth date", "BIRTH_DATE",
               ("Ich wurde am 12.08.1975 geboren.", "12.08.1975"),
               ("Geb.-Datum 01.02.2003", "01.02.2003"),
               ("I was born on 14 July 1990.", "14 July 1990")),
    *_examples("VAT ID", "VAT_ID",
               ("USt-ID: DE 129 273 398", "129 273 398"),
               ("VAT: FR40303265045", "FR40303265045")),
    *_examples("ID card or passport number", "ID_CARD",
               ("Personalausweis-Nr. LZ6311T475", "LZ6311T475"),
               ("passport number C01X00T47", "C01X00T47")),
    *_examples("tax ID (Steuer-ID)", "TAX_ID",
               ("Steuer-IdNr. 25768131411", "25768131411"),
               ("Identifikationsnummer: 86 095 742 719", "86 095 742 719")),
    *_examples("social-insurance number", "SOCIAL_INSURANCE_NO",
               ("RV-Nummer 04 010180 A 12 2", "010180"),
               ("Rentenversicherungsnr. 65170839J003", "65170839J003")),
    *_examples("health-insurance number", "HEALTH_INSURANCE_NO",
               ("Krankenversichertennummer: M 123 456 789", "123 456 789"),),
]

NEGATIVES: list[str] = [
    # amounts, dates of policies, periods
    "Der Tarif gilt ab 01.01.2027 und kostet 29,99 € pro Monat.",
    "Vom 01.03. bis 31.03.2027 gibt es 10 % Rabatt auf alle Zubehörteile.",
    "Aktion 01.03.-31.03.2027 verlängert bis 30.04.2027",
    "Die Deckungssumme beträgt 10000000 Euro, die Selbstbeteiligung 1.234,56 €.",
    "Rechnung 2026-04-17 über 1.234.567,89 Euro",
    "Die Kündigungsfrist beträgt 3 Monate zum 31.12.",
    "Der Vertrag läuft 24 Monate, danach ist er monatlich kündbar.",
    "Die Lieferung dauert 2 bis 3 Werktage, Versand ab 49 Euro kostenlos.",
    "Erstattet werden bis zu 1.500 € je Schadensfall, höchstens 3.000 € im Jahr.",
    "Cancellation is free until 14 days before departure; from 13 days it costs 25 %.",
    # article numbers, versions, laws, ISBNs
    "Artikelnummer 4711-0815 ist nicht lieferbar.",
    "Art.-Nr. 0815-4711-22 nachbestellen",
    "Bestellnummer 0012345678 ist nicht angekommen",
    "Version 3.2.1 vom 12.05.2026 behebt den Fehler.",
    "ISBN 978-3-16-148410-0",
    "Nach § 355 Abs. 1 BGB beträgt die Frist 14 Tage.",
    "Paragraph 312g BGB regelt das Widerrufsrecht.",
    "Tarif Smart 10 mit 50000 Kilometern pro Jahr",
    "Die Firewall 2 blockiert den Port 8080.",
    "Speicherplatz 5 GB zusätzlich buchen",
    # menu paths, steps, places that are no address
    "Einstellungen > Konto > Persönliche Daten > Adresse ändern",
    "Menü Hilfe > Kontakt > Rückruf anfordern, Schritt 3 von 5",
    "Im Menü 3 wählen Sie Konto.",
    "Fährt der Zug von Bahnsteig 3 ab?",
    "Gleis 12 ist wegen Bauarbeiten gesperrt.",
    "Der Weg 3 führt zum Ziel.",
    "Go to Settings > Account > Address and save.",
    # opening hours, times
    "Öffnungszeiten Mo.-Fr. 8-18 Uhr, Sa. 9-13 Uhr",
    "Hotline-Zeiten: 08:00-20:00 Uhr",
    "Die Latenz liegt bei 50 ms im Durchschnitt.",
    # greetings and closings without a name, forms of address as nouns, labels without a value
    "Sehr geehrte Damen und Herren, wie kann ich kündigen?",
    "Hallo zusammen, gibt es ein Update?",
    "Hallo Team, wo finde ich die Rechnung?",
    "Liebe Grüße und danke",
    "Mit freundlichen Grüßen\nIhr Kundenservice",
    "Vielen Dank im Voraus!",
    "Meine Frau möchte den Vertrag kündigen.",
    "Ich liebe Kaffee und Kuchen.",
    "Mein Name ist falsch geschrieben, wie ändere ich ihn?",
    "Geburtsdatum angeben und Ausweis hochladen",
    "Die Steuer-ID finden Sie auf dem Bescheid.",
    "Die Versicherungsnummer steht auf der Karte.",
    "Kundennummer und Vertragsnummer finden Sie oben rechts.",
    "LG Fernseher zeigt kein Bild",
    "Postleitzahl 10115 gilt für Berlin-Mitte",
    "Zahlen Sie per Lastschrift, Kreditkarte oder PayPal.",
    "Ich habe eine Frage zu Ihrem Angebot 2027.",
    "Thanks in advance for your help!",
]


@dataclass(frozen=True)
class Outcome:
    example: Example
    redacted: str
    caught: bool


def run_example(example: Example) -> Outcome:
    result = redact(example.text)
    gone = all(secret not in result.text for secret in example.secrets)
    return Outcome(example, result.text, gone and f"[{example.label}]" in result.text)


def _corpus() -> tuple[list[str], list[str]]:
    """The paragraphs of the knowledge bases in demo/ and eval/, and their questions."""
    paragraphs: list[str] = []
    for path in sorted([*ROOT.glob("demo/kb/**/*.md"), *ROOT.glob("eval/*/kb/**/*.md")]):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        paragraphs.extend(part for part in re.split(r"\n\s*\n", body) if part.strip())
    questions: list[str] = []
    for path in sorted([*ROOT.glob("demo/questions.jsonl"), *ROOT.glob("eval/*/questions.jsonl")]):
        questions.extend(json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return paragraphs, questions


# repeated fragments that make a careless pattern backtrack (each filled to the longest question, 2,000 characters)
ADVERSARIAL = ["1.", "0-", "1 ", "a punkt ", "a at ", "a.at.", "Ab-", "Ab ", "Hallo\n", "Frau ", "null ", "(0) ",
               "Hauptstraße 1 ", "Viele Grüße aus Hamburg ", "Name: ", "12345 Berlin ", "geboren am ", "9"]


def slowest_adversarial(length: int = 2000) -> tuple[str, float]:
    """The slowest redaction of ADVERSARIAL inputs of `length` characters: (fragment, seconds)."""
    timings = []
    for fragment in ADVERSARIAL:
        text = (fragment * (length // len(fragment) + 1))[:length]
        started = time.perf_counter()
        redact(text)
        timings.append((fragment, time.perf_counter() - started))
    return max(timings, key=lambda timing: timing[1])


def table(*, misses: bool = False) -> str:
    lines = ["| kind | examples | caught |", "|---|---:|---:|"]
    shown: list[str] = []
    kinds: dict[str, list[Outcome]] = {}
    for example in [*EXAMPLES, *HELD_OUT]:
        kinds.setdefault(example.kind, []).append(run_example(example))
    for kind, outcomes in kinds.items():
        lines.append(f"| {kind} `[{outcomes[0].example.label}]` | {len(outcomes)} | {sum(o.caught for o in outcomes)} |")
        shown.extend(f"  missed ({kind}): {o.example.text!r} -> {o.redacted!r}" for o in outcomes if not o.caught)
    total = sum(len(outcomes) for outcomes in kinds.values())
    caught = sum(o.caught for outcomes in kinds.values() for o in outcomes)
    lines.append(f"| **all kinds** | **{total}** | **{caught}** |")
    lines.append("")
    lines.append("| left alone | texts | changed |")
    lines.append("|---|---:|---:|")
    changed = [text for text in NEGATIVES if redact(text).text != text]
    shown.extend(f"  changed (negative): {text!r} -> {redact(text).text!r}" for text in changed)
    lines.append(f"| ordinary text: amounts, policy dates, article numbers, menu paths, greetings ... | {len(NEGATIVES)} | {len(changed)} |")
    paragraphs, questions = _corpus()
    personal = [p for p in paragraphs if set(redact(p).counts) - CONTACT_LABELS]
    shown.extend(f"  changed (knowledge base): {redact(p).text[:200]!r}" for p in personal)
    contact = sum(bool(redact(p).counts) for p in paragraphs)
    lines.append(f"| paragraphs of the knowledge bases in demo/ and eval/: a kind other than contact data¹ | {len(paragraphs)} | {len(personal)} |")
    asked = [q for q in questions if redact(q).redacted]
    lines.append(f"| their evaluation questions² | {len(questions)} | {len(asked)} |")
    lines.append("")
    lines.append(f"¹ {contact} paragraphs state the companies' own hotlines, e-mail and postal addresses: redacted as phone, "
                 "e-mail and address (Verity redacts questions and feedback, never articles).  ")
    lines.append("² " + "; ".join(f"{q!r} → {redact(q).text!r}" for q in asked) if asked else "² none changed")
    fragment, seconds = slowest_adversarial()
    lines.append("")
    lines.append(f"Slowest of {len(ADVERSARIAL)} adversarial 2,000-character inputs (repeated {fragment!r}): "
                 f"{seconds * 1000:.0f} ms.")
    if misses and shown:
        lines.extend(["", *shown])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the examples not caught and the texts changed")
    args = parser.parse_args(argv)
    print(table(misses=args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
