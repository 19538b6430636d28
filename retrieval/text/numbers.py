"""Numbers, units and dates of German and English text: ONE reader for all of Verity.

`parse_number` reads decimals and thousands in the notation of the text's language ("1.000,50"
de and "1,000.50" en are 1000.5; "2,500" is 2.5 in German and 2500 in English); `quantities`
reads a number with its unit; month and weekday names and abbreviations are one table each.
Everything here is general language knowledge; nothing refers to a particular knowledge base.
"""

from __future__ import annotations

import re

from retrieval.text.tokens import NON_UNITS

# --- numbers ----------------------------------------------------------------------------------

NUM = r"\d+(?:[.,]\d+)*(?:,[-–]{1,2}(?=\s?(?:€|eur|euro)))?"  # "65,– €" is German for 65,00 €
NUMBER_WORDS = {
    "ein": 1, "eine": 1, "einen": 1, "einem": 1, "eines": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4,
    "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}
# "ein/eine/a" stand for 1 only before a unit; as counts of things they are articles.
ARTICLE_WORDS = {"ein", "eine", "einen", "einem", "eines", "einer"}
GENITIVE_ARTICLE = "eines"  # "bis zum 5. eines Monats": of a month, not a duration of one
TIMES_WORDS = {"einmal": 1, "zweimal": 2, "dreimal": 3, "viermal": 4, "fünfmal": 5, "zehnmal": 10,
               "once": 1, "twice": 2, "thrice": 3}
QUANTITY_WORD = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUMBER = rf"(?:{NUM}|\b(?:{QUANTITY_WORD})\b)"
# Scale words after a number: "50 Mio. €", "1,5 Millionen Euro", "EUR 2 million", "3 Mrd.".
# German "Billion" is 10^12, English "billion" 10^9.
SCALE = r"(?:(?:mio|mrd|tsd)(?:\.|\b)|(?:tausend|thousand|millionen|millions?|milliarden?|billionen|billions?|bn)\b)"
SCALES = {"tsd": 1e3, "tausend": 1e3, "thousand": 1e3, "mio": 1e6, "million": 1e6, "millionen": 1e6, "millions": 1e6,
          "mrd": 1e9, "milliarde": 1e9, "milliarden": 1e9, "bn": 1e9, "billionen": 1e12}


def scale_factor(word: str | None, language: str = "de") -> float:
    """The factor of a scale word ("Mio." 10^6), 1 for none; "billion" by the text's language."""
    if not word:
        return 1.0
    word = word.lower().rstrip(".")
    if word in {"billion", "billions"}:
        return 1e12 if language == "de" and word == "billion" else 1e9
    return SCALES.get(word, 1.0)


def parse_number(token: str, language: str = "de") -> float | None:
    """A number in German or English notation: 9,95 == 9.95; 1.500 (de) == 1,500 (en) == 1500."""
    token = re.sub(r",[-–]+$", "", token.strip().lower())
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    if not re.fullmatch(NUM, token):
        return None
    if "." in token and "," in token:  # both: the last one is the decimal mark
        decimal = "." if token.rfind(".") > token.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        return float(token.replace(thousands, "").replace(decimal, "."))
    for mark in (".", ","):
        parts = token.split(mark)
        if len(parts) > 1:
            grouped = all(len(part) == 3 for part in parts[1:]) and 1 <= len(parts[0]) <= 3
            # a group of three digits is a thousands separator in the language that uses that mark for it
            if grouped and (len(parts) > 2 or mark == ("." if language == "de" else ",")):
                return float("".join(parts))
            if len(parts) > 2:
                return None
            return float(f"{parts[0]}.{parts[1]}")
    return float(token)


# --- months and days of the week ----------------------------------------------------------------

MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "jänner": 1, "februar": 2, "feb": 2, "february": 2, "märz": 3, "mär": 3,
    "march": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6, "jun": 6, "june": 6, "juli": 7,
    "jul": 7, "july": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}
MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# Days of the week, German and English: names (also with the adverbial or plural -s: "samstags",
# "mondays") and abbreviations. The one table behind fact extraction and question analysis.
WEEKDAY_NAMES = (("montag", "monday"), ("dienstag", "tuesday"), ("mittwoch", "wednesday"), ("donnerstag", "thursday"),
                 ("freitag", "friday"), ("samstag", "sonnabend", "saturday"), ("sonntag", "sunday"))
WEEKDAY_ABBREVIATIONS = (("mo", "mon"), ("di", "tue", "tues"), ("mi", "wed"), ("do", "thu", "thur", "thurs"), ("fr", "fri"),
                         ("sa", "sat"), ("so", "sun"))
WEEKDAYS = {
    word: index
    for index, (names, abbreviations) in enumerate(zip(WEEKDAY_NAMES, WEEKDAY_ABBREVIATIONS, strict=True))
    for word in (*abbreviations, *names, *(f"{name}s" for name in names))
}
WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))


# Days of the week (general German and English): a customer asks "samstags" or "on weekdays", an
# opening-hours table says "Mo–Fr 8:00–20:00, Sa 9:00–16:00". Names, and abbreviations where they
# stand in a schedule (a range, or before a time or another day), become one token per day; a
# range stands for each day in it, and a range over Monday to Friday also for "weekdays".
_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_DAY_NAMES = {day: "|".join(names) for day, names in zip(_DAYS, WEEKDAY_NAMES, strict=True)}
_DAY_ABBREVIATIONS = {day: "|".join(a.capitalize() for a in abbreviations)
                      for day, abbreviations in zip(_DAYS, WEEKDAY_ABBREVIATIONS, strict=True)}
_DAY_NAME = re.compile(r"\b(?:" + "|".join(f"(?P<{d}>{n})" for d, n in _DAY_NAMES.items()) + r")s?\b", re.IGNORECASE)
_DAY_ABBREVIATION = "(?:" + "|".join(_DAY_ABBREVIATIONS.values()) + r")\.?"
_DAY_RANGE = re.compile(rf"\b({_DAY_ABBREVIATION}|(?:{'|'.join(_DAY_NAMES.values())})s?)\s*(?:[–—-]|bis|to|through)\s*"
                        rf"({_DAY_ABBREVIATION}|(?:{'|'.join(_DAY_NAMES.values())})s?)(?!\w)", re.IGNORECASE)
_DAY_IN_SCHEDULE = re.compile(rf"\b({_DAY_ABBREVIATION})(?=\s*(?:\d|,\s*{_DAY_ABBREVIATION}|und\s|and\s|&))")
_WEEKDAYS = re.compile(r"\b(?:wochentags|wochentage?n?|weekdays?|unter\s+der\s+woche|during\s+the\s+week)\b", re.IGNORECASE)


def _day(word: str) -> str | None:
    word = word.rstrip(".").lower()
    for day in _DAYS:
        if word in _DAY_ABBREVIATIONS[day].lower().split("|") or re.fullmatch(f"(?:{_DAY_NAMES[day]})s?", word):
            return day
    return None


def _day_range(match: re.Match) -> str:
    first, last = _day(match.group(1)), _day(match.group(2))
    if first is None or last is None:
        return match.group(0)
    start, end = _DAYS.index(first), _DAYS.index(last)
    days = _DAYS[start:end + 1] if start <= end else _DAYS[start:] + _DAYS[:end + 1]
    weekdays = " wdwk" if {"mo", "fr"} <= set(days) and start <= end else ""
    return " ".join(f"wd{day}" for day in days) + weekdays


def normalise_days(text: str) -> str:
    """Days of the week as one token each ("Mo–Fr" -> wdmo ... wdfr wdwk, "samstags" -> wdsa)."""
    text = _DAY_RANGE.sub(_day_range, text)
    text = _DAY_IN_SCHEDULE.sub(lambda m: f"wd{_day(m.group(1))}", text)
    text = _DAY_NAME.sub(lambda m: f"wd{m.lastgroup}", text)
    return _WEEKDAYS.sub("wdwk", text)



