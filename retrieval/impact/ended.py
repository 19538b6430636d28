"""What a change ends: passages that still describe something the change discontinues, replaces or stops.

The fact comparison (retrieval.impact.assessment) finds changed values and moved menu paths. A change
also ends things without a value: "die Hotline setzt die Zwei-Faktor-Anmeldung nicht mehr zurück", "statt
der Alpenbox 7 erhalten Neukunden die Alpenbox 8", "bieten wir kein befristetes Upgrade mehr an", "is
no longer accepted". A passage that still says what such a clause ends is wrong from the effective date.

1. Ending clauses: a change statement (not one saying something stays as it is, nor one ending a value,
   which the fact comparison judges) with a general cue of
   ending or replacing ("nicht mehr", "kein ... mehr", "entfällt", "eingestellt", "ersetzt", "statt",
   "no longer", "discontinued", "replaced", "instead of"): German and English language knowledge, no
   word of any knowledge base.
2. Candidates: the best chunks for each ending clause (hybrid search, both audiences), and every passage
   of their articles (facts or not) in the clause's language.
3. A passage describes what the clause ends when it holds most of the clause's content (idf-weighted
   coverage of the clause's stems, the cue words aside, at least ENDED_COVERAGE) and its sentence vector
   is close (ENDED_COSINE), and it does not itself say that the thing ends (then it is already current).
4. The finding names the passage and the clause, with the effective date, in the article's language.

Thresholds in retrieval.tuning, chosen on the development change sets (demo, insurer).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import numpy as np

from governance.models import ChangeEvent
from governance.services import ImpactFinding, ImpactReason
from retrieval.impact.matching import ArticlePassage, article_passages, coverage, embed, idf_weights
from retrieval.impact.statements import Statement
from retrieval.index.embeddings import Embedder
from retrieval.search.hybrid import chunk_hits
from retrieval.search.query import SearchQuery
from retrieval.text.addresses import EMAIL
from retrieval.text.facts import PATH_SEPARATOR, Fact, content_terms, path_segment
from retrieval.text.tokens import language_of
from retrieval.tuning import CHUNKS_PER_QUERY, ENDED_COSINE, ENDED_COVERAGE, ENDED_MIN_WORDS, PATH_SCORE

ENDING = re.compile(
    r"\bnicht\s+mehr\b|\bkein(?:e|en|er|em)?\b[^.;:]{0,80}?\bmehr\b|\bentf(?:ällt|allen)\b|\beingestellt\b|\babgeschafft\b"
    r"|\bgestrichen\b|\bersetz(?:t|en)\b|\bstatt\b|\banstelle\b|\babgelöst\b|\bausläuft\b|\bläuft\s+aus\b"
    r"|\bno\s+longer\b|\bnot\s+any\s*more\b|\bdiscontinued\b|\breplaced?\b|\binstead\s+of\b|\bwithdrawn\b|\bphased\s+out\b",
    re.IGNORECASE,
)
CUE_WORDS = ("nicht mehr kein keine keinen keiner mehr entfällt entfallen eingestellt abgeschafft gestrichen ersetzt "
             "ersetzen statt anstelle abgelöst ausläuft läuft aus no longer not any more anymore discontinued replaced "
             "replace instead withdrawn phased out künftig ab sofort future")
STATED_CHARS = 140


# what follows "sondern"/"but" is the new way, not what the clause ends
CONTRAST = re.compile(r",?\s+(?:sondern|but)\s+|;\s+", re.IGNORECASE)
# coordinated clauses each with their own ending ("setzt … nicht mehr zurück und ändert keine … mehr")
COORDINATED = re.compile(r"(,?\s+(?:und|and)\s+)", re.IGNORECASE)
MIN_PART_WORDS = 4


def _ended_parts(text: str) -> list[str]:
    """The parts of a clause measured on their own: the clause cut before "sondern"/"but" (what comes after
    is the replacement), and its first part before "und"/"and" where both sides have at least MIN_PART_WORDS
    words; only parts with a cue of ending count. A clause of one part gives none."""
    ended = CONTRAST.split(text)[0]
    pieces = COORDINATED.split(ended)  # text, separator, text, ...
    first = pieces[0]
    for separator, piece in zip(pieces[1::2], pieces[2::2], strict=True):
        if len(first.split()) >= MIN_PART_WORDS and len(piece.split()) >= MIN_PART_WORDS:
            break
        first = f"{first}{separator}{piece}"
    # a later part has lost its subject ("… und ändert keine E-Mail-Adressen mehr"): alone, it would match
    # any passage about e-mail addresses; it stays measured within the whole clause
    parts = dict.fromkeys(part.strip(" ,.") for part in (ended, first) if ENDING.search(part))
    return [part for part in parts if part != text.strip(" ,.")]


def ending_statements(statements: list[Statement]) -> list[Statement]:
    """Clauses that end something without ending a value: "bis 5.000 € statt bis 3.000 €" is a changed value,
    which the fact comparison judges (by the value, not by the words around it). A clause that ends two things
    or names the replacement also counts by each part that ends something, so a passage describing one of
    them is measured against that part alone."""
    # a date is when, not what ends ("Rollout ab 15. Februar 2027" where the effective date differs)
    ending = [s for s in statements if not s.unchanged and ENDING.search(s.text)
              and not any(s.is_old(fact) for fact in s.facts if fact.type != "date")]
    parts = [replace(s, text=part, vector=None, terms_by_language={}) for s in ending for part in _ended_parts(s.text)]
    return ending + parts


# a date says when, not what: "Ab dem 1. März 2027" is in no passage that the clause ends
MONTHS = re.compile(r"\b(?:januar|jänner|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember"
                    r"|january|february|march|may|june|july|october|december)\b", re.IGNORECASE)


def _clause_words(statement: Statement, language: str) -> list[frozenset[str]]:
    """The content terms of each word of the clause (a compound gives several), cue words and dates aside."""
    cues = content_terms(CUE_WORDS, statement.language) | content_terms(CUE_WORDS, language)
    words = (content_terms(word, statement.language) | content_terms(word, language)
             for word in MONTHS.sub(" ", statement.text).split())
    return [terms - cues for terms in words if terms - cues]



# a menu item or section the clause removes by its quoted name: "entfällt der Hauptmenüpunkt „Zählerstand“", "der
# Eintrag „Dokumente“ im Menü „Verträge“ entfällt" (the menu it stands in is where, not what), "the “Offers” tab is
# discontinued"
REMOVAL = re.compile(r"\b(?:entf(?:ällt|allen)|f(?:ällt|allen)\s+(?:\w+\s+)?weg|wegf(?:ällt|allen)|gestrichen|abgeschafft"
                     r"|eingestellt|discontinued|withdrawn|removed|retired|dropped)\b", re.IGNORECASE)
QUOTED = re.compile(r"[„“\"‚‘](?P<name>[^„“”\"‚‘’]{2,40})[“”\"‘’]")
_MENU_NOUN = r"(?:[\w-]*(?:menüpunkt|menü|bereich|eintrag|reiter|kachel|rubrik)|(?:menu\s+)?(?:item|section|tab|menu))"
MENU_WORD = re.compile(rf"\b{_MENU_NOUN}\b", re.IGNORECASE)  # the clause speaks of a menu
LOCATED = re.compile(rf"\b(?:im|in|ins|unter|aus|vom|von|zum|zur|under|from|into|to)\s+(?:(?:der|die|das|den|dem|the)\s+)?"
                     rf"(?:{_MENU_NOUN}\s+)?$", re.IGNORECASE)


def removed_names(clause: str) -> set[str]:
    """The quoted names (as path sections) a clause removes: every quoted name of a clause with a cue of
    removal, except one that says where something stands ("im Menü „Verträge“")."""
    if not REMOVAL.search(clause):
        return set()
    return {path_segment(match.group("name")) for match in QUOTED.finditer(clause)
            if not LOCATED.search(clause[: match.start()])}


def _ended_path(passage: ArticlePassage, statement: Statement, language: str, roots: set[str]) -> Fact | None:
    """A menu path of the passage that the clause ends (before "sondern"/"but"): one through a section or item it
    removes by name (removed_names), or one whose item and one of whose sections a clause speaking of a menu
    names: "Der Chat ist kein Menüeintrag im Bereich „Hilfe“ mehr" ends "Mein Alpenfunk > Hilfe > Chat".
    The first section of a path the change itself names (the app's name) is no section the clause ends."""
    ended = CONTRAST.split(statement.text)[0]
    named = content_terms(ended, statement.language) | content_terms(ended, language)
    removed = removed_names(ended)
    for fact in passage.facts:
        if fact.type != "path":
            continue
        sections = [(path_segment(part), content_terms(part, passage.article.locale)) for part in PATH_SEPARATOR.split(fact.text)]
        if any(folded in removed for folded, _ in sections if folded not in roots):
            return fact  # "entfällt der Hauptmenüpunkt „Zählerstand“": every path through it
        *before, (_, item) = sections
        if (item and item <= named and MENU_WORD.search(ended)
                and any(terms and terms <= named for folded, terms in before if folded not in roots)):
            return fact
    return None


# a contact channel a clause ends: "nehmen … nicht mehr per E-Mail entgegen", "no longer by email"
# (as the means: "per/via/über E-Mail", "by email"; not "keinen Zugriff mehr auf ihre E-Mail-Adresse")
EMAIL_CHANNEL = re.compile(r"\b(?:per|via|über|by|through)\s+(?:e-?mail|mail)\b(?!-)", re.IGNORECASE)
_ADDRESS_LEAD = re.compile(r"[^;,:|()]*$")  # the words before an address, back to the last separator


def _ended_address(passage: ArticlePassage, statement: Statement, language: str, kept: set[str]) -> str | None:
    """An e-mail address of the passage that the clause ends: the clause ends the e-mail channel (before
    "sondern"/"but") and the address is for what the clause is about, by its name or the words right before
    it ("für Schäden schaden@…"). An address the clause names is the one it ends; one the change names
    elsewhere (`kept`: "service@… bleibt für Vertragsanliegen") stays."""
    ended = CONTRAST.split(statement.text)[0]
    if not EMAIL_CHANNEL.search(ended):
        return None
    named = {address.lower() for address in EMAIL.findall(ended)}
    about = {term for terms in _clause_words(replace(statement, text=EMAIL_CHANNEL.sub(" ", ended)), language)
             for term in terms}
    for match in EMAIL.finditer(passage.text):
        address = match.group(0).lower()
        if address in kept or (named and address not in named):
            continue
        local = re.sub(r"[._+-]", " ", address.split("@")[0])
        lead = _ADDRESS_LEAD.search(passage.text[: match.start()]).group(0)
        if named or (content_terms(f"{local} {lead}", passage.article.locale) & about):
            return match.group(0)
    return None


def _stated(passage: ArticlePassage) -> str:
    text = " ".join(passage.text.split())
    if len(text) <= STATED_CHARS:
        return f"„{text}“"
    return f"„{text[:STATED_CHARS].rsplit(' ', 1)[0]} …“"


def ended_findings(event: ChangeEvent, statements: list[Statement], today: dt.date, embedder: Embedder, *,
                   skip: set[int]) -> list[ImpactFinding]:
    """Articles (not in `skip`) with a passage that still describes what an ending clause of the change ends."""
    ending = ending_statements(statements)
    if not ending:
        return []
    language = statements[0].language
    article_ids: dict[int, None] = {}
    for statement in ending:
        query = SearchQuery(text=statement.match_text, audiences=("public", "internal"), today=today)
        for hit in chunk_hits(query, embedder=embedder)[:CHUNKS_PER_QUERY]:
            if hit.article_id not in skip:
                article_ids.setdefault(hit.article_id, None)
    from kb.models import Article

    articles = [a for a in Article.objects.filter(pk__in=list(article_ids), live_version__isnull=False)
                if language_of(a.locale) == language]
    passages = [p for p in article_passages(articles, facts_only=False) if not ENDING.search(p.text)]
    if not passages:
        return []
    vectors = embed(embedder, [s.match_text for s in ending] + [p.match_text for p in passages])
    clause_vectors, passage_vectors = vectors[: len(ending)], vectors[len(ending):]
    words = {s_index: _clause_words(s, language) for s_index, s in enumerate(ending)}
    terms = {s_index: frozenset().union(*found) for s_index, found in words.items()}
    idf = idf_weights(set().union(*terms.values(), *(p.terms for p in passages)))
    best: dict[int, tuple[float, ArticlePassage, Statement]] = {}
    roots = {fact.value[0] for s in statements for fact in s.facts if fact.type == "path"}
    ended_text = " ".join(CONTRAST.split(s.text)[0] for s in ending)
    kept = {address.lower() for s in statements for address in EMAIL.findall(s.text)} - {
        address.lower() for address in EMAIL.findall(ended_text)}
    for passage, vector in zip(passages, passage_vectors, strict=True):
        for index, statement in enumerate(ending):
            path = _ended_path(passage, statement, language, roots)
            named = path.text if path is not None else _ended_address(passage, statement, language, kept)
            if named is not None:  # "kein Menüeintrag im Bereich „Hilfe“ mehr" ends "Mein Alpenfunk > Hilfe > Chat"
                article_id = passage.article.pk
                if article_id not in best or best[article_id][0] < PATH_SCORE:
                    best[article_id] = (PATH_SCORE, replace(passage, text=named), statement)
                continue
            held = passage.terms | content_terms(passage.text, passage.article.locale)
            share = coverage(terms[index], held, idf)
            cosine = float(np.dot(vector, clause_vectors[index]))
            # one compound ("Zwei-Faktor-Anmeldung") gives several terms: a passage must share ENDED_MIN_WORDS words
            if share < ENDED_COVERAGE or cosine < ENDED_COSINE or sum(1 for word in words[index] if word & held) < ENDED_MIN_WORDS:
                continue
            score = (share + cosine) / 2
            article_id = passage.article.pk
            if article_id not in best or score > best[article_id][0]:
                best[article_id] = (score, passage, statement)
    return [
        ImpactFinding(article=passage.article, score=round(min(1.0, score), 3), evidence=passage.quote,
                      cause=ImpactReason(stated=_stated(passage), clause=statement.text, date=event.effective_date))
        for score, passage, statement in sorted(best.values(), key=lambda item: -item[0])
    ]
