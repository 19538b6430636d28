"""Change impact: which live articles does a policy memo or release note make wrong or incomplete?

1. Statements. The title and each clause of the description (sentences cut at ';'; a clause saying
   that something stays as it is - "bleibt unverändert", "weiterhin", "ändert sich nicht", "not
   affected", "still" - is cut off at ',' and marked *unchanged*, unless it also says "künftig"/"from
   now on"). Facts come from retrieval.facts; the effective date is dropped (it is when, not what);
   values after "bisher/statt/instead of", before "auf/to" in "von X auf Y", or in a clause saying
   something is dropped ("entfällt", "no longer") are *old* values the change ends.
2. Candidates: the best chunks (hybrid search, both audiences, all locales, valid when the change
   takes effect) for the title and each change statement; then every passage (sentence, list item,
   table row with its header) of those articles that states a fact, with its title, heading and the
   sentence introducing its list as context. Of a translation group only the members in the
   change's language are judged when there are any (stems meet within a language);
   change_event_record flags the translations of each finding.
3. Matching. An article fact and a change fact of the same type and unit class, of the same order of
   magnitude, get a match score: idf-weighted overlap of passage and statement stems, overlap of the
   words next to the two numbers, cosine of the two sentence vectors (across languages the cosine
   carries most), plus a bonus for a phone number both name.
4. Decision (retrieval.impact._decide): a fact is wrong when its best match with a *different* change
   value reaches FLAG_THRESHOLD, unless
   - a statement gives the same value about nearly as close a subject (consistent),
   - an unchanged statement without such a value describes the passage better *and* speaks of what
     the number is about as well as the change fact does (the brief's "unchanged" rule, made
     fact-aware so that "we refund the shipping costs as before" does not vouch for an old price),
   - the change fact's value is already what the knowledge base says about it (a condition the
     change repeats, not a change), or
   - its value is neither new nor the change fact's old value (the value of its strongest match) and
     it matches clearly worse than that old value does (a third value is another fact).
   A passage repeating the (strongly matched or stated) old value next to the same words is wrong
   even with a weaker match. A menu path leading to the same item as a path of the change, but
   another way, is wrong.
5. A finding per article: its best conflict, a short reason in the change's language naming the
   article's value, the new value (or the changed clause) and the effective date, and the passage
   verbatim as evidence.

Everything is general language knowledge; no rule names a product, a number or a term of any
knowledge base. The thresholds were chosen on demo/changes.jsonl, where each sits in a plateau
(FLAG_THRESHOLD 0.25-0.31 give identical results), and checked on a held-out set of another domain;
`python -m retrieval.bench_changes` prints the figures.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.utils import timezone

from governance.models import ChangeEvent
from governance.services import ImpactFinding, change_event_fail, change_event_record
from kb.models import Article
from retrieval.analysis import language_of
from retrieval.embeddings import Embedder, active_embedder
from retrieval.evidence import split_passages
from retrieval.facts import Fact, comparable_values, content_terms, extract_facts, same_value, value_distance
from retrieval.models import Chunk
from retrieval.search import SearchQuery, chunk_hits, detect_locale
from retrieval.verification import split_sentences

# --- statements ---------------------------------------------------------------------------------

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


# --- passages of candidate articles -------------------------------------------------------------


@dataclass
class ArticlePassage:
    article: Article
    quote: str  # verbatim from the article: the evidence
    text: str  # readable (a table row as "label: value; ...")
    context: str  # the article's title, the passage's heading and the sentence introducing its list
    facts: list[Fact]
    terms: frozenset[str] = frozenset()
    vector: np.ndarray | None = None

    @property
    def language(self) -> str:
        return language_of(self.article.locale)

    @property
    def match_text(self) -> str:
        return f"{self.context}: {self.text}"


CHUNKS_PER_QUERY = 40
ANAPHORA = re.compile(r"(?:das|dies|dieses?|diese[rn]?|dort|dabei|danach|this|that|these|it|there)\b", re.IGNORECASE)


def candidate_articles(statements: list[Statement], today: dt.date, embedder: Embedder) -> list[Article]:
    """Live articles with a chunk among the best hits of the title or a change statement (both audiences)."""
    ids: dict[int, None] = {}
    for statement in statements:
        if statement.unchanged:
            continue
        query = SearchQuery(text=statement.match_text, audiences=("public", "internal"), today=today)
        for hit in chunk_hits(query, embedder=embedder)[:CHUNKS_PER_QUERY]:
            ids.setdefault(hit.article_id, None)
    articles = Article.objects.filter(pk__in=list(ids), live_version__isnull=False).select_related("translation_of")
    return sorted(articles, key=lambda article: article.pk)


def judged_in_language(articles: list[Article], language: str) -> list[Article]:
    """Of each translation group, the candidates in the change's language if there are any, else all.

    Comparing within one language is far more reliable (stems meet); change_event_record flags
    the translations of every finding, so the other members are covered.
    """
    root = {article.pk: article.translation_of_id or article.pk for article in articles}
    covered = {root[a.pk] for a in articles if language_of(a.locale) == language}
    return [a for a in articles if language_of(a.locale) == language or root[a.pk] not in covered]


def article_passages(articles: list[Article]) -> list[ArticlePassage]:
    """Every passage of the articles' live versions that states a fact, with what it stands under."""
    by_article = {article.pk: article for article in articles}
    passages: list[ArticlePassage] = []
    chunks = Chunk.objects.filter(version_id__in=[a.live_version_id for a in articles]).order_by("article_id", "ordinal")
    for chunk in chunks.only("article_id", "text", "heading_path"):
        article = by_article[chunk.article_id]
        parts = split_passages(chunk.text)
        for index, part in enumerate(parts):
            facts = extract_facts(part.text, article.locale)
            if not facts:
                continue
            heading = part.heading or chunk.heading_path.split(" > ")[-1]
            lead = parts[part.lead].text if part.lead is not None else ""
            # "Das dauert 5 Werktage." is about what the sentence before says
            previous = parts[index - 1] if index else None
            same_block = previous is not None and previous.heading == part.heading and previous.kind == part.kind
            before = previous.text if same_block and ANAPHORA.match(part.text) else ""
            context = " > ".join(dict.fromkeys(x for x in (article.title, heading, lead, before) if x))
            terms = facts[0].subject | content_terms(context, article.locale)
            passages.append(ArticlePassage(article, part.quote, part.text, context, facts, terms))
    return passages


