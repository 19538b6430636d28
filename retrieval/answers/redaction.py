"""Redaction of personal data before a question is stored or sent to any model.

Built in: e-mail addresses, IBANs (checksum-verified), payment card numbers (Luhn-verified) and
phone numbers. Knowledge admins add patterns (customer or order numbers) as redaction policies.
Letters (past tickets: `letters=True`) also carry names and postal addresses where letters put them:
after a title or a greeting, in the signature after a closing formula, after "mein Name ist"; a
street with its house number and a postcode with its town (retrieval.text.letters).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from retrieval.text.letters import (
    GREETED_NAME,
    INTRODUCED_NAME,
    LAST_LINE_NAME,
    POSTCODE_TOWN,
    SIGNED_NAME,
    STREET,
    TITLED_NAME,
    person_name,
)

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\d[\d /().-]{6,}\d(?![\w.,]\d)")


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


def _phone_like(candidate: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if digits < 7 or digits > 15:
        return False
    # dates (2026-01-01, 01.01.2026) and amounts are not phone numbers
    return not re.fullmatch(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", candidate.strip())


def redact(text: str, extra: Iterable[RedactionPattern] = (), *, letters: bool = False) -> Redaction:
    """`text` with personal data replaced by [LABEL]; `letters`: names and postal addresses too."""
    result = Redaction(text)

    def replace(pattern: re.Pattern[str], label: str, valid=None) -> None:
        def substitute(match: re.Match[str]) -> str:
            if valid is not None and not valid(match.group(0)):
                return match.group(0)
            result.counts[label] += 1
            return f"[{label}]"

        result.text = pattern.sub(substitute, result.text)

    for custom in extra:  # admin patterns first: they are the most specific
        replace(custom.regex, custom.label)
    replace(EMAIL, "EMAIL")
    replace(IBAN, "IBAN", _iban_valid)
    replace(CARD, "CARD", _luhn_valid)
    replace(PHONE, "PHONE", _phone_like)
    if letters:
        _redact_letter(result)
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
    result.text = POSTCODE_TOWN.sub(address, result.text)
    result.text = LAST_LINE_NAME.sub(name, result.text)
