"""Facts stated in a sentence, German and English: what a change or another article can contradict.

A fact is a typed, normalised value (a duration, an amount of money, a percentage, a time of day
or range, a date, a day of the month, a frequency, a measured quantity, a count of things, a menu
path, a phone number or extension) with its unit class, the text it was written as, and the
sentence's *subject terms*: the content stems of the sentence without the facts and stop words.
Two facts can only disagree when they have the same type and unit class (and a comparable rate
or weekday qualifier); what they are *about* is decided by the caller from the subject terms.

Everything here is general German/English language knowledge (number notation, unit and month
names, weekday names, number words); nothing refers to a particular knowledge base.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from retrieval.text.numbers import (
    ARTICLE_WORDS,
    GENITIVE_ARTICLE,
    MONTH,
    MONTHS,
    NUM,
    NUMBER,
    QUANTITY_WORD,
    SCALE,
    TIMES_WORDS,
    WEEKDAY,
    WEEKDAYS,
    parse_number,
    scale_factor,
)
from retrieval.text.tokens import STOP_WORDS, analyze, language_of

# --- units ------------------------------------------------------------------------------------

# duration units -> (family, size in the family's base unit); "time" counts days, "month" months
DURATION_UNITS: list[tuple[str, str, float]] = [
    (r"bankarbeitstag(?:e|en|s)?|bank\s+working\s+days?|bank\s+business\s+days?", "workday", 1),
    (r"werktag(?:e|en|s)?|arbeitstag(?:e|en|s)?|working\s+days?|business\s+days?|workdays?", "workday", 1),
    (r"kalendertag(?:e|en|s)?|calendar\s+days?", "time", 1),
    (r"kalenderwoche(?:n)?|calendar\s+weeks?", "time", 7),
    (r"kalendermonat(?:e|en|s)?|calendar\s+months?", "month", 1),
    (r"sekunde(?:n)?|seconds?|sek\.|sec\.?", "time", 1 / 86400),
    (r"minute(?:n)?|minutes?|min\.?", "time", 1 / 1440),
    (r"stunde(?:n)?|hours?|std\.|hrs?\.?|h", "time", 1 / 24),
    (r"tag(?:e|en|es|s)?|days?", "time", 1),
    (r"woche(?:n)?|weeks?", "time", 7),
    (r"monat(?:e|en|es|s)?|months?", "month", 1),
    (r"quartal(?:e|en|s)?|quarters?", "month", 3),
    (r"jahr(?:e|en|es|s)?|years?", "month", 12),
]
DURATION_UNIT = "|".join(f"(?:{pattern})" for pattern, _, _ in DURATION_UNITS)
DAYS_PER_MONTH = 30.4375
PERIOD_DAYS = {"time": 1.0, "workday": 1.0, "month": DAYS_PER_MONTH}

# measured quantities -> (unit class, factor to the class's base unit)
QUANTITY_UNITS: list[tuple[str, str, float]] = [
    (r"tb", "data", 1_000_000), (r"gb", "data", 1000), (r"mb", "data", 1), (r"kb", "data", 0.001),
    (r"gbit/s", "bandwidth", 1_000_000), (r"mbit/s", "bandwidth", 1000), (r"kbit/s", "bandwidth", 1),
    (r"mwh", "energy", 1000), (r"kwh", "energy", 1), (r"kwp", "power-peak", 1), (r"mw", "power", 1000),
    (r"kw", "power", 1), (r"m³|m3|kubikmeter|cubic\s+met(?:er|re)s?", "volume", 1000),
    (r"liter|litre|l", "volume", 1), (r"km", "length", 1000), (r"kg", "mass", 1),
    (r"zeichen|characters?", "characters", 1), (r"-?stellig\w*|digits?|stellen", "digits", 1),
]
QUANTITY_UNIT = "|".join(f"(?:{pattern})" for pattern, _, _ in QUANTITY_UNITS)

CURRENCY = {"€": "EUR", "eur": "EUR", "euro": "EUR", "ct": "EUR", "cent": "EUR", "cents": "EUR", "chf": "CHF",
            "$": "USD", "usd": "USD", "£": "GBP", "gbp": "GBP"}
HUNDREDTHS = {"ct", "cent", "cents"}
# what a price is per: canonical denominators (a rate is only comparable with the same one)
RATE_UNITS: list[tuple[str, str]] = [
    (r"minute(?:n)?|minutes?|min\.?", "minute"), (r"stunde(?:n)?|hours?|std\.|h", "hour"),
    (r"tag(?:e|en)?|days?", "day"), (r"woche(?:n)?|weeks?", "week"),
    (r"(?:kalender|abrechnungs)?monat(?:s)?|(?:calendar\s+|billing\s+)?months?", "month"), (r"jahr(?:es)?|years?", "year"),
    (r"mb", "mb"), (r"gb", "gb"), (r"kwh", "kwh"), (r"kwp", "kwp"), (r"m³|m3", "m3"),
    (r"sms|text(?:\s+messages?)?|messages?", "sms"), (r"rechnung|invoices?|bills?", "invoice"),
]
RATE_UNIT = "|".join(f"(?:{pattern})" for pattern, _ in RATE_UNITS)

DASH = r"\s*(?:–|—|-|bis(?:\s+zu)?|to|until|till|through)\s*"
FREE_WORDS = r"kostenlos|kostenfrei|gratis|gebührenfrei|unentgeltlich|free\s+of\s+charge|at\s+no\s+(?:extra\s+)?cost|for\s+free|free"

# --- fact patterns (order = priority when spans overlap) ----------------------------------------

PATH_SEPARATOR = re.compile(r"\s+[>›]\s+")
FUNCTION_WORDS = STOP_WORDS["de"] | STOP_WORDS["en"]
PATH_STOP = {"oder", "und", "or", "and", "mit", "with", "to", "zu", "in", "an", "auf", "bei", "for", "für", "via",
             "per", "unter", "under", "at", "im", "from", "von", "aus", "then", "dann", "sowie", "bzw", "wo", "where"}
PHONE = re.compile(r"(?<![\w+,.])(?:\+\d{1,3}[\s/-]?\(?0?\)?\s?|\b0)\d{1,5}(?:[\s/-]\d{2,}){1,4}(?![\w,.]\d)")
EXTENSION = re.compile(r"\b(?:durchwahl(?:en)?|nebenstelle|apparat|extension|ext\.)\s*:?\s*(\d{2,6})\b", re.IGNORECASE)
SHORT_CODE = re.compile(r"\b(?:an|to)\s+(\d{4,6})\b")
NAMED_SHORT_CODE = re.compile(r"\b(?:kurzwahl|kurznummer|short\s*code)\s+(\d{4,6})\b", re.IGNORECASE)
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NUMERIC_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2}(?!\d))?(?![\d,])")
DE_DATE = re.compile(rf"\b(\d{{1,2}})\.\s?({MONTH})\b\.?(?:\s+(\d{{4}}))?", re.IGNORECASE)
EN_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH})\b\.?(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
EN_DATE_MONTH_FIRST = re.compile(rf"\b({MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
DAY_OF_MONTH = re.compile(
    r"\b(\d{1,2})\.\s+(?:des|eines|jedes|jeden)\s+(?:\w*monats|\w*monat)\b"
    r"|\b(?:am|zum|bis\s+zum|ab\s+dem|vom|zum)\s+(\d{1,2})\.(?=\s|$)(?!\s*(?:\d|[A-ZÄÖÜ]\w*tag\b))"
    r"|\b(?:the|on\s+the|by\s+the)\s+(\d{1,2})(?:st|nd|rd|th)\b(?:\s+(?:day\s+)?of\s+(?:the|each|every|a)\s+(?:\w+\s+)?month)?",
    re.IGNORECASE,
)
# "bis zum letzten Tag des Monats", "zum Monatsende", "by the end of the month": a day of the month in words
LAST_DAY_OF_MONTH = re.compile(
    r"\bletzt\w*\s+(?:kalender)?tag\w*\s+(?:des|eines|jedes|im)\s+\w*monat\w*|\bmonatsende\w*|\bmonatsletzt\w*"
    r"|\bende\s+(?:des|eines|jedes)\s+\w*monats\b|\blast\s+day\s+of\s+(?:the|each|every|a)\s+(?:\w+\s+)?month\b"
    r"|\bend\s+of\s+(?:the|each|every|a)\s+(?:\w+\s+)?month\b",
    re.IGNORECASE,
)
CLOCK_TIME = r"(?:2[0-4]|[01]?\d)(?::[0-5]\d|\.[0-5]\d(?=\s*uhr))?(?!\d)\s*(?:a\.?m\.?|p\.?m\.?)?"
CLOCK_RANGE = re.compile(
    rf"\b({CLOCK_TIME})\s*(?:uhr)?{DASH}({CLOCK_TIME})\s*(uhr|h\b)?"
    rf"|\b(?:zwischen|between)\s+({CLOCK_TIME})\s*(?:uhr)?\s+(?:und|and)\s+({CLOCK_TIME})\s*(uhr|h\b)?",
    re.IGNORECASE,
)
CLOCK_SINGLE = re.compile(r"\b((?:2[0-4]|[01]?\d)(?::[0-5]\d|\.[0-5]\d(?=\s*uhr)))(?!\d)\s*(uhr|h\b)?|\b(2[0-4]|[01]?\d)\s*(uhr|a\.?m\.|p\.?m\.|am\b|pm\b)",
                          re.IGNORECASE)
ALWAYS = re.compile(r"\brund\s+um\s+die\s+uhr\b|\baround\s+the\s+clock\b|\b24/7\b|\b24\s+hours\s+a\s+day\b", re.IGNORECASE)
FREQUENCY = re.compile(
    rf"(?:\b({'|'.join(TIMES_WORDS)})|\b({NUM}|{QUANTITY_WORD})\s*(?:-?\s*mal\b|x\b|×|\s+times\b))"
    rf"\s+(?:(?:pro|je|im|in|per|a|an|each|every|innerhalb\s+von|within)\s+)(?:(?:(\d+|{QUANTITY_WORD})\s+)|(?:dem|der|einem|the|a)\s+)?"
    rf"({DURATION_UNIT})\b",
    re.IGNORECASE,
)
EVERY = re.compile(
    rf"\b(?:alle|every|each)\s+(?:(\d+|{QUANTITY_WORD})\s+)?({DURATION_UNIT})\b", re.IGNORECASE
)
# German adverbs of frequency are unambiguous uninflected ("monatlich", not "monatliche Grundgebühr")
ADVERB_PERIODS = {"täglich": 1.0, "wöchentlich": 7.0, "monatlich": DAYS_PER_MONTH, "quartalsweise": 3 * DAYS_PER_MONTH,
                  "vierteljährlich": 3 * DAYS_PER_MONTH, "halbjährlich": 6 * DAYS_PER_MONTH, "jährlich": 12 * DAYS_PER_MONTH,
                  "daily": 1.0, "quarterly": 3 * DAYS_PER_MONTH, "annually": 12 * DAYS_PER_MONTH}
ADVERB_FREQUENCY = re.compile(rf"\b({'|'.join(ADVERB_PERIODS)})\b", re.IGNORECASE)
ADVERB_RATES = {"täglich": "day", "wöchentlich": "week", "monatlich": "month", "jährlich": "year", "daily": "day",
                "quarterly": "quarter", "annually": "year", "per annum": "year"}
COUNT_PER_PERIOD = re.compile(
    rf"\b({NUM}|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|two|three|four|five|six|seven|eight|nine|ten)"
    rf"\s+([^\W\d_][\w-]*)\s+(?:pro|je|per|a|each|every)\s+((?:kalender|abrechnungs)?monat|woche|tag|jahr|quartal|(?:calendar\s+)?month|week|day|year|quarter)\b",
    re.IGNORECASE,
)
MONEY_RANGE = re.compile(
    rf"(?:(€|eur|chf|\$|£)\s?)?({NUM})(?:\s?({SCALE}))?{DASH}(€|eur|chf|\$|£)?\s?({NUM})\s?(?:({SCALE})\s?)?"
    rf"(€|eur\b|euro\b|chf\b|ct\b|cent\b|cents\b)?",
    re.IGNORECASE,
)
# an amount, with its scale word where it has one ("50 Mio. €", "EUR 2 million")
MONEY = re.compile(
    rf"(€|\beur\b|\bchf\b|\$|£)\s?({NUM})(?:\s?({SCALE}))?|\b({NUM})(?:\s?({SCALE}))?\s?(€|eur\b|euro\b|chf\b|ct\b|cent\b|cents\b|\$|£)",
    re.IGNORECASE,
)
FREE = re.compile(rf"\b(?:{FREE_WORDS})\b", re.IGNORECASE)
RATE = re.compile(rf"^\s*(?:[^\W\d_][\w-]*\s+)?(?:/|pro\s+|per\s+|je\s+|im\s+|a\s+|an\s+|each\s+)({RATE_UNIT})\b", re.IGNORECASE)
RATE_ADVERB = re.compile(rf"^\s*({'|'.join(ADVERB_RATES)})\b", re.IGNORECASE)
RATE_GERMAN_PRO = re.compile(r"^\s*(?:/|pro\s+|je\s+)([^\W\d_][\w-]*)", re.IGNORECASE)
PERCENT = re.compile(rf"\b({NUM})\s?(?:%|prozent\b|percent\b|per\s+cent\b)", re.IGNORECASE)
QUANTITY = re.compile(rf"\b({NUM})(?:{DASH}({NUM}))?\s?-?({QUANTITY_UNIT})(?![\w/])", re.IGNORECASE)
DURATION = re.compile(rf"(?<![\w.,])({NUMBER})(?:{DASH}({NUMBER}))?\s?-?\s?({DURATION_UNIT})(?:'s)?\b", re.IGNORECASE)
COUNT = re.compile(rf"(?<![\w.,/:+-])({NUM}|{QUANTITY_WORD})\s+((?:[^\W\d_][\w-]*\s+)?[^\W\d_][\w-]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    """One stated value. `value` is comparable with `same_value`; `unit` is its unit class."""

    type: str  # duration, money, percent, clock, date, day_of_month, frequency, quantity, count, path, identifier
    value: tuple
    unit: str
    text: str  # as written in the sentence
    start: int
    end: int
    subject: frozenset[str] = field(default=frozenset(), compare=False)  # the sentence's content stems
    near: frozenset[str] = field(default=frozenset(), compare=False)  # content stems next to the fact
    head: frozenset[str] = field(default=frozenset(), compare=False)  # the closest of them: what the number measures
    qualifier: frozenset[int] = field(default=frozenset(), compare=False)  # weekdays a time range applies to
    # in a table row: the content stems of the value's column label, and of the other value columns' labels
    column: frozenset[str] = field(default=frozenset(), compare=False)
    other_columns: frozenset[str] = field(default=frozenset(), compare=False)

    def comparable(self, other: Fact) -> bool:
        """Same type and unit class (and, for ranges on weekdays, the same weekdays when both say)."""
        if self.type != other.type or self.unit != other.unit:
            return False
        if self.type == "duration":
            return True
        return not (self.qualifier and other.qualifier and self.qualifier != other.qualifier)


def same_value(a: Fact, b: Fact) -> bool:
    """Equal values; durations in days and in months compare with 10 % tolerance (1 month ~ 30 days)."""
    if a.type == "path":
        return paths_equal(a.value, b.value)
    if a.type == "duration":
        (low_a, high_a, family_a), (low_b, high_b, family_b) = a.value, b.value
        if family_a == family_b:
            return abs(low_a - low_b) < 1e-9 and abs(high_a - high_b) < 1e-9
        to_days = {"time": 1.0, "workday": 1.0, "month": DAYS_PER_MONTH}
        if "workday" in (family_a, family_b):  # 10 working days are not 10 days: a changed unit is a change
            return False
        return all(abs(x * to_days[family_a] - y * to_days[family_b]) <= 0.1 * max(x * to_days[family_a], 1e-9)
                   for x, y in ((low_a, low_b), (high_a, high_b)))
    if a.type == "frequency":
        return abs(a.value[0] / a.value[1] - b.value[0] / b.value[1]) < 1e-9
    return a.value == b.value


MAX_CHANGE_RATIO = 20.0  # an old and a new value of one fact are of the same order of magnitude


def _magnitude(fact: Fact) -> float | None:
    if fact.type == "duration":
        return fact.value[1] * (DAYS_PER_MONTH if fact.value[2] == "month" else 1.0)
    if fact.type in {"money", "quantity", "count", "percent"}:
        return fact.value[-1]
    return None


def value_distance(a: Fact, b: Fact) -> float:
    """How far apart two comparable values are, as |ln(a/b)|: free against a price counts as the largest
    plausible change; values without a magnitude (times of day, paths) are 0 apart."""
    x, y = _magnitude(a), _magnitude(b)
    if x is None or y is None:
        return 0.0
    if not x or not y:
        return 0.0 if x == y else math.log(MAX_CHANGE_RATIO)
    return abs(math.log(x / y))


def comparable_values(a: Fact, b: Fact) -> bool:
    """Whether a and b could state the same fact: same type and unit class, and amounts of the same
    order of magnitude (7 days and 5 minutes are not the old and new value of one thing; free and a
    price can be)."""
    if not a.comparable(b):
        return False
    x, y = _magnitude(a), _magnitude(b)
    if x and y:
        return max(x, y) / min(x, y) <= MAX_CHANGE_RATIO
    return True


# --- menu paths --------------------------------------------------------------------------------


def path_segment(text: str) -> str:
    text = re.sub(r"[*_`„“”\"'‚‘’«»]", "", text)
    text = re.sub(r"\s+", " ", text).strip(" .,;:")
    folded = text.lower()
    for source, target in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        folded = folded.replace(source, target)
    return folded


def paths_equal(a: tuple, b: tuple) -> bool:
    """Menu paths compare segment by segment; the first (root) segment may carry leading words."""
    if len(a) != len(b):
        return False
    if a[1:] != b[1:]:
        return False
    return a[0] == b[0] or a[0].endswith(" " + b[0]) or b[0].endswith(" " + a[0])


ROOT_CONJUNCTIONS = {"und", "and", "oder", "or"}


def _paths(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Menu paths "A > B > C": their span and normalised segments."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    separators = list(PATH_SEPARATOR.finditer(text))
    index = 0
    while index < len(separators):
        chain = [separators[index]]
        while index + 1 < len(separators):
            between = text[chain[-1].end():separators[index + 1].start()]
            if re.search(r"[.;:()|„“\"\n]", between) or len(between.split()) > 5:
                break
            chain.append(separators[index + 1])
            index += 1
        index += 1
        # the first segment: up to four words before the first separator, not across punctuation or lowercase words
        before = text[:chain[0].start()]
        words = re.findall(r"[^\s]+", before)[-4:]
        first: list[str] = []
        for position in range(len(words) - 1, -1, -1):
            word = words[position]
            # "Rechnung und Zahlung > Zahlungsart": a conjunction between two capitalised words is the item's own
            joined = (word.lower() in ROOT_CONJUNCTIONS and first and position > 0
                      and words[position - 1][:1].isupper() and not re.search(r"[.;:,()|\n]$", words[position - 1]))
            if joined:
                first.insert(0, word)
                continue
            if re.search(r"[.;:,()|\n]$", word) or (word[0].islower() and word not in {"&"}) or word.startswith("("):
                if word.startswith("(") and len(word) > 1 and not re.search(r"[.;:,)]$", word):
                    first.insert(0, word[1:])
                break
            first.insert(0, word)
        if not first:
            continue
        start = before.rfind(first[0])
        segments = [" ".join(first)]
        for i, separator in enumerate(chain[1:], start=1):
            segments.append(text[chain[i - 1].end():separator.start()])
        # the last segment: words up to punctuation or a function word, at most four
        tail = text[chain[-1].end():]
        last_words: list[str] = []
        for match in re.finditer(r"[^\s]+", tail):
            word = match.group(0)
            clean = word.rstrip(".,;:)!?“\"")
            # a function word ends the item ("... > Drittanbieter ein": a separable verb's particle)
            if last_words and (clean.lower() in PATH_STOP or clean.lower() in FUNCTION_WORDS or len(last_words) == 4):
                break
            if clean.startswith("("):
                break
            last_words.append(clean)
            end = chain[-1].end() + match.start() + len(clean)
            if clean != word:
                break
        if not last_words:
            continue
        segments.append(" ".join(last_words))
        found.extend(_restarted(text, start, end, segments, [chain[i - 1].end() for i in range(1, len(chain))]))
    return found


# "A > B > C und A > B > D": a middle segment holding a conjunction and the first segment again starts a second path
RESTART = re.compile(r"^(?P<end>.+?)\s*(?:,|\s(?:und|oder|sowie|bzw\.?|and|or))\s+(?P<root>.+)$", re.IGNORECASE)


def _restarted(text: str, start: int, end: int, segments: list[str],
               offsets: list[int]) -> list[tuple[int, int, tuple[str, ...]]]:
    """The path, or the paths it joins: "Konto > Netz > Status und Konto > Netz > Melden" is two paths.
    `offsets`: where each middle segment starts in `text`."""
    root = path_segment(segments[0])
    for i in range(1, len(segments) - 1):
        match = RESTART.match(segments[i])
        if match and path_segment(match.group("root")) == root:
            first = (start, offsets[i - 1] + match.end("end"),
                     tuple(path_segment(segment) for segment in [*segments[:i], match.group("end")]))
            rest = _restarted(text, offsets[i - 1] + match.start("root"), end, [match.group("root"), *segments[i + 1:]],
                              offsets[i:])
            return [first, *rest]
    return [(start, end, tuple(path_segment(segment) for segment in segments))]


# --- extraction --------------------------------------------------------------------------------


@dataclass
class _Span:
    type: str
    value: tuple
    unit: str
    start: int
    end: int
    qualifier: frozenset[int] = frozenset()
    shown_end: int | None = None  # a count is shown with what it counts, which stays a subject word
    weak: bool = False  # yields to any overlapping span ("monatlich" in "13,50 € monatlich" is the price's rate)


def _duration_unit(word: str) -> tuple[str, float]:
    word = re.sub(r"\s+", " ", word.lower())
    for pattern, family, size in DURATION_UNITS:
        if re.fullmatch(pattern, word, re.IGNORECASE):
            return family, size
    raise ValueError(word)


def _rate_unit(text_after: str, language: str) -> tuple[str, int]:
    """The denominator of a price ("0,29 € pro MB", "€4.99 per month") and the characters it takes."""
    match = RATE.match(text_after)
    if match:
        word = match.group(1).lower()
        for pattern, canonical in RATE_UNITS:
            if re.fullmatch(pattern, word, re.IGNORECASE):
                return canonical, match.end()
    match = RATE_ADVERB.match(text_after)  # "13,50 € monatlich"
    if match:
        return ADVERB_RATES[match.group(1).lower()], match.end()
    match = RATE_GERMAN_PRO.match(text_after)  # German "pro"/"je" is always a rate, whatever follows
    if match:
        stems = analyze(match.group(1), language)
        return (stems[0] if stems else match.group(1).lower()), match.end()
    return "", 0


def _clock_minutes(token: str) -> int | None:
    token = token.strip().lower().replace(" ", "")
    pm = "p" in token and "m" in token
    am = "a" in token and "m" in token
    token = re.sub(r"[ap]\.?m\.?", "", token)
    parts = re.split(r"[:.]", token)
    try:
        hours, minutes = int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1] else 0
    except ValueError:
        return None
    if pm and hours < 12:
        hours += 12
    if am and hours == 12:
        hours = 0
    if hours > 24 or minutes > 59:
        return None
    return hours * 60 + minutes


def _weekdays(text_before: str) -> frozenset[int]:
    """The weekdays named right before a time ("Mo–Fr", "montags bis freitags", "Sat")."""
    tail = re.search(rf"\b({WEEKDAY})\.?(?:\s*(?:–|-|bis|to|through)\s*({WEEKDAY})\.?)?(?:\s*,?\s*(?:von|from|ab))?\s*$",
                     text_before[-40:], re.IGNORECASE)
    if not tail:
        return frozenset()
    first = WEEKDAYS[tail.group(1).lower()]
    last = WEEKDAYS[tail.group(2).lower()] if tail.group(2) else first
    return frozenset(range(first, last + 1)) if last >= first else frozenset()


def _spans(text: str, language: str) -> list[_Span]:
    spans: list[_Span] = []
    for start, end, segments in _paths(text):
        spans.append(_Span("path", segments, "path", start, end))
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if match.group(0).startswith("+"):  # +49 89 ... is 089 ... at home; other countries keep their code
            digits = "0" + digits[2:].removeprefix("0") if digits.startswith("49") else "+" + digits
        if len(digits) >= 6:
            spans.append(_Span("identifier", (digits,), "phone", match.start(), match.end()))
    for match in EXTENSION.finditer(text):
        spans.append(_Span("identifier", (match.group(1),), "extension", match.start(), match.end()))
    if re.search(r"\bsms\b|\btext\b", text, re.IGNORECASE):
        for match in SHORT_CODE.finditer(text):
            spans.append(_Span("identifier", (match.group(1),), "shortcode", match.start(1), match.end(1)))
    for match in NAMED_SHORT_CODE.finditer(text):
        spans.append(_Span("identifier", (match.group(1),), "shortcode", match.start(1), match.end(1)))
    for match in ISO_DATE.finditer(text):
        spans.append(_Span("date", (int(match.group(1)), int(match.group(2)), int(match.group(3))), "date", match.start(), match.end()))
    for match in NUMERIC_DATE.finditer(text):
        year = 0 if not match.group(3) else int(match.group(3)) + (2000 if len(match.group(3)) == 2 else 0)
        day, month = int(match.group(1)), int(match.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            spans.append(_Span("date", (year, month, day), "date", match.start(), match.end()))
    for pattern, order in ((DE_DATE, (1, 2, 3)), (EN_DATE, (1, 2, 3)), (EN_DATE_MONTH_FIRST, (2, 1, 3))):
        for match in pattern.finditer(text):
            day, month_name, year = (match.group(i) for i in order)
            month = MONTHS[month_name.lower().rstrip(".")]
            if pattern is EN_DATE_MONTH_FIRST and month_name.lower() in {"mar", "may", "mai"} and not year:
                continue  # "may 5" is more often a verb than a date
            if 1 <= int(day) <= 31:
                spans.append(_Span("date", (int(year) if year else 0, month, int(day)), "date", match.start(), match.end()))
    for match in DAY_OF_MONTH.finditer(text):
        day = next(group for group in match.groups() if group)
        if 1 <= int(day) <= 31:
            spans.append(_Span("day_of_month", (int(day),), "day_of_month", match.start(), match.end()))
    for match in LAST_DAY_OF_MONTH.finditer(text):  # the last day is the 31st as a deadline ("bis zum Monatsende")
        spans.append(_Span("day_of_month", (31,), "day_of_month", match.start(), match.end()))
    for match in ALWAYS.finditer(text):
        spans.append(_Span("clock", (0, 1440), "clock", match.start(), match.end()))
    for match in CLOCK_RANGE.finditer(text):
        low_text, high_text, suffix = match.group(1) or match.group(4), match.group(2) or match.group(5), match.group(3) or match.group(6)
        explicit = any(":" in t or re.search(r"[ap]\.?m", t, re.IGNORECASE) for t in (low_text, high_text)) or suffix
        low, high = _clock_minutes(low_text), _clock_minutes(high_text)
        if explicit and low is not None and high is not None and low < high:
            spans.append(_Span("clock", (low, high), "clock", match.start(), match.end(), _weekdays(text[:match.start()])))
    for match in CLOCK_SINGLE.finditer(text):
        token = match.group(1) or (match.group(3) + " " + match.group(4))
        minutes = _clock_minutes(token)
        if minutes is not None and (match.group(1) is None or ":" in match.group(1) or match.group(2)):
            spans.append(_Span("clock", (minutes,), "clock", match.start(), match.end(), _weekdays(text[:match.start()])))
    for match in FREQUENCY.finditer(text):
        times = TIMES_WORDS.get((match.group(1) or "").lower()) or parse_number(match.group(2), language)
        per = parse_number(match.group(3), language) if match.group(3) else 1.0
        family, size = _duration_unit(match.group(4))
        if times and per:
            spans.append(_Span("frequency", (times, per * size * PERIOD_DAYS[family]), "frequency", match.start(), match.end()))
    for match in EVERY.finditer(text):
        every = parse_number(match.group(1), language) if match.group(1) else 1.0
        family, size = _duration_unit(match.group(2))
        if every:
            spans.append(_Span("frequency", (1.0, every * size * PERIOD_DAYS[family]), "frequency", match.start(), match.end()))
    for match in ADVERB_FREQUENCY.finditer(text):
        spans.append(_Span("frequency", (1.0, ADVERB_PERIODS[match.group(1).lower()]), "frequency", match.start(),
                           match.end(), weak=True))
    for match in COUNT_PER_PERIOD.finditer(text):
        number = parse_number(match.group(1), language)
        if number is None or re.fullmatch(rf"{QUANTITY_UNIT}|{DURATION_UNIT}|€|eur|euro|cent|ct|prozent|percent",
                                          match.group(2), re.IGNORECASE):
            continue
        period = match.group(3).lower()
        family, size = _duration_unit(re.sub(r"^(?:kalender|abrechnungs|calendar\s+)", "", period))
        spans.append(_Span("frequency", (number, size * PERIOD_DAYS[family]), "frequency", match.start(), match.end()))
    for match in MONEY_RANGE.finditer(text):
        currency = (match.group(1) or match.group(4) or match.group(7) or "").lower()
        if not currency or not re.search(r"\d", match.group(2)):
            continue
        # "1–2 Mio. €": the scale of the upper bound is the lower one's too
        high_scale = scale_factor(match.group(6), language)
        low_scale = scale_factor(match.group(3), language) if match.group(3) else high_scale
        low, high = parse_number(match.group(2), language), parse_number(match.group(5), language)
        if low is None or high is None:
            continue
        low, high = low * low_scale, high * high_scale
        if low >= high:
            continue
        factor = 0.01 if currency in HUNDREDTHS else 1.0
        rate, taken = _rate_unit(text[match.end():], language)
        unit = f"money:{CURRENCY[currency]}" + (f"/{rate}" if rate else "")
        spans.append(_Span("money", (round(low * factor, 4), round(high * factor, 4)), unit, match.start(), match.end() + taken))
    for match in MONEY.finditer(text):
        currency = (match.group(1) or match.group(6)).lower()
        amount = parse_number(match.group(2) or match.group(4), language)
        if amount is None:
            continue
        amount *= scale_factor(match.group(3) or match.group(5), language)
        factor = 0.01 if currency in HUNDREDTHS else 1.0
        rate, taken = _rate_unit(text[match.end():], language)
        unit = f"money:{CURRENCY[currency]}" + (f"/{rate}" if rate else "")
        spans.append(_Span("money", (round(amount * factor, 4),), unit, match.start(), match.end() + taken))
    for match in FREE.finditer(text):
        spans.append(_Span("money", (0.0,), "money:EUR", match.start(), match.end()))
    for match in PERCENT.finditer(text):
        value = parse_number(match.group(1), language)
        if value is not None:
            spans.append(_Span("percent", (value,), "percent", match.start(), match.end()))
    for match in QUANTITY.finditer(text):
        unit_word = match.group(3).lower().lstrip("-")
        for pattern, unit, factor in QUANTITY_UNITS:
            if re.fullmatch(pattern, unit_word, re.IGNORECASE):
                low = parse_number(match.group(1), language)
                high = parse_number(match.group(2), language) if match.group(2) else low
                if low is not None and high is not None:
                    spans.append(_Span("quantity", (low * factor, high * factor), unit, match.start(), match.end()))
                break
    for match in DURATION.finditer(text):
        low_word, high_word, unit_word = match.group(1), match.group(2), match.group(3)
        if low_word.lower() == GENITIVE_ARTICLE:
            continue
        low = parse_number(low_word, language)
        high = parse_number(high_word, language) if high_word else low
        if low is None or high is None:
            continue
        family, size = _duration_unit(unit_word)
        spans.append(_Span("duration", (low * size, high * size, family), "duration",
                           match.start(), match.end()))
    for match in COUNT.finditer(text):
        number_text, words = match.group(1), match.group(2)
        if number_text.lower() in ARTICLE_WORDS or (number_text.isdigit() and len(number_text) >= 5):
            continue
        previous = re.findall(r"[^\s]+", text[:match.start()])[-1:] or [""]
        prev = previous[0].strip("(„\"")
        if prev and (prev[0].isupper() and prev.lower() not in _STOPS and not re.search(r"[.:!?]$", prev)) or re.fullmatch(r"\d+[.,]?", prev):
            continue  # a label or name ("Stufe 2", "iOS 16") or a part of a longer number
        scale = scale_factor(words.split()[0], language) if re.fullmatch(SCALE, words.split()[0], re.IGNORECASE) else 1.0
        nouns = [w for w in words.split() if w.lower() not in _STOPS and not re.fullmatch(SCALE, w, re.IGNORECASE)]
        if not nouns:
            continue  # "50 Mio." alone: a number of nothing named
        value = parse_number(number_text, language)
        if value is None:
            continue
        value *= scale
        # the counted thing: the capitalised word in German, the last of the two words in English
        noun = nouns[-1] if language == "en" or not any(w[0].isupper() for w in nouns) else next(w for w in nouns if w[0].isupper())
        shown_end = match.start(2) + words.find(noun) + len(noun)
        if words.split()[0].lower() in _STOPS:
            continue
        spans.append(_Span("count", (value,), "count", match.start(), match.end(1), shown_end=shown_end))
    return spans


_STOPS = {
    "und", "oder", "bis", "and", "or", "to", "von", "of", "für", "for", "in", "im", "am", "an", "auf", "mit", "with",
    "pro", "per", "je", "the", "der", "die", "das", "den", "dem", "des", "a", "bei", "at", "als", "as", "nach",
    "after", "vor", "before", "ab", "from", "über", "over", "unter", "under", "mehr", "more", "weniger", "less", "is",
    "ist", "sind", "are", "was", "war", "werden", "wird", "be", "by", "durch", "zum", "zur", "ohne", "without", "sowie",
}

PRIORITY = ["path", "identifier", "date", "day_of_month", "frequency", "clock", "money", "percent", "quantity",
            "duration", "count"]


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Keep non-overlapping spans, preferring types by PRIORITY and then longer spans."""
    chosen: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.weak, PRIORITY.index(s.type), -(s.end - s.start), s.start)):
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _masked(text: str, spans: list[_Span]) -> str:
    chars = list(text)
    for span in spans:
        for i in range(span.start, span.end):
            chars[i] = " "
    return "".join(chars)