# --- similarity ---------------------------------------------------------------------------------

_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_vectors_lock = threading.Lock()
VECTOR_CACHE_SIZE = 50_000


def embed(embedder: Embedder, texts: list[str]) -> list[np.ndarray]:
    """Sentence vectors, cached per (model, text): the same passages come back with every change."""
    with _vectors_lock:
        missing = [text for text in dict.fromkeys(texts) if (embedder.key, text) not in _vectors]
    if missing:
        computed = embedder.embed_documents(missing)
        with _vectors_lock:
            for text, vector in zip(missing, computed, strict=True):
                _vectors[(embedder.key, text)] = vector
            while len(_vectors) > VECTOR_CACHE_SIZE:
                _vectors.popitem(last=False)
    with _vectors_lock:
        return [_vectors[(embedder.key, text)] for text in texts]


def idf_weights(terms: set[str]) -> dict[str, float]:
    """BM25 idf of each term over the indexed chunks; an unseen term (e.g. of another language) weighs like a rare one."""
    if not terms:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM retrieval_chunk WHERE is_indexed")
        total = max(1, cursor.fetchone()[0])
        cursor.execute("SELECT term, count(*) FROM retrieval_posting WHERE term = ANY(%s) GROUP BY term", [sorted(terms)])
        df = dict(cursor.fetchall())
    return {term: math.log(1 + (total - df.get(term, 0) + 0.5) / (df.get(term, 0) + 0.5)) for term in terms}


def weighted_overlap(a: frozenset[str], b: frozenset[str], idf: dict[str, float]) -> float:
    """Cosine of the idf-weighted term sets (1 = same terms)."""
    if not a or not b:
        return 0.0
    shared = sum(idf.get(term, 0.0) ** 2 for term in a & b)
    norm = math.sqrt(sum(idf.get(term, 0.0) ** 2 for term in a) * sum(idf.get(term, 0.0) ** 2 for term in b))
    return shared / norm if norm else 0.0


