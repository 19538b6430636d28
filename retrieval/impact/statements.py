"""Change statements: the title and each clause of a change's description, with their facts.

A clause saying that something stays as it is ("bleibt unverändert", "weiterhin", "not affected")
is *unchanged*, unless it also says "künftig"/"from now on"; values after "bisher/statt/instead of",
before "auf/to" in "von X auf Y", or in a clause saying something is dropped ("entfällt", "no
longer") are *old* values the change ends. The effective date is dropped (it is when, not what).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np

from retrieval.search.query import detect_locale
from retrieval.text.facts import Fact, content_terms, extract_facts
from retrieval.text.sentences import split_sentences
from retrieval.text.tokens import language_of

UNCHANGED = re.compile(
    r"\bbleib(?:t|en)\b|\bunverändert|\bändert\s+sich\s+nicht|\bändern\s+sich\s+nicht|\bweiterhin\b|\bnicht\s+betroffen"
    r"|\bunberührt|\bwie\s+bisher\b|\bwie\s+gewohnt\b|\bnach\s+wie\s+vor\b|\bgilt\s+weiter|\bgelten\s+weiter"
    r"|\bnichts\s+ändert\s+sich|\bändert\s+sich\s+nichts|\bkeine\s+änderung|\bbestehen\s+bleib|\bebenso\s*wenig|\bgenauso\s*wenig"
    r"|\bunchanged\b|\bunaffected\b|\bnot\s+affected\b|\bstays?\b|\bremains?\b|\bas\s+before\b|\bstill\b"
    r"|\bcontinues?\s+to\b|\bneither\b|\bnor\b|\bnothing\s+changes\b|\bno\s+change\b|\bas\s+they\s+are\b|\bas\s+it\s+is\b|\bsame\s+as\s+before\b",
    re.IGNORECASE,
)
# ... unless the clause also says it is new from now on ("künftig bleibt der Zugang 60 Minuten gesperrt")
NOVELTY = re.compile(r"\b(?:zu)?künftig|\bab\s+sofort\b|\bnur\s+noch\b|\berstmals\b|\bnicht\s+mehr\b"
                     r"|\bfrom\s+now\s+on\b|\bin\s+future\b|\bgoing\s+forward\b|\bno\s+longer\b", re.IGNORECASE)
# a value right after these words is the old one ("statt bisher 14 Tage", "instead of €4.95")
OLD_BEFORE = re.compile(r"(?:\bbisher\w*|\bstatt|\banstelle|\bvorher|\bfrüher|\bnicht\s+mehr|\bpreviously|\bformerly"
                        r"|\binstead\s+of|\bno\s+longer|\buntil\s+now)(?:\s+[^\W\d_]+){0,3}\s*$", re.IGNORECASE)
# the values of a clause saying something is dropped are old ("die Gebühr von 10 € entfällt")
REMOVED = re.compile(r"\bentf(?:ällt|allen)\b|\babgeschafft|\bgestrichen|\beingestellt|\bnicht\s+mehr\b|\bno\s+longer\b"
                     r"|\bdiscontinued\b|\babolished\b|\bremoved\b|\bwithdrawn\b", re.IGNORECASE)
# "von 4,50 € auf 3,00 €", "from €4.50 to €3.00": the first is the old value
FROM_TO = re.compile(r"^\s*(?:auf|to)\s*$", re.IGNORECASE)
FROM_BEFORE = re.compile(r"\b(?:von|from)\s*$", re.IGNORECASE)
# a comma piece opening with the finite verb of staying (German verb-second: its subject is what came before)
# and nothing else ("bleiben unverändert", "ändern sich nicht"; not "gilt aber weiterhin nur für Neukunden")
STAYING_VERB_FIRST = re.compile(r"\s*(?:bleib(?:t|en)|ändert\s+sich|ändern\s+sich|remains?|stays?)(?:\s+\S+){0,2}\s*\.?\s*$",
                                re.IGNORECASE)
# a piece opening with staying, the verb right after it ("Unverändert bleiben der Tarif Basis, die Leistungen
# für …, … sowie die Meldefrist"): what follows, comma by comma, is the list of what stays
STAYING_FIRST = re.compile(
    r"^\s*(?:unverändert|weiterhin|gleich|ebenso|nicht\s+betroffen|unberührt|unchanged|unaffected|still)\s+"
    r"(?:bleib(?:t|en)|gilt|gelten|sind|ist|are|is|remains?|stay)\b",
    re.IGNORECASE,
)
# ... up to a piece that turns to something else ("…, aber …", "…, neu ist …")
TURN = re.compile(r"\b(?:aber|jedoch|dagegen|hingegen|but|however|whereas)\b|\bneu\w*|\bnew\b|\bändert\s+sich\b(?!\s+nicht)"
                  r"|\bsteig\w*|\bsink\w*|\bstatt\b|\binstead\b", re.IGNORECASE)
MIN_CLAUSE_WORDS = 4  # shorter comma pieces ("Ab Montag", an enumeration item) belong to the next clause


@dataclass
class Statement:
    text: str
    unchanged: bool
    facts: list[Fact]
    language: str
    context: str = ""  # the change's title: what an elliptic clause ("die Grenze steigt auf 200 €") is about
    old: frozenset[int] = frozenset()  # indexes of facts that are values the change ends
    vector: np.ndarray | None = None
    terms_by_language: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def match_text(self) -> str:
        return f"{self.context}. {self.text}" if self.context else self.text

    def is_old(self, fact: Fact) -> bool:
        return any(fact is self.facts[i] for i in self.old)

    def terms(self, language: str) -> frozenset[str]:
        """Content stems without the facts, in the statement's language and the reader's (names match across)."""
        if language not in self.terms_by_language:
            masked = f"{self.context} {_mask(self.text, self.facts)}"
            self.terms_by_language[language] = content_terms(masked, self.language) | content_terms(masked, language)
        return self.terms_by_language[language]


def _mask(text: str, facts: list[Fact]) -> str:
    chars = list(text)
    for fact in facts:
        chars[fact.start:fact.end] = " " * (fact.end - fact.start)
    return "".join(chars)


def _split_outside_brackets(text: str, separator: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for match in re.finditer(rf"[(\[„“\")\]]|{separator}\s+", text):
        mark = match.group(0)
        if mark in "([„":
            depth += 1
        elif mark in ")]“" and depth:
            depth -= 1
        elif mark.strip() == separator and depth == 0:
            pieces.append(text[start:match.start()])
            start = match.end()
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _unchanged(clause: str) -> bool:
    return bool(UNCHANGED.search(clause)) and not NOVELTY.search(clause)


def _old_values(text: str, facts: list[Fact]) -> frozenset[int]:
    """The facts of a clause that are values the change ends (see OLD_BEFORE, REMOVED, FROM_TO)."""
    old = {i for i, fact in enumerate(facts) if OLD_BEFORE.search(text[:fact.start])}
    for i, (first, second) in enumerate(zip(facts, facts[1:], strict=False)):
        if first.type == second.type and FROM_BEFORE.search(text[:first.start]) and FROM_TO.match(text[first.end:second.start]):
            old.add(i)
    if REMOVED.search(text) and not NOVELTY.search(text.replace("nicht mehr", "").replace("no longer", "")):
        old |= set(range(len(facts)))
    return frozenset(old)


def _clauses(sentence: str) -> list[tuple[str, bool]]:
    """Clauses of a sentence with whether each says something stays as it is.

    The sentence is cut at ';'; a piece is cut further at ',' only to set apart what stays the same
    ("..., weiterhin auch bei ..."): the rest of the piece stays whole, so an elliptic part ("bei
    einer Kundentreue ab 24 Monaten bis 50 €") keeps its subject.
    """
    clauses: list[tuple[str, bool]] = []
    for piece in _split_outside_brackets(sentence, ";"):
        if not _unchanged(piece):
            clauses.append((piece, False))
            continue
        parts: list[str] = []
        for part in _split_outside_brackets(piece, ","):
            if parts and len(parts[-1].split()) < MIN_CLAUSE_WORDS and not _unchanged(parts[-1]):
                parts[-1] = f"{parts[-1]}, {part}"
            else:
                parts.append(part)
        if parts and STAYING_FIRST.match(parts[0]):
            listed = 1
            while listed < len(parts) and not (TURN.search(parts[listed]) or NOVELTY.search(parts[listed])):
                listed += 1
            parts[:listed] = [", ".join(parts[:listed])]
        # "Upgrades, die Gebühr und der Termin, bleiben unverändert": a part opening with the verb of staying has
        # its subject before the comma, so the parts before it stay as they are too
        for index, part in enumerate(parts):
            if index and _unchanged(part) and STAYING_VERB_FIRST.match(part):
                parts[: index + 1] = [", ".join(parts[: index + 1])]
                break
        changed = [part for part in parts if not _unchanged(part)]
        clauses.extend((part, True) for part in parts if _unchanged(part))
        if changed:
            clauses.append((", ".join(changed), False))
    return clauses


def change_statements(title: str, description: str, effective_date: dt.date) -> list[Statement]:
    """The change's statements: its title and the clauses of its description, unchanged ones marked."""
    language = language_of(detect_locale(f"{title}. {description}"))

    def statement(text: str, unchanged: bool, context: str) -> Statement:
        facts = [fact for fact in extract_facts(text, language) if not _is_effective_date(fact, effective_date)]
        return Statement(text, unchanged, facts, language, context, _old_values(text, facts) if not unchanged else frozenset())

    statements = [statement(title, _unchanged(title), "")]
    for sentence in split_sentences(description):
        statements.extend(statement(text, unchanged, title) for text, unchanged in _clauses(sentence))
    return statements


def _is_effective_date(fact: Fact, effective_date: dt.date) -> bool:
    """The date the change takes effect is when, not what: it is never a changed value."""
    if fact.type != "date":
        return False
    year, month, day = fact.value
    return (month, day) == (effective_date.month, effective_date.day) and year in (0, effective_date.year)