# --- quantities a question states, and the limits the knowledge states in the same unit ---

# A question stating a quantity ("er will 400 € Kulanz", "seit 4 Jahren Kunde", "45 Minuten Wartezeit")
# is answered by the limits stated in the same unit ("bis 250 €", "mindestens 5 Jahre", "über 30
# Minuten"): those passages are the answer, however few of the question's words they repeat. Units are
# general language: currencies, percent, units of time by name, any other word after a number
# ("6 Raten" - "12 Monatsraten", "8 kWp") as itself, the head of a German compound included.
QUANTITY = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s?-?\s?(€|\$|£|%|[^\W\d_]+(?:/[^\W\d_]+)?)|(€|\$|£)\s?(\d+(?:[.,]\d+)*)", re.IGNORECASE)
_UNIT_CLASSES = (
    ("money", re.compile(r"€|\$|£|eur|euros?|cent|ct|chf|dollars?|pounds?", re.IGNORECASE)),
    ("percent", re.compile(r"%|prozent|percent|pct", re.IGNORECASE)),
    ("second", re.compile(r"sekunden?|sek|seconds?|secs?", re.IGNORECASE)),
    ("minute", re.compile(r"minuten?|min|minutes?|mins", re.IGNORECASE)),
    ("hour", re.compile(r"stunden?|std|hours?|hrs?|h", re.IGNORECASE)),
    ("day", re.compile(r"(?:werk|kalender|arbeits|bank)?tag(?:e|en|es)?|days?|werktags?", re.IGNORECASE)),
    ("week", re.compile(r"wochen?|weeks?", re.IGNORECASE)),
    ("month", re.compile(r"monat(?:e|en|s)?|months?", re.IGNORECASE)),
    ("year", re.compile(r"jahr(?:e|en|es)?|years?", re.IGNORECASE)),
)
MIN_UNIT_LENGTH = 2
CENTS = re.compile(r"cents?|ct", re.IGNORECASE)  # money in hundredths


def _unit(word: str) -> str | None:
    head = word.split("/")[0]
    for name, pattern in _UNIT_CLASSES:
        if pattern.fullmatch(head):
            return name
    word = word.lower()
    if len(word) < MIN_UNIT_LENGTH or word in NON_UNITS:
        return None
    return f"word:{word}"


def quantities(text: str, language: str = "de") -> tuple[tuple[str, float], ...]:
    """The quantities a text states, as (unit, value): "400 €" -> ("money", 400.0), "10 Raten" ->
    ("word:raten", 10.0). Numbers are read by `parse_number` in the text's language."""
    found = []
    for match in QUANTITY.finditer(text):
        word = match.group(2) or match.group(3)
        unit = _unit(word)
        if unit:
            value = parse_number(match.group(1) or match.group(4), language)
            if value is not None:
                found.append((unit, value / 100 if CENTS.fullmatch(word.split("/")[0]) else value))
    return tuple(found)


def same_unit(asked: str, stated: str) -> bool:
    """A unit of the question's; a word unit also matches the head of a compound ("raten" - "monatsraten")."""
    return asked == stated or (asked.startswith("word:") and stated.startswith("word:") and stated.endswith(asked[5:]))

# --- numbers as comparison keys -----------------------------------------------------------------

NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")


def numbers_in(text: str) -> set[str]:
    """Numbers as keys for "the same number is stated": 14,95 == 14.95 and 1.000 == 1,000 == 1000,
    whatever the notation (an answer sentence restates its source, it does not translate it)."""
    found = set()
    for match in NUMBER_TOKEN.finditer(text):
        token = match.group(0)
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", token):
            token = re.sub(r"[.,]", "", token)
        found.add(token.replace(",", "."))
    return found