@dataclass
class Match:
    """How well an article fact and a statement's fact are about the same thing."""

    passage: ArticlePassage
    fact: Fact
    statement: Statement
    other: Fact
    lexical: float  # idf-weighted overlap of the passage (with its title and heading) and the statement
    near: float  # idf-weighted overlap of the words right next to the two facts
    cosine: float  # of the two sentence vectors
    shared: int  # phone numbers or extensions both name

    @property
    def score(self) -> float:
        if self.passage.language == self.statement.language:
            base = LEXICAL_WEIGHT * self.lexical + NEAR_WEIGHT * self.near + COSINE_WEIGHT * self.cosine
        else:  # across languages stems rarely meet (names do): the sentence vectors carry most of it
            base = (max(self.lexical, self.near) + 2 * self.cosine) / 3
        return base + SHARED_IDENTIFIER_BONUS * min(self.shared, 1)

    @property
    def rank(self) -> float:
        """For choosing which change fact an article fact is about: among equal subject matches, the
        closer value (4,95 € is more likely the old value of 3,95 € than of 30,00 €)."""
        return self.score - VALUE_DISTANCE_WEIGHT * value_distance(self.fact, self.other)


LEXICAL_WEIGHT, NEAR_WEIGHT, COSINE_WEIGHT = 0.25, 0.25, 0.5
SHARED_IDENTIFIER_BONUS = 0.1
VALUE_DISTANCE_WEIGHT = 0.03


def shared_identifiers(passage: ArticlePassage, statement: Statement) -> int:
    """Phone numbers and extensions both name: the same line or desk is the same subject, in any language."""
    return sum(
        1 for fact in passage.facts if fact.type == "identifier"
        and any(other.type == "identifier" and same_value(fact, other) for other in statement.facts)
    )


def coverage(terms: frozenset[str], by: frozenset[str], idf: dict[str, float]) -> float:
    """The idf-weighted share of `terms` found in `by`."""
    total = sum(idf.get(term, 0.0) for term in terms)
    return sum(idf.get(term, 0.0) for term in terms & by) / total if total else 0.0


def statement_similarity(passage: ArticlePassage, statement: Statement, idf: dict[str, float]) -> float:
    """How well a passage and a statement are about the same thing, facts aside."""
    cosine = float(np.dot(passage.vector, statement.vector))
    if passage.language != statement.language:
        return cosine
    return (weighted_overlap(passage.terms, statement.terms(passage.language), idf) + cosine) / 2


# --- assessment -----------------------------------------------------------------------------------

FLAG_THRESHOLD = 0.28  # a fact match at least this good, with a different value, makes a passage wrong
STRONG_MATCH = 0.45  # a match this good identifies the old value of a changed fact
RESTATED_OLD_VALUE = 0.2  # a passage repeating that old value, about the same thing nearby, is wrong from here on
MIN_NEAR_SHARED = 2  # "about the same thing nearby": the two numbers stand next to at least two same words
AGREEMENT_MARGIN = 0.1  # a statement of the same value about nearly as close a subject: consistent
OTHER_VALUE_MARGIN = 0.03  # a third value (neither new nor the old one) must match nearly as well as the old one
PATH_SCORE = 0.9
NEW = re.compile(r"\bneu\w*|\bkünftig|\bab\s+sofort|\bstattdessen|\bersetzt|\bgeändert|\bändert\s+sich\b(?!\s+nicht)"
                 r"|\bnew\b|\bnow\b|\binstead\b|\breplace|\bchange[sd]?\s+to\b", re.IGNORECASE)


@dataclass
class FactReview:
    """One article fact against the change's facts of its kind."""

    differing: list[Match]  # against change facts with another value, best first
    agreeing: dict[tuple[int, int], float]  # change fact -> match score, for the statements stating the same value
    protected: set[int]  # ids of differing matches an unchanged statement outweighs
    restating: list[Match]  # against values the change ends, stated alike, best first

    @property
    def agreement(self) -> float:
        return max(self.agreeing.values(), default=0.0)


def change_fact_key(match: Match) -> tuple[int, int]:
    return id(match.statement), id(match.other)


