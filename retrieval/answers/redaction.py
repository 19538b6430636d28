"""Redaction of personal data before a question (or feedback) is stored, logged or sent to any model.

Built in (German and English usage): e-mail addresses, also spelled out ("max punkt muster at gmail
punkt com"); phone numbers, also spelled out ("null eins sieben eins ..."); IBANs (checksum) and
payment cards (Luhn); street addresses with postcode and town; names after an introduction ("mein
Name ist", "ich heiße"), a greeting, a form of address ("Frau", "Herr") or a closing ("Mit
freundlichen Grüßen"); birth dates ("geboren am", "Geburtsdatum"); VAT IDs; German ID-card and
passport numbers; tax IDs and tax numbers; social-insurance and health-insurance numbers, each as
itself and not as a phone number. A number is recognised by its label nearby or by its own check
digit; without either, a long number is only a phone number when it is written like one (leading
+, 00, 0 or a phone label), so that article numbers, amounts, dates and menu paths stay intact.
Knowledge admins add patterns (customer or order numbers) as redaction policies; they run first.

`python -m bench.redaction` prints, for each kind, how many examples were tried and caught.
Letters (past tickets: `letters=True`) also carry names where letters put them: in the signature
after a closing formula and alone on the last line (retrieval.text.letters).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from retrieval.text.addresses import EMAIL
from retrieval.text.letters import (
    GREETED_NAME,
    INTRODUCED_NAME,
    LAST_LINE_NAME,
    SIGNED_NAME,
    STREET,
    TITLED_NAME,
    person_name,
)
from retrieval.text.letters import POSTCODE_TOWN as LETTER_POSTCODE_TOWN
from retrieval.text.tokens import NON_UNITS


@dataclass(frozen=True)
class RedactionPattern:
    label: str
    regex: re.Pattern[str]


@dataclass
class Redaction:
    text: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def redacted(self) -> bool:
        return bool(self.counts)


# --- check digits ----------------------------------------------------------------------------------


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


def _luhn_valid(candidate: str) -> bool:
    digits = [int(char) for char in candidate if char.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _mod_11_10(digits: str) -> int:
    """ISO 7064 MOD 11,10 check digit (German tax ID, German VAT ID)."""
    product = 10
    for char in digits:
        total = (int(char) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10


def _tax_id_valid(candidate: str) -> bool:
    """Steuer-Identifikationsnummer: 11 digits, no leading 0, one digit repeated in the first ten, check digit."""
    digits = re.sub(r"\D", "", candidate)
    if len(digits) != 11 or digits[0] == "0":
        return False
    repeated = [count for count in Counter(digits[:10]).values() if count > 1]
    if len(repeated) != 1 or repeated[0] > 3:
        return False
    return _mod_11_10(digits[:10]) == int(digits[10])


def _vat_de_valid(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return len(digits) == 9 and _mod_11_10(digits[:8]) == int(digits[8])


def _social_insurance_valid(candidate: str) -> bool:
    """Rentenversicherungsnummer: area (2), birth date DDMMYY, initial, serial (2), check digit."""
    compact = re.sub(r"\s", "", candidate).upper()
    match = re.fullmatch(r"(\d{2})(\d{2})(\d{2})\d{2}([A-Z])(\d{2})(\d)", compact)
    if not match:
        return False
    day, month = int(match.group(2)), int(match.group(3))
    if not (1 <= day % 50 <= 31 and 1 <= month <= 12):  # day + 50 marks a second number for the same date
        return False
    digits = compact[:8] + f"{ord(match.group(4)) - 64:02d}" + match.group(5)
    total = sum(sum(divmod(int(digit) * weight, 10)) for digit, weight in zip(digits, (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1), strict=True))
    return total % 10 == int(match.group(6))


def _id_card_check_valid(candidate: str) -> bool:
    """A German ID-card or passport number with its check digit (weights 7, 3, 1, as in the machine-readable zone)."""
    compact = candidate.upper()
    total = sum((int(char, 36)) * (7, 3, 1)[index % 3] for index, char in enumerate(compact[:-1]))
    return compact[-1].isdigit() and total % 10 == int(compact[-1])


# --- patterns ----------------------------------------------------------------------------------------

_I = re.IGNORECASE
_UPPER = "A-ZÄÖÜ"
_LOWER = "a-zäöüß"
_LABEL_GAP = r"\s*(?:[:#]|\bist\b|\blautet\b|\bis\b|\bnr\.?|\bno\.?)?\s*(?:[:#]\s*)?"


# spelled out: "max punkt muster at gmail punkt com", "max.muster (at) gmx.de", "anna [at] web [dot] de"
_SPOKEN_DOT = r"(?:\s*\.\s*|\s+(?:punkt|dot)\s+|\s*[(\[{<]\s*(?:punkt|dot|\.)\s*[)\]}>]\s*)"
_SPOKEN_AT = r"(?:\s+(?:at|ät|aet)\s+|\s*[(\[{<]\s*(?:at|ät|@|aet)\s*[)\]}>]\s*|\s+(?:klammeraffe|affe|at-zeichen)\s+)"
_TLD = r"(?:com|de|net|org|eu|info|biz|io|co|uk|at|ch|fr|it|nl|es|be|pl|dk|se|no|fi|cz|online|email|mail|me|tv)"
EMAIL_SPOKEN = re.compile(
    rf"\b[\w+-]{{1,64}}(?:{_SPOKEN_DOT}[\w+-]{{1,64}}){{0,4}}{_SPOKEN_AT}[\w-]{{1,63}}(?:{_SPOKEN_DOT}[\w-]{{1,63}}){{0,4}}"
    rf"{_SPOKEN_DOT}{_TLD}\b", _I)

IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", _I)
# (never after "+": that is an international phone number)
CARD = re.compile(r"(?<![+\d])(?<!\+ )\b(?:\d[ -]?){12,18}\d\b")

VAT_ID = re.compile(
    r"(?:\b(?:ust[.-]?\s?id(?:[.-]?\s?nr\.?)?|umsatzsteuer[- ]?(?:identifikations)?(?:nummer|id)|vat(?:\s+(?:id|reg(?:istration)?|number|no\.?)){0,3}|uid(?:-nummer)?)"
    rf"{_LABEL_GAP}(?P<labelled>(?-i:[A-Z]{{2,3}})[- ]?(?-i:[A-Z0-9])?\d[\d .]{{6,13}}\d(?:(?-i:[A-Z])\d{{2}})?)\b)"
    r"|\b(?P<de>DE[ ]?\d{3}[ ]?\d{3}[ ]?\d{3})\b|\b(?P<at>ATU\d{8})\b", _I)

TAX_ID = re.compile(
    r"(?:\b(?:steuer[- ]?id(?:entifikationsnummer)?(?:[.-]?\s?nr\.?)?|steuerliche\s+identifikationsnummer|identifikationsnummer|idnr\.?|tin|tax\s+id(?:entification)?(?:\s+number)?)"
    rf"{_LABEL_GAP}(?P<labelled>\d{{2}}[ ./]?\d{{3}}[ ./]?\d{{3}}[ ./]?\d{{3}})\b)"
    r"|(?:\b(?:steuer[- ]?(?:nummer|nr\.?)|st\.?[- ]?nr\.?)"
    rf"{_LABEL_GAP}(?P<number>\d{{2,3}}[ /]?\d{{3,4}}[ /]?\d{{4,5}}|\d{{10,13}})\b)"
    r"|(?<![\d.,/-])(?P<bare>[1-9]\d(?:[ ]?\d{3}){3})(?![\d.,/-]?\d)", _I)

SOCIAL_INSURANCE = re.compile(
    r"(?:\b(?:renten[- ]?versicherungs[- ]?(?:nummer|nr\.?)|sozial[- ]?versicherungs[- ]?(?:nummer|nr\.?|ausweis)|"
    r"versicherungsnummer|sv[- ]?(?:nummer|nr\.?)|rv[- ]?(?:nummer|nr\.?)|rvnr|svnr|social\s+(?:security|insurance)\s+(?:number|no\.?)|ssn)"
    rf"{_LABEL_GAP}(?P<labelled>\d{{2}}\s?\d{{6}}\s?[A-Z]\s?\d{{2}}\s?\d|\d{{3}}-\d{{2}}-\d{{4}})\b)"
    r"|\b(?P<bare>\d{2}\s?\d{6}\s?[A-Z]\s?\d{2}\s?\d)\b", _I)

HEALTH_INSURANCE = re.compile(
    r"\b(?:kranken[- ]?versicherten[- ]?(?:nummer|nr\.?)|versicherten[- ]?(?:nummer|nr\.?)|kvnr|krankenkassen[- ]?(?:nummer|nr\.?))"
    rf"{_LABEL_GAP}(?P<labelled>[A-Z]\s?\d{{3}}\s?\d{{3}}\s?\d{{3}})\b", _I)

# German ID card and passport numbers: 9 characters of [CFGHJKLMNPRTVWXYZ0-9], with a check digit a 10th
_ID_CHARS = "CFGHJKLMNPRTVWXYZ0-9"
ID_CARD = re.compile(
    r"(?:\b(?:personal[- ]?ausweis(?:[- ]?(?:nummer|nr\.?))?|ausweis[- ]?(?:nummer|nr\.?)|ausweis|reise[- ]?pass(?:[- ]?(?:nummer|nr\.?))?|"
    r"pass[- ]?(?:nummer|nr\.?)|dokumenten[- ]?nummer|id[- ]card(?:\s+number)?|identity\s+card(?:\s+number)?|passport(?:\s+(?:number|no\.?))?)"
    rf"(?:\s+(?:hat\s+die\s+)?(?:nummer|nr\.?|number))?{_LABEL_GAP}(?P<labelled>(?=[A-Z0-9]*\d)[{_ID_CHARS}]{{9}}\d?)\b)"
    rf"|\b(?P<bare>[CFGHJKLMNPRTVWXYZ](?=[{_ID_CHARS}]*\d)[{_ID_CHARS}]{{8}}\d)\b", _I)

_MONTHS = (r"(?:januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|"
           r"january|february|march|may|june|july|october|december|jan|feb|mär|mar|apr|jun|jul|aug|sep|sept|okt|oct|nov|dez|dec)\.?")
_DATE = (rf"(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?(?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|"
         rf"\d{{1,2}}\.?\s+{_MONTHS}\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})")
BIRTH_DATE = re.compile(
    r"\b(?:geboren|geb\.?-?\s?datum|geb\.|geburtsdatum|geburtstag|born|date\s+of\s+birth|birth\s*date|birthday|d\.?o\.?b\.?)"
    r"(?:[\s:,]+(?:ist|is|am|on|der|den|the|war|was)\b){0,3}[\s:,]*"
    rf"(?P<date>{_DATE})(?!\d)"
    # "am 12.08.1975 geboren", "was born on ..." is above
    rf"|\b(?P<before>{_DATE})(?=\s+(?:geboren|zur\s+welt\s+gekommen)\b)", _I)

# street addresses: "Hauptstraße 12", "Musterweg 3a", "Berliner Str. 5", "Am Markt 5, 12345 Musterstadt"
# (not -steig, -wall, -pfad, -markt: "Bahnsteig 3", "Firewall 2", "Dateipfad 1" are no addresses)
_STREET_SUFFIX = r"(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|stieg|promenade|kai|graben)"
_STREET_WORD = r"(?:Stra(?:ß|ss)e|Str\.|Weg|Gasse|Allee|Platz|Ring|Damm|Ufer|Chaussee|Stieg|Promenade|Kai|Graben|Markt)"
_NAME_WORD = rf"(?-i:[{_UPPER}][{_LOWER}]+)"
_HOUSE_NUMBER = r"\d{1,4}(?:\s?[a-zA-Z]\b)?(?:\s?[-/]\s?\d{1,4}(?:\s?[a-zA-Z]\b)?)?"
_POSTCODE_TOWN = rf"(?:D-?\s?)?\d{{5}}\s+{_NAME_WORD}(?:[ -](?:an\s+der|am|im|bei|ob\s+der|{_NAME_WORD}|\([{_UPPER}][{_LOWER}.]+\))){{0,4}}"
# after the house number: the end, punctuation, a line break, a postcode or a lowercase word ("in Köln"),
# never a unit ("Speicherplatz 5 GB")
_AFTER_NUMBER = rf"(?=\s*(?:$|[,;:.!?)\n]|\d{{5}}\b|[{_LOWER}]))"
ADDRESS = re.compile(
    rf"(?:\b{_NAME_WORD}{_STREET_SUFFIX}|\b{_NAME_WORD}(?:-{_NAME_WORD}){{0,3}}[- ]{_STREET_WORD}"
    rf"|\b(?:Am|An\s+der|An\s+den|Auf\s+dem|Auf\s+der|Im|In\s+der|In\s+den|Zum|Zur|Unter\s+den|Hinter\s+der|Vor\s+dem)\s+{_NAME_WORD}(?=\s+{_HOUSE_NUMBER}\s*,?\s*\n?\s*{_POSTCODE_TOWN}))"
    rf"\s+{_HOUSE_NUMBER}(?:\s*,?\s*\n?\s*{_POSTCODE_TOWN}|{_AFTER_NUMBER})"
    # English: "221B Baker Street", "12 Main St."
    r"|\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Boulevard|Blvd\.|Square|Terrace)(?=\W|$)")
# a postcode and town on their own, after words that introduce a place of residence
POSTCODE_TOWN = re.compile(
    rf"\b(?:wohne\s+in|wohnhaft\s+in|wohnort|\w*anschrift|\w*adresse|plz|postleitzahl|zip(?:\s+code)?)\s*:?\s*(?:in\s+)?(?P<place>{_POSTCODE_TOWN})", _I)

# phone numbers: written like one (+, 00, 0 or an opening bracket first), or after a phone label
_PHONE_BODY = r"\d[\d /().-]{5,}\d"
PHONE = re.compile(rf"(?<![\w.,])(?:\+\s?|00|0|\()(?:{_PHONE_BODY}|\d{{5,}})(?![\w.,]\d)")
PHONE_LABELLED = re.compile(
    r"\b(?:tel(?:efon)?(?:nummer|nr)?\.?|telefonisch|handy(?:nummer|nr\.?)?|mobil(?:nummer|nr\.?|funk(?:nummer)?)?|rufnummer|festnetz(?:nummer)?|"
    r"fax(?:nummer)?|whatsapp|phone(?:\s+number)?|mobile(?:\s+number)?|cell(?:\s+number)?|call\s+me\s+(?:at|on)|"
    r"erreichbar\s+unter|erreichen\s+sie\s+mich\s+unter|anrufen\s+unter|rufen\s+sie\s+(?:mich\s+)?(?:unter\s+)?an)"
    rf"\s*(?:[:#]|unter|ist|lautet|is|at|on)?\s*:?\s*(?P<number>(?:\+\s?)?{_PHONE_BODY})(?![\w.,]\d)", _I)
# a number right after such a label is no phone number (an article number, a chapter, a version)
_NOT_A_PHONE_LABEL = re.compile(
    r"(?:art(?:ikel)?|produkt|bestell|auftrags|modell|serien|teile|katalog|ean|sku|isbn|version|kapitel|abschnitt|"
    r"paragraph|§|seite|rechnungs|kunden|vorgangs|ticket|vertrags)[-.\s]*(?:nr\.?|nummer|no\.?|number|id)?\s*[:#.]?\s*$", _I)

_DIGIT_WORDS = ("null|zero|eins|one|zwei|zwo|two|drei|three|vier|four|fünf|fuenf|five|sechs|six|sieben|seven|acht|eight|"
                "neun|nine|zehn|ten|elf|eleven|zwölf|twelve")
_TWO_DIGIT_WORDS = {"zehn", "ten", "elf", "eleven", "zwölf", "twelve"}
PHONE_SPOKEN = re.compile(
    rf"(?:(?:\bplus|\+)\s*)?\b(?:{_DIGIT_WORDS}|\d{{1,5}})\b(?:[\s,/-]+(?:{_DIGIT_WORDS}|\d{{1,5}})\b)+", _I)

# --- names ---------------------------------------------------------------------------------------------

_INTRODUCTION = re.compile(
    r"\b(?:mein\s+name\s+(?:ist|lautet)|ich\s+hei(?:ß|ss)e|man\s+nennt\s+mich|hier\s+spricht|hier\s+schreibt|"
    r"my\s+name\s+is|my\s+name's|i\s+am\s+called|"
    r"(?:vor|nach|familien|zu|first\s+|last\s+|full\s+)?name\s*:)\s*", _I)
_GREETING = re.compile(
    r"(?:^|(?<=[.!?\n]))[ \t]*(?:hallo|hi|hey|moin|servus|grüß\s+gott|guten\s+(?:tag|morgen|abend)|sehr\s+geehrte[rs]?|"
    r"liebe[rs]?|hello|dear|good\s+(?:morning|afternoon|evening))\b[ \t]*,?[ \t]*", _I | re.MULTILINE)
_CLOSING = re.compile(
    r"\b(?:(?:mit\s+)?(?:freundlichen|besten|herzlichen|lieben|vielen|schönen|sonnigen)\s+gr(?:ü|ue)(?:ß|ss)en|"
    r"(?:viele|beste|liebe|herzliche|schöne|freundliche)\s+gr(?:ü|ue)(?:ß|ss)e|gru(?:ß|ss)|(?:mfg|lg|vg)(?=[ \t]*[,\n])|"
    r"(?:best|kind|warm)\s+regards|regards|sincerely|yours\s+(?:sincerely|truly)|best\s+wishes|cheers|"
    r"danke(?:\s+schön)?|thanks|thank\s+you|vielen\s+dank)\b"
    # "Viele Grüße aus Hamburg" + a line break: the name is on the next line
    rf"(?:[ \t]+(?:aus|from|von)[ \t]+{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?(?=[ \t]*[,.!]?[ \t]*\n))?"
    r"[ \t]*[,.!]?(?P<break>[ \t]*\n)?[ \t]*", _I)
_HONORIFIC = re.compile(
    r"\b(?:Herrn?|Frau|Hr\.|Fr\.|Mr\.?|Mrs\.?|Ms\.?|Miss|Mister)\s+(?:(?:Dr|Prof|Dipl\.-Ing|med|rer\.\s?nat)\.?\s+){0,4}")
# "meine Frau", "der Herr": the common noun, no form of address
_DETERMINER_BEFORE = re.compile(
    r"\b(?:d(?:er|ie|as|en|em|es)|(?:k|m|d|s)?ein(?:e[mnrs]?)?|ihr(?:e[mnrs]?)?|unser(?:e[mnrs]?)?|eu(?:er|re[mnrs]?)|"
    r"jede[mnrs]?|diese[mnrs]?|welche[mnrs]?)\s+$", _I)
_POSSESSIVE = re.compile(r"(?:ihr|ihre|dein|deine|euer|eure|your|yours)\s+", _I)
_WORD = re.compile(rf"[{_UPPER}{_LOWER}][{_UPPER}{_LOWER}'’]*(?:-[{_UPPER}{_LOWER}][{_UPPER}{_LOWER}'’]*)*")
_PARTICLES = {"von", "van", "de", "der", "den", "zu", "vom", "di", "da", "del", "le", "la", "al", "el", "ten", "ter"}
# who is greeted or signs without being a person: words of general language, not names
_NOT_NAMES = set(
    "team teams kunde kundin kunden kundinnen damen herren grüße gruß grüsse gruss leute kollegen kolleginnen kollege "
    "kollegin zusammen alle allerseits support service kundenservice kundendienst freunde freundinnen nutzer nutzerin "
    "nutzerinnen mitglieder mitglied community sir madam madame everyone everybody all there folks guys customer "
    "customers colleagues friends mitarbeiter mitarbeiterin mitarbeitende frage fragen bitte nochmal vorab im voraus "
    "sehr geehrte geehrter dank danke thanks tag morgen abend welt leser leserin leserinnen verbraucher interessenten "
    "bot chatbot assistent assistentin hotline".split())
_NOT_NAME_WORDS = NON_UNITS | _NOT_NAMES


def _name_end(text: str, start: int, *, lowercase: bool) -> int:
    """Where a name of one to three words starting at `start` ends (`start` when there is none):
    capitalised words that are no function word or generic addressee ("Team", "Kunden"); two
    lowercase words too when `lowercase` (a writer who does not capitalise: "mein name ist max")."""
    position, end, words = start, start, 0
    possessive = _POSSESSIVE.match(text, position)
    if possessive:
        position = possessive.end()
    while words < (2 if lowercase else 3):
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group(0)
        lowered = word.lower()
        if words > 0 and lowered in _PARTICLES:  # "Ludwig van Beethoven"
            gap = _SPACE.match(text, match.end())
            if gap is None:
                break
            position = gap.end()
            continue
        if lowered in _NOT_NAME_WORDS or any(part in _NOT_NAMES for part in lowered.split("-")) or len(word) < 2:
            break
        if not word[0].isupper() and not lowercase:
            break
        end, words = match.end(), words + 1
        gap = _SPACE.match(text, end)
        if gap is None:
            break
        position = gap.end()
    return end


_SPACE = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    label: str


def _names(text: str) -> list[_Span]:
    """Names after an introduction, a greeting, a closing or a form of address."""
    spans: list[_Span] = []

    def add(start: int, *, lowercase: bool) -> None:
        honorific = _HONORIFIC.match(text, start)
        if honorific:
            start = honorific.end()
        end = _name_end(text, start, lowercase=lowercase)
        if end > start:
            spans.append(_Span(start, end, "NAME"))

    for match in _INTRODUCTION.finditer(text):
        # "Mein Name ist" capitalised: its writer capitalises, so a lowercase word is no name ("falsch")
        add(match.end(), lowercase="Name" not in match.group(0))
    for match in _GREETING.finditer(text):
        add(match.end(), lowercase=False)
    for match in _CLOSING.finditer(text):
        add(match.end(), lowercase=bool(match.group("break")))
    for match in _HONORIFIC.finditer(text):
        if not _DETERMINER_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
            add(match.start(), lowercase=False)
    return spans


# --- the redaction -------------------------------------------------------------------------------------


_PREPOSITIONS = {"Am", "An", "Auf", "Im", "In", "Zum", "Zur", "Unter", "Hinter", "Vor"}


def _address_valid(candidate: str) -> bool:
    """"Der Weg 3" is no street: a street's first word is no function word (but "Am Markt 5, 12345 Ort" is)."""
    first = candidate.split()[0]
    return first in _PREPOSITIONS or first.lower() not in NON_UNITS


