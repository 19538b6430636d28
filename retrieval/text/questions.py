"""What a question asks for and names, and what a passage states (general German and English)."""

from __future__ import annotations

import re

from retrieval.text.numbers import normalise_days
from retrieval.text.sentences import split_sentences

# German nouns of asking also end compounds ("Zahlungsfrist", "Versandkosten"), hence \w* on both sides.
ASKED_KINDS = {
    "money": re.compile(
        r"\bwie\s*viel\b|\bwie\s+hoch\b|\bwas\s+(?:kostet|kosten)|\bwie\s+teuer|\bkostet\b|\w*(?:kosten|gebühr|preis|betrag"
        r"|pauschale|entgelt|rabatt|gutschrift|erstattung)\w*|\bgutgeschrieben|\berstatt\w*|\bhow\s+(?:much|high)\b|\bcosts?\b"
        r"|\w*(?:price|fee|charge)s?\b|\bcharged?\b|\bpay\b|\bdiscounts?\b|\brefunds?\b",
        re.IGNORECASE,
    ),
    "time": re.compile(
        r"\bwie\s+(?:lang\w*|schnell|früh|spät)|\b(?:bis|ab|seit)\s+wann\b|\bwann\b|\bum\s+wie\s*viel\s+uhr\b|\buhrzeit\w*"
        r"|\w*(?:frist|dauer|zeitraum|öffnungszeit)\w*|\bdauert\b|\bgültig\w*|\bhow\s+(?:long|soon|fast|quickly)\b|\bwhen\b"
        r"|\b(?:what|which)\s+(?:time|day|date)s?\b|\bby\s+when\b|\w*(?:deadline|period)s?\b|\bvalid\b|\bopening\s+hours\b",
        re.IGNORECASE,
    ),
    "count": re.compile(
        r"\bwie\s*(?:viel\w*|hoch)|\b(?:ab|bis\s+zu)\s+welche[mnrs]?\b|\banzahl\b|\b(?:welche|what|which)\s+(?:\w*nummer|durchwahl"
        r"|(?:phone\s+)?number|extension)\b|\bhow\s+(?:many|much|high)\b|\bnumber\s+of\b|\bup\s+to\s+(?:what|which)\b",
        re.IGNORECASE,
    ),
    "frequency": re.compile(r"\bwie\s+oft\b|\bhow\s+often\b|\bhow\s+many\s+times\b", re.IGNORECASE),
    "steps": re.compile(
        r"\bwie\s+(?!lang|viel|oft|teuer|hoch|schnell|spät|früh)\w+\s+ich\b|\bwas\s+(?:mach|mache|tue|muss|soll|kann)\s+ich\b"
        r"|\bwo\s+\w+\s+ich\b|\bhow\s+(?:do|can|should|would)\s+i\b|\bhow\s+to\b|\bwhat\s+(?:do|should|can)\s+i\s+do\b"
        r"|\bwhere\s+(?:do|can|should)\s+i\b",
        re.IGNORECASE,
    ),
}
_NUMBER_WORDS = r"(?:zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|hundert|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred)"
_TIME_UNITS = r"(?:sekunde|minute|min\b|stunde|std\b|tag|werktag|kalendertag|woche|monat|jahr|uhr\b|second|hour|day|week|month|year|working\s+day)"
STATED_KINDS = {
    "money": re.compile(
        r"\d\s?(?:€|eur\b|euro|cent|ct\b|chf|£|\$|%|prozent|percent)|(?:€|\$|£)\s?\d"
        r"|\b(?:kostenlos|gratis|gebührenfrei|unentgeltlich|free|no\s+extra\s+cost)\b",
        re.IGNORECASE,
    ),
    "time": re.compile(
        rf"\d\.?\s*(?:[–-]\s*\d+\s*)?{_TIME_UNITS}|\b\d{{1,2}}:\d{{2}}\b|\b\d{{1,2}}\.\s?(?:des|eines|jedes|dieses)\b|\b\d{{1,2}}(?:st|nd|rd|th)\b"
        rf"|\b(?:sofort|umgehend|jederzeit|immediately|any\s*time|rund\s+um\s+die\s+uhr|around\s+the\s+clock)\b"
        rf"|\b(?:{_NUMBER_WORDS}|ein\w*|one|a|an)\s+(?:werk|kalender)?{_TIME_UNITS}",
        re.IGNORECASE,
    ),
    "count": re.compile(rf"\d|\b{_NUMBER_WORDS}\b", re.IGNORECASE),
    "frequency": re.compile(
        r"\b(?:einmal|zweimal|dreimal|mehrmals|\d+\s?(?:mal|x)|once|twice|\d+\s+times|pro|je|per|jederzeit|any\s*time"
        r"|täglich|wöchentlich|monatlich|jährlich|daily|weekly|monthly|yearly)\b",
        re.IGNORECASE,
    ),
    "steps": re.compile(
        r"\S\s>\s\S|\b[\w-]+\.[a-z]{2,}/\w|[*#]\d+[*#]|\b0\d{2,4}\s\d{3}\s?\d{2,}|\+\d{2}\s\d"
        # an imperative: German "Wählen Sie ..." / "..., senden Sie ..." (not a conditional or a question), English
        # "Please ..." or a sentence opening with a verb of help-centre instructions
        r"|(?:^|,\s)(?:bitte\s+)?(?!(?:wenn|dann|wann|denn|falls|sobald|während|bevor|nachdem|können|könnten|haben|hatten"
        r"|sind|werden|würden|müssen|sollen|sollten|dürfen|wollen|möchten)\s)[a-zäöü]\w*e?n\s+Sie\b(?!.*\?$)"
        r"|^please\s|^(?:open|go|tap|click|select|choose|enter|call|send|book|contact|use|insert|restart|check|switch|turn|press"
        r"|log|sign|download|install|fill|visit|pay|return|cancel|request|report|activate|reset|set|keep|wait)\s",
        re.IGNORECASE,
    ),
}


def asked_kinds(question: str) -> set[str]:
    """The kinds of fact a question asks for (an amount, a time, a count, a frequency, steps).
    "count" (any number) only when no more specific kind of number is asked for."""
    asked = {kind for kind, pattern in ASKED_KINDS.items() if pattern.search(question)}
    return asked - {"count"} if asked & {"money", "time", "frequency"} else asked


def stated_kinds(text: str, kind: str = "sentence") -> frozenset[str]:
    """The kinds of fact a passage states; a numbered list item is a step of a procedure."""
    stated = {name for name, pattern in STATED_KINDS.items() if pattern.search(text)}
    if kind == "step":
        stated.add("steps")
    return frozenset(stated)


# --- names ---

NAME_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
CLAUSE_START = re.compile(r"(?:^|[.!?:;(\[„“\"»«–—]|\s-)\s*$")


def naming_words(question: str) -> list[str]:
    """The words of the asking sentence that name something: capitalised inside a sentence or clause
    (German nouns, names in either language), or a code mixing letters and digits ("SOMMER26")."""
    sentences = split_sentences(normalise_days(question))  # a day of the week is a time, not a name
    asking = [sentence for sentence in sentences if sentence.rstrip().endswith("?")]
    found: list[str] = []
    for sentence in asking if asking and len(asking) < len(sentences) else sentences:
        for match in NAME_WORD.finditer(sentence):
            word = match.group(0)
            if "'" in word or "’" in word or word.isdigit() or len(word) < 2:
                continue
            code = any(ch.isdigit() for ch in word)
            if code or (word[0].isupper() and not CLAUSE_START.search(sentence[:match.start()])):
                found.append(word)
    return list(dict.fromkeys(found))