def _review(passage: ArticlePassage, fact: Fact, statements: list[Statement], idf: dict[str, float],
            similarity: dict[int, float]) -> FactReview | None:
    differing: list[Match] = []
    restating: list[Match] = []
    agreeing: dict[tuple[int, int], float] = {}
    for statement in statements:
        lexical = weighted_overlap(passage.terms, statement.terms(passage.language), idf)
        cosine = float(np.dot(passage.vector, statement.vector))
        for other in statement.facts:
            if not comparable_values(fact, other):
                continue
            match = Match(passage, fact, statement, other, lexical, weighted_overlap(fact.near, other.near, idf), cosine,
                          shared_identifiers(passage, statement))
            if statement.is_old(other):
                if same_value(fact, other):
                    restating.append(match)
            elif same_value(fact, other):
                agreeing[change_fact_key(match)] = match.score
            elif not statement.unchanged and (fact.type != "identifier" or NEW.search(statement.text)):
                # a phone number the change merely names is where, not what changes
                differing.append(match)
    if not differing and not agreeing and not restating:
        return None
    restating.sort(key=lambda m: m.score, reverse=True)
    differing.sort(key=lambda m: m.rank, reverse=True)
    # An unchanged statement that states no value of this kind protects the fact against a change fact when it
    # describes the passage better than the change's statement does *and* speaks of what the number is about
    # (the words next to it) at least as well as the change fact does ("die Zeiten des Videoservice ändern
    # sich nicht" protects the video service's hours from the new hotline hours).
    kept = [u for u in statements if u.unchanged and not any(f.type == fact.type for f in u.facts)]
    protected = {
        id(m) for m in differing
        if any(similarity[id(u)] > similarity[id(m.statement)]
               and coverage(fact.near, u.terms(passage.language), idf) >= coverage(fact.near, m.other.near, idf)
               for u in kept)
    }
    return FactReview(differing, agreeing, protected, restating)


def _decide(reviews: list[FactReview]) -> list[Match]:
    """The matches that make their passage wrong, judged together (what the knowledge base says matters).

    - A fact stated with the change's value about nearly as close a subject is consistent.
    - A change fact whose value the knowledge base already states about the same subject (its best
      same-value match beats every differing one) is a condition, not a change ("bei einer
      Kundentreue ab 24 Monaten bis 50 €"): it makes nothing wrong.
    - A passage stating a value the change ends ("statt bisher 14 Tage", "die Gebühr von 10 € entfällt")
      about the same thing is wrong.
    - The value of a change fact's best differing match, when strong, is its old value; a passage
      repeating it about the same thing nearby is wrong even with a weaker match, and even when an
      unchanged statement describes the passage better ("erstatten wie bisher die Versandkosten":
      the refunded amount is the changed price).
    - A third value (neither new nor the old one) needs a match nearly as good as the old value's.
    """
    open_reviews = [r for r in reviews if r.differing and r.agreement < r.differing[0].score - AGREEMENT_MARGIN]
    best_equal: dict[tuple[int, int], float] = defaultdict(float)
    for review in reviews:
        for key, score in review.agreeing.items():
            best_equal[key] = max(best_equal[key], score)
    old: dict[tuple[int, int], Match] = {}
    for review in open_reviews:
        for match in review.differing:
            key = change_fact_key(match)
            if key not in old or match.score > old[key].score:
                old[key] = match
    conditions = {key for key, match in old.items() if best_equal[key] >= match.score + AGREEMENT_MARGIN}
    decided = [r.restating[0] for r in reviews
               if r.restating and (r.restating[0].score >= FLAG_THRESHOLD or _repeats_nearby(r.restating[0]))]
    for review in open_reviews:
        candidates = [m for m in review.differing if change_fact_key(m) not in conditions]
        if not candidates:
            continue
        match = candidates[0]
        top = old[change_fact_key(match)]
        restates_old = top.score >= STRONG_MATCH and same_value(match.fact, top.fact) and _repeats_nearby(match)
        if not restates_old and (
            match.score < FLAG_THRESHOLD or id(match) in review.protected
            or (not same_value(match.fact, top.fact) and match.score < top.score - OTHER_VALUE_MARGIN)
        ):
            continue
        decided.append(match)
    return decided


def _repeats_nearby(match: Match) -> bool:
    """A weaker match that still repeats a value about the same thing: its number stands next to the same
    words (two at least: one shared word such as "dauert" is chance)."""
    return match.score >= RESTATED_OLD_VALUE and len(match.fact.near & match.other.near) >= MIN_NEAR_SHARED