def _phone_like(candidate: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if digits < 7 or digits > 15:
        return False
    # dates (2026-01-01, 01.01.2026, 01.03.-31.03.2027) and amounts are not phone numbers
    return not re.search(r"(?<!\d)\d{1,2}\.\d{1,2}\.(?:\d{2}(?:\d{2})?)?(?!\d)|\d{4}-\d{2}-\d{2}", candidate.strip())


def _spoken_phone(candidate: str) -> bool:
    tokens = re.findall(rf"{_DIGIT_WORDS}|\d+", candidate, _I)
    words = [token.lower() for token in tokens if not token.isdigit()]
    digits = len(words) + sum(word in _TWO_DIGIT_WORDS for word in words) + sum(len(t) for t in tokens if t.isdigit())
    return len(words) >= 3 and 7 <= digits <= 15


def _phone_not_labelled_otherwise(text: str, start: int) -> bool:
    return not _NOT_A_PHONE_LABEL.search(text[max(0, start - 30):start])


Validator = Callable[[re.Match[str]], bool]


def _group_valid(groups: dict[str, Callable[[str], bool] | None]) -> Validator:
    """A match is valid when the group that matched passes its check (None: no check, the label says it)."""
    def valid(match: re.Match[str]) -> bool:
        for name, check in groups.items():
            value = match.group(name)
            if value is not None:
                return check is None or check(value)
        return False
    return valid


# (label, pattern, validator or None); the part replaced is the value group named in _VALUE_GROUPS, or
# the whole match. Order matters: the most specific first, so that a tax ID is not taken for a phone number
_BUILT_IN: list[tuple[str, re.Pattern[str], Validator | None]] = [
    ("EMAIL", EMAIL, None),
    ("EMAIL", EMAIL_SPOKEN, None),
    ("IBAN", IBAN, lambda match: _iban_valid(match.group(0))),
    ("VAT_ID", VAT_ID, _group_valid({"labelled": None, "de": _vat_de_valid, "at": None})),
    ("SOCIAL_INSURANCE_NO", SOCIAL_INSURANCE, _group_valid({"labelled": None, "bare": _social_insurance_valid})),
    ("HEALTH_INSURANCE_NO", HEALTH_INSURANCE, None),
    ("ID_CARD", ID_CARD, _group_valid({"labelled": None, "bare": _id_card_check_valid})),
    ("TAX_ID", TAX_ID, _group_valid({"labelled": None, "number": None, "bare": _tax_id_valid})),
    ("CARD", CARD, lambda match: _luhn_valid(match.group(0))),
    ("BIRTH_DATE", BIRTH_DATE, None),
    ("ADDRESS", ADDRESS, lambda match: _address_valid(match.group(0))),
    ("ADDRESS", POSTCODE_TOWN, None),
    ("PHONE", PHONE_SPOKEN, lambda match: _spoken_phone(match.group(0))),
    ("PHONE", PHONE_LABELLED, lambda match: _phone_like(match.group("number"))),
    ("PHONE", PHONE, lambda match: _phone_like(match.group(0)) and _phone_not_labelled_otherwise(match.string, match.start())),
]
# the part of a match that is personal (the label before it stays readable)
_VALUE_GROUPS = ("labelled", "de", "at", "bare", "number", "date", "before", "place")


def _value_span(match: re.Match[str]) -> tuple[int, int]:
    for name in _VALUE_GROUPS:
        if name in match.re.groupindex and match.group(name) is not None:
            return match.span(name)
    return match.span()


def redact(text: str, extra: Iterable[RedactionPattern] = (), *, letters: bool = False) -> Redaction:
    """`text` with personal data replaced by [LABEL]; `letters`: names and postal addresses too."""
    result = Redaction(text)

    def replace(pattern: re.Pattern[str], label: str, valid: Validator | None = None) -> None:
        def substitute(match: re.Match[str]) -> str:
            if valid is not None and not valid(match):
                return match.group(0)
            result.counts[label] += 1
            start, end = _value_span(match)
            whole_start = match.start()
            return match.group(0)[:start - whole_start] + f"[{label}]" + match.group(0)[end - whole_start:]

        result.text = pattern.sub(substitute, result.text)

    for custom in extra:  # admin patterns first: they are the most specific
        replace(custom.regex, custom.label)
    if letters:  # where letters put names (signatures, a title before the name) before the general rules
        _redact_letter(result)
    for label, pattern, valid in _BUILT_IN:
        replace(pattern, label, valid)
    spans = sorted(_names(result.text), key=lambda span: (span.start, -span.end))
    merged: list[_Span] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            continue
        merged.append(span)
    for span in reversed(merged):
        if "[" in result.text[span.start:span.end]:
            continue  # already redacted as something else
        result.counts[span.label] += 1
        result.text = result.text[:span.start] + f"[{span.label}]" + result.text[span.end:]
    return result


def _redact_letter(result: Redaction) -> None:
    """Names after titles, greetings, closings and introductions (the words before them stay), addresses."""

    def name(match: re.Match[str]) -> str:
        found = person_name(match.group(2))
        if found is None:
            return match.group(0)
        result.counts["NAME"] += 1
        return f"{match.group(1)}{found[0]}[NAME]"

    def address(match: re.Match[str]) -> str:
        result.counts["ADDRESS"] += 1
        return f"{match.group(1) if match.groups() else ''}[ADDRESS]"

    for pattern in (INTRODUCED_NAME, TITLED_NAME, GREETED_NAME, SIGNED_NAME):
        result.text = pattern.sub(name, result.text)
    result.text = STREET.sub(address, result.text)
    result.text = LETTER_POSTCODE_TOWN.sub(address, result.text)
    result.text = LAST_LINE_NAME.sub(name, result.text)