def content_terms(text: str, locale: str) -> frozenset[str]:
    """Content stems of a text (stop words and bare numbers left out)."""
    return frozenset(term for term in analyze(text, locale) if not term[0].isdigit() and len(term) > 1)


NEAR_WORDS = 6  # content words on each side of a fact: what the number is about, locally
HEAD_WORDS = 3  # the closest content words on each side: the noun the number belongs to ("Gebühr von 4,50 €")


def _near_words(words: list[str], language: str, count: int) -> list[str]:
    """The first `count` words of the list that are content words in the language."""
    chosen: list[str] = []
    for word in words:
        if content_terms(word, language):
            chosen.append(word)
            if len(chosen) == count:
                break
    return chosen


ROW_CELL = re.compile(r"[^;]+")


@dataclass(frozen=True)
class _RowCell:
    context: str  # the row's first cell and the value's own cell
    column: str  # the value's column label ("" in the first cell)
    other_columns: tuple[str, ...]  # the labels of the row's other value columns


def _row_context(masked: str, position: int) -> _RowCell | None:
    """In a table row read as "Label: value; Label: value" (`passages.split_passages`), what a value at
    `position` is about: its column's label, its own cell and the row's first cell (what the row names).
    "Tarif: Plus; Deckungssumme: 50 Mio. €; Selbstbeteiligung: 0 €": the 0 € is the Plus tariff's
    deductible, not a neighbour of its cover sum."""
    cells = list(ROW_CELL.finditer(masked))
    cell = next((c for c in cells if c.start() <= position < c.end()), None)
    if cell is None or len(cells) < 2:
        return None
    if cell is cells[0]:
        return _RowCell(cell.group(0), "", ())
    labels = [c.group(0).split(":", 1)[0] if ":" in c.group(0) else "" for c in cells]
    own = labels[cells.index(cell)]
    others = tuple(label for c, label in zip(cells[1:], labels[1:], strict=True) if c is not cell and label)
    return _RowCell(f"{cells[0].group(0)} {cell.group(0)}", own, others)


