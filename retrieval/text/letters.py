"""Letters (e-mails, ticket messages) in German and English: greeting, body, closing and signature.

A customer's message opens with a greeting ("Hallo Herr Berger,", "Sehr geehrte Damen und Herren,"),
and a reply closes with a formula ("Mit freundlichen Grüßen", "Viele Grüße", "Best regards") and a
signature. Neither is part of the question or the answer, and both are where names stand. The
formulas here are general German and English letter writing; nothing refers to a knowledge base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GREETING = (
    r"(?i:hallo|hi|hey|moin|servus|grüß\s+gott|grüezi|guten\s+(?:tag|morgen|abend)|sehr\s+geehrte[rs]?|liebe[rs]?"
    r"|dear|hello|good\s+(?:morning|afternoon|evening))"
)
_GREETINGS_WORDS = (  # "Grüße", "Gruß", with an adjective ("Viele Grüße") or as "mit freundlichen Grüßen"
    r"(?:mit\s+(?:den\s+)?(?:freundlichen|besten|herzlichen|lieben|vielen|sonnigen)\s+grü(?:ß|ss)en"
    r"|(?:(?:freundliche|beste|viele|liebe|herzliche|schöne|sonnige)\s+)?grü(?:ß|ss)e|(?:(?:freundlicher|bester|lieber)\s+)?gru(?:ß|ss))"
)
CLOSING = (
    rf"(?i:(?:(?:vielen\s+|besten\s+)?dank(?:e)?(?:\s+und|\s*,)?\s+)?{_GREETINGS_WORDS}"
    r"|mfg|lg|vg|(?:best|kind|warm)\s+regards|regards|best\s+wishes|yours\s+sincerely|sincerely"
    r"|hochachtungsvoll|cheers|many\s+thanks|thanks\s+and\s+regards)"
)
# a personal name as written in letters: up to four capitalised words or initials ("Jana", "P. Berger", "Anna-Lena Roth")
_NAME_WORD = r"(?:[A-ZÄÖÜ][a-zäöüß'’]+(?:-[A-ZÄÖÜa-zäöüß][a-zäöüß'’]*)*|[A-ZÄÖÜ]\.)"  # a word or an initial
_NAME_JOINER = r"(?:(?:und|and|u\.|&|von|van|de|der|zu|di|da|del|le|la)[ \t]+)"  # "Kevin und Laura Schmid", "Anna von Berg"
NAME = rf"{_NAME_WORD}(?:[ \t]+{_NAME_JOINER}?{_NAME_WORD}){{0,3}}"
TITLE = r"(?:Herrn?|Frau|Hr\.|Fr\.|Mr\.?|Mrs\.?|Ms\.?|Miss)"
# who a letter is addressed to or signed by when it is no person ("Damen und Herren", "Ihr Service-Team")
NO_PERSON_WORD = re.compile(r"^(?:Damen|Herren|Sirs?|Madam|All|Zusammen|[\w-]*(?:Team|Service|[Ss]upport|Kundendienst|Kundenservice))$")
POSSESSIVE = re.compile(r"^(?:Ihr|Ihre|Euer|Eure|Dein|Deine|Your)[ \t]+")  # "Ihre Jana": the name is what follows
ACADEMIC = r"(?:(?:Dr|Prof|Dipl)\.(?:[ \t]*(?:-?Ing|med|rer\.[ \t]*nat)\.)?[ \t]*)*"

# "Hallo Herr Berger," / "Sehr geehrte Damen und Herren," / "Hallo," at the start of a message
GREETING_LINE = re.compile(
    rf"\A\s*{GREETING}\b(?:[ \t]+(?:{TITLE}[ \t]+)?{ACADEMIC})?[^\n,!?.:;]{{0,60}}?[ \t]*(?:[,!:]|\n|\Z)\s*"
)
# a closing formula where a line or a sentence starts, followed only by a short signature
CLOSING_START = re.compile(rf"(?:^|(?<=[.!?])[ \t]+)[ \t]*{CLOSING}\b", re.MULTILINE)
REDACTED_LINE = re.compile(r"(?:\[[A-Z_]+\][ \t,;]*)+")  # a line only of redaction placeholders
MAX_SIGNATURE_CHARS = 250  # what follows a closing formula in a signature (name, role, company, phone)

# names where letters put them: after a title, after a greeting, after a closing formula, after "my name is"
TITLED_NAME = re.compile(rf"\b({TITLE}[ \t]+{ACADEMIC})({NAME})")
GREETED_NAME = re.compile(rf"^([ \t]*{GREETING}[ \t]+)(?!{TITLE}\b)({ACADEMIC}{NAME})(?=[ \t]*(?:[,!:]|$))", re.MULTILINE)
SIGNED_NAME = re.compile(rf"((?:^|(?<=[.!?])[ \t]+)[ \t]*{CLOSING}\b[,.!]?[ \t]*\n?[ \t]*(?:{TITLE}[ \t]+)?{ACADEMIC})(?!{TITLE}\b)({NAME})",
                         re.MULTILINE)
# a name alone on the last line of a message (above lines redaction already replaced, if any), under at least one
# other line: a signature without a closing formula
LAST_LINE_NAME = re.compile(
    rf"(?<=\n)([ \t]*)(?!{CLOSING}[ \t]*$)({_NAME_WORD}(?:[ \t]+{_NAME_JOINER}?{_NAME_WORD}){{1,3}})[ \t]*"
    r"(?=(?:\n[ \t]*(?:\[[A-Z_]+\][ \t,;]*)+)*\s*\Z)",
    re.MULTILINE,
)
INTRODUCED_NAME = re.compile(
    rf"(\b(?i:mein\s+name\s+ist|ich\s+heiße|ich\s+heisse|hier\s+schreibt|my\s+name\s+is|name\s*:|kontoinhaber(?:in)?\s*:"
    rf"|account\s+holder\s*:)[ \t]*(?:{TITLE}[ \t]+)?{ACADEMIC})({NAME})",
)
# a street with its house number, and a postcode with its town after it or at the start of a line
STREET = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad|street|road|avenue)"
    r"[ \t]+\d{1,4}(?:[ \t]?[a-zA-Z]\b)?(?:[ \t]*[-/][ \t]*\d{1,4})?"
)
POSTCODE_TOWN = re.compile(r"(?:(?<=ADDRESS\])|(?<=ADDRESS\],)|(?<=,)|(?<=\bin)|^)([ \t]*)\d{5}[ \t]+[A-ZÄÖÜ][\wäöüß-]+",
                           re.MULTILINE)


def person_name(words: str) -> tuple[str, str] | None:
    """Of capitalised words where letters put names: (the words to keep, the name), or None when they name no
    person ("Damen und Herren", "Ihr Service-Team")."""
    kept = ""
    possessive = POSSESSIVE.match(words)
    if possessive:
        kept, words = possessive.group(0), words[possessive.end():]
    if not words or any(NO_PERSON_WORD.match(word) for word in re.split(r"[ \t]+", words)):
        return None
    return kept, words


@dataclass(frozen=True)
class Letter:
    greeting: str
    body: str
    closing: str  # the closing formula and the signature after it


def split_letter(text: str) -> Letter:
    """The greeting at the start, the body, and the closing formula with the signature at the end."""
    text = text.strip()
    greeting = ""
    match = GREETING_LINE.match(text)
    if match and match.end() < len(text):
        greeting, text = text[:match.end()].strip(), text[match.end():]
    closing = ""
    lines = text.split("\n")
    kept = len(lines)
    while kept > 1 and REDACTED_LINE.fullmatch(lines[kept - 1].strip()):  # a signature without a closing, redacted
        kept -= 1
    closing, text = "\n".join(lines[kept:]).strip(), "\n".join(lines[:kept])
    for candidate in CLOSING_START.finditer(text):
        if len(text) - candidate.start() <= MAX_SIGNATURE_CHARS and candidate.start() > 0:
            closing, text = f"{text[candidate.start():].strip()}\n{closing}".strip(), text[:candidate.start()]
            break
    return Letter(greeting, text.strip(), closing)


def letter_body(text: str) -> str:
    """What a message says, without its greeting and its closing with the signature."""
    return split_letter(text).body
