"""Sentences of German and English text.

Sentences are split where a new one starts (a capital, digit or quote after . ! ?), never after an
abbreviation ("z. B.", "e.g.", "Nr.") or a German ordinal ("bis zum 20. eines Monats"): cutting
there would leave a fragment without its citation, or a fact without its context.
"""

from __future__ import annotations

import re

# a sentence ends where a new one starts after . ! ? (general German/English typography)
SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"„“(])")
# a full stop after a single letter ("z. B.", "e.g."), a one- or two-digit number (German ordinals,
# list numbers) or a common German/English abbreviation ends no sentence
NO_SENTENCE_END = re.compile(
    r"(?:\b[^\W\d_]|\b\d{1,2}|\b(?:bzw|ca|inkl|exkl|zzgl|ggf|evtl|usw|etc|vgl|bspw|sog|nr|art|abs|str|tel|dr|mio|mrd"
    r"|incl|excl|approx|vs|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|okt|nov|dec|dez))\.$",
    re.IGNORECASE,
)


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, each a verbatim slice of it."""
    sentences, start = [], 0
    for boundary in SENTENCE_BOUNDARY.finditer(text):
        if NO_SENTENCE_END.search(text, start, boundary.start()):
            continue
        sentences.append(text[start:boundary.start()])
        start = boundary.end()
    sentences.append(text[start:])
    return [sentence.strip() for sentence in sentences if sentence.strip()]