def extract_facts(sentence: str, locale: str = "de", *, row: bool = False) -> list[Fact]:
    """The facts a sentence states, each with the sentence's subject terms and the words next to it.

    `row`: the sentence is a table row read as "Label: value; …"; a value's neighbours are then its
    column's label, its cell and the row's first cell, not the cells beside it."""
    language = language_of(locale) or "de"
    spans = _resolve(_spans(sentence, language))
    if not spans:
        return []
    masked = _masked(sentence, spans)
    subject = content_terms(masked, language)
    facts = []
    for span in spans:
        around = _row_context(masked, span.start) if row else None
        column = other_columns = frozenset()
        if around is not None:
            near = head = content_terms(" ".join(re.findall(r"[^\W\d_][\w-]*", around.context)), language)
            column = content_terms(around.column, language)
            # whole-word stems only: a compound's suffix part ("ung" of "Deckungssumme") names no column
            other_columns = frozenset(t for t in content_terms(" ".join(around.other_columns), language) if len(t) >= 4) - column
        else:
            before = _near_words(list(reversed(re.findall(r"[^\W\d_][\w-]*", masked[:span.start]))), language, NEAR_WORDS)
            after = _near_words(re.findall(r"[^\W\d_][\w-]*", masked[span.end:]), language, NEAR_WORDS)
            near = content_terms(" ".join(before + after), language)
            head = content_terms(" ".join(before[:HEAD_WORDS] + after[:HEAD_WORDS]), language)
        shown = sentence[span.start:span.shown_end or span.end].strip()
        facts.append(Fact(span.type, span.value, span.unit, shown, span.start, span.end, subject, near, head, span.qualifier,
                          column, other_columns))
    return facts