def _path_conflict(passage: ArticlePassage, fact: Fact, statements: list[Statement]) -> Match | None:
    """A menu path to the same item as a path of the change, but another way: the item moved."""
    changed = [(s, p) for s in statements if not s.unchanged for p in s.facts if p.type == "path" and not s.is_old(p)]
    kept = [p for s in statements if s.unchanged for p in s.facts if p.type == "path"]
    if any(same_value(fact, p) for _, p in changed) or any(same_value(fact, p) for p in kept):
        return None
    for statement, path in changed:
        if path.value[-1] == fact.value[-1] and len(fact.value) > 1:
            return Match(passage, fact, statement, path, 1.0, 1.0, 1.0, 0)
    return None


def _reason(match: Match, event: ChangeEvent, language: str) -> str:
    """In the change's language: what the article states, and what the change sets instead (or ends)."""
    fact, other, date = match.fact, match.other, event.effective_date.isoformat()
    if fact.type == "path":
        if language == "de":
            return f"nennt den Menüpfad „{fact.text}“; ab {date} liegt der Eintrag unter „{other.text}“"
        return f"states the menu path \"{fact.text}\"; from {date} the item is under \"{other.text}\""
    if match.statement.is_old(other):  # the article repeats a value the change ends: name the new one, if given
        new = next((f for f in match.statement.facts if not match.statement.is_old(f) and comparable_values(fact, f)), None)
        if new is None:
            clause = match.statement.text if len(match.statement.text) <= 160 else match.statement.text[:157] + "..."
            if language == "de":
                return f"nennt {fact.text}; das ändert sich ab {date}: „{clause}“"
            return f"states {fact.text}; this changes from {date}: \"{clause}\""
        other = new
    if language == "de":
        return f"nennt {fact.text}; die Änderung legt ab {date} {other.text} fest"
    return f"states {fact.text}; the change sets {other.text} from {date}"


def finding_score(score: float) -> float:
    """A match score as a confidence in [0.5, 1] for flagged articles (1 from twice the threshold on)."""
    return round(max(0.5, min(1.0, 0.5 + 0.5 * (score - FLAG_THRESHOLD) / FLAG_THRESHOLD)), 3)


def assess_change(event: ChangeEvent, *, embedder: Embedder | None = None) -> list[ImpactFinding]:
    """The articles the change makes wrong or incomplete, each with a reason and its evidence (no writes)."""
    embedder = embedder or active_embedder()
    statements = change_statements(event.title, event.description, event.effective_date)
    today = max(timezone.localdate(), event.effective_date)  # what is still served when the change takes effect
    articles = judged_in_language(candidate_articles(statements, today, embedder), statements[0].language)
    passages = article_passages(articles)
    items = [*statements, *passages]
    for item, vector in zip(items, embed(embedder, [item.match_text for item in items]), strict=True):
        item.vector = vector
    languages = {p.language for p in passages}
    terms: set[str] = set()
    for passage in passages:
        terms |= passage.terms | {t for f in passage.facts for t in f.near}
    for statement in statements:
        terms |= {t for language in languages for t in statement.terms(language)} | {t for f in statement.facts for t in f.near}
    idf = idf_weights(terms)
    reviews: list[FactReview] = []
    conflicts: list[tuple[float, Match]] = []
    for passage in passages:
        similarity = {id(s): statement_similarity(passage, s, idf) for s in statements}
        for fact in passage.facts:
            if fact.type == "path":
                match = _path_conflict(passage, fact, statements)
                if match:
                    conflicts.append((PATH_SCORE, match))
            elif review := _review(passage, fact, statements, idf, similarity):
                reviews.append(review)
    conflicts += [(match.score, match) for match in _decide(reviews)]
    best: dict[int, tuple[float, Match]] = {}
    for score, match in conflicts:
        article_id = match.passage.article.pk
        if article_id not in best or score > best[article_id][0]:
            best[article_id] = (score, match)
    return [
        ImpactFinding(article=match.passage.article, score=finding_score(score),
                      reason=_reason(match, event, statements[0].language), evidence=match.passage.quote)
        for score, match in sorted(best.values(), key=lambda item: -item[0])
    ]


def change_event_run(event_id: int) -> int:
    """Assess a change event and flag what it affects (the Celery task's body); returns the flags raised."""
    event = ChangeEvent.objects.get(pk=event_id)
    started = time.perf_counter()
    try:
        findings = assess_change(event)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        flags = change_event_record(event=event, findings=findings, elapsed_ms=elapsed_ms)
    except Exception as error:
        change_event_fail(event=event, error=f"{type(error).__name__}: {error}")
        raise
    return len(flags)
