"""Evidence selection: from retrieved chunks to the few passages that answer a question.

Chunks are cut into passages (sentences, list items, table rows with their header), each
remembering the structure it stands in: its section heading, its unit (a list item may hold
several sentences) and the sentence that introduces its list or table ("... as follows:"). The best-ranked chunks compete, together with the other
chunks of the best articles (the asked fact often sits in another section than the words of
the question).

Each passage is scored by how much of the question's content words it covers (idf-weighted,
stems and compounds included, with its article title, section and introducing sentence), by
semantic similarity (of the same), by its chunk's retrieval rank and by whether it states the
kind of fact the question asks for (an amount, a time, a count, steps). The answer comes from
one article, the one most relevant by content: its best passage with what belongs to it (the
rest of its list item, the list it introduces, its introduction), the informative sentence
after it when no particular kind is asked, a passage for each asked kind still missing, and
close runners-up. The confidence decision uses absolute signals (coverage, cosine similarity,
retriever agreement, the asked kind of fact), never the rank-normalised fusion score.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.utils import timezone

from kb.models import Article
from retrieval.index.corpus import idf_weights
from retrieval.index.embeddings import Embedder, active_embedder
from retrieval.index.vectors import cached_vectors
from retrieval.models import Chunk
from retrieval.search.query import ChunkHit
from retrieval.text.numbers import normalise_days, quantities, same_unit
from retrieval.text.passages import PassageText, split_passages
from retrieval.text.questions import asked_kinds, naming_words, stated_kinds
from retrieval.text.sentences import split_sentences
from retrieval.text.tokens import QUESTION_FILLERS, analyze, language_of, tokens
from retrieval.tuning import (
    ASIDE_WEIGHT,
    CLOSE_IN_ARTICLE,
    CLOSE_IN_CHUNK,
    FILL_RATIO,
    KIND_BONUS,
    KIND_MALUS,
    MAX_CHUNKS,
    MAX_LIST_ITEMS,
    MAX_PASSAGES,
    MIN_ARTICLE_COVERAGE,
    MIN_SECTION_NAMED,
    MIN_SUPPORT_AGREEING,
    MIN_SUPPORT_ALONE,
    SECTION_KIND_BONUS,
    SIBLING_ARTICLES,
    W_CHUNK_COVERAGE,
    W_COVERAGE,
    W_PRIOR,
    W_SEMANTIC,
)


@dataclass
class Passage:
    chunk_id: int
    version_id: int
    article: Article
    position: int
    quote: str  # verbatim from the version's text
    text: str  # readable form (markdown and table pipes removed)
    context: str  # article title, section and introducing sentence: what the passage is about
    prior: float
    unit: int = 0
    kind: str = "sentence"
    lead: int | None = None
    states: frozenset[str] = frozenset()
    section_kinds: frozenset[str] = frozenset()  # kinds of fact its section heading names ("Frist", "Preise")
    coverage: float = 0.0
    semantic: float = 0.0
    relevance: float = 0.0  # the score without the asked kind of fact
    score: float = 0.0
    chunk_ordinal: int = 0  # the chunk's place in its article, for reading order
    points_to: frozenset[int] = frozenset()  # other candidate articles it sends the reader to, by title
    quantities: tuple[tuple[str, float], ...] = ()  # the quantities it states, as (unit, value)
    section: str = ""  # the heading it stands under


@dataclass
class Evidence:
    passages: list[Passage]
    confident: bool
    best_coverage: float
    best_semantic: float
    considered: list[Passage] = field(default_factory=list)
    agreement: bool = False
    support: float = 0.0
    article_coverage: float = 0.0
    hidden_names: list[str] = field(default_factory=list)  # what the question names that only hidden articles name


# --- signals ---


def _content_words(question: str) -> str:
    return " ".join(word for word in tokens(normalise_days(question)) if word not in QUESTION_FILLERS)




def _question_weights(question: str, languages: list[str]) -> dict[str, dict[str, float]]:
    """Per language: the question's content terms with their idf (a term's weight in the coverage).
    A message of several sentences asks in the one ending in "?": the terms of the others, which tell
    the story around it, count half."""
    content = _content_words(question)
    sentences = split_sentences(question)
    asking = [sentence for sentence in sentences if sentence.rstrip().endswith("?")]
    focus = _content_words(" ".join(asking)) if asking and len(asking) < len(sentences) else content
    per_language = {language: set(analyze(content, language)) for language in languages}
    in_focus = {language: set(analyze(focus, language)) for language in languages}
    idf = idf_weights(sorted(set().union(*per_language.values())))
    return {
        language: {term: idf[term] * (1.0 if term in in_focus[language] else ASIDE_WEIGHT) for term in terms}
        for language, terms in per_language.items()
    }


# German inseparable verb prefixes (general morphology): "beantworten" is about an "Antwort", "erstatten"
# about "statt-"; a term and its unprefixed stem meet ("Wie lange braucht ihr für die Antwort?" -
# "Wir beantworten Ihren Antrag innerhalb von 1 Monat.").
_GERMAN_PREFIXES = ("be", "ge", "er", "ver", "zer", "ent", "emp")
MIN_ROOT_LENGTH = 5


def _root(term: str, language: str) -> str:
    if language != "de":
        return term
    for prefix in _GERMAN_PREFIXES:
        if term.startswith(prefix) and len(term) - len(prefix) >= MIN_ROOT_LENGTH:
            return term[len(prefix):]
    return term


def _covered_terms(text: str, language: str) -> set[str]:
    """A text's terms, with their unprefixed roots."""
    terms = set(analyze(text, language))
    return terms | {_root(term, language) for term in terms}


def _best_coverage(text: str, weights: dict[str, dict[str, float]]) -> float:
    """Share of the question (idf-weighted) that a text states, in the language where it is highest."""
    text = normalise_days(text)
    best = 0.0
    for language, terms in weights.items():
        covered = _covered_terms(text, language)
        total = sum(terms.values())
        if total:
            share = sum(w for term, w in terms.items() if term in covered or _root(term, language) in covered) / total
            best = max(best, share)
    return best


# --- what only hidden knowledge names ---

# A question naming something that only articles the asker may not see name - an expired offer or its
# code, an offer not yet valid, an internal procedure asked about by a customer - asks about what the
# visible knowledge does not cover, however well a neighbouring article fits the rest ("Gibt es den
# Sommer-Deal noch?" answered from the tariff overview). Such a question is refused (and recorded as a
# knowledge gap). Names are the capitalised words inside a clause (German nouns, names in either
# language) and codes mixing letters and digits, of the asking sentence; a name counts as named only
# as a whole word (its stem), not by a compound's parts.
def _whole_terms(word: str, languages: list[str]) -> set[str]:
    """The index term naming a word as a whole, per language (a code as itself)."""
    if any(ch.isdigit() for ch in word):
        return {word.lower()}
    return {terms[0] for language in languages if (terms := analyze(word, language))}


def hidden_names(question: str, *, languages: list[str], audiences: tuple[str, ...]) -> list[str]:
    """The names of the question that live articles name, but none the asker may see today."""
    names = {word: _whole_terms(word, languages) for word in naming_words(question)}
    terms = sorted(set().union(*names.values())) if names else []
    if not terms:
        return []
    servable, params = Article.objects.servable_sql(audiences, on=timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.term, bool_or({servable})"  # noqa: S608 - kb's servable rule, values are parameters
            " FROM retrieval_posting p JOIN retrieval_chunk c ON c.id = p.chunk_id AND c.is_indexed"
            " JOIN kb_article ON kb_article.live_version_id = c.version_id WHERE p.term = ANY(%s) GROUP BY p.term",
            [*params, terms],
        )
        named = dict(cursor.fetchall())
    return [word for word, whole in names.items() if any(t in named for t in whole) and not any(named.get(t) for t in whole)]


def retrievers_agree(keyword: list[ChunkHit], semantic: list[ChunkHit]) -> bool:
    """Does the keyword top hit's translation group appear among the semantic top three groups?"""
    if not keyword or not semantic:
        return False
    ids = {keyword[0].article_id} | {hit.article_id for hit in semantic[:10]}
    roots = {pk: translation_of or pk for pk, translation_of in Article.objects.filter(pk__in=ids).values_list("pk", "translation_of_id")}
    semantic_groups: list[int] = []
    for hit in semantic:
        group = roots.get(hit.article_id)
        if group is not None and group not in semantic_groups:
            semantic_groups.append(group)
        if len(semantic_groups) == 3:
            break
    return roots[keyword[0].article_id] in semantic_groups


# --- candidates ---


def _preferred_hits(hits: list[ChunkHit], articles: dict[int, Article], locale: str) -> list[ChunkHit]:
    """Hits, taking from each translation group the article in the question's language."""
    def group(hit: ChunkHit) -> int:
        return articles[hit.article_id].translation_of_id or hit.article_id

    group_locales: dict[int, set[str]] = defaultdict(set)
    for hit in hits:
        group_locales[group(hit)].add(articles[hit.article_id].locale)
    return [hit for hit in hits if articles[hit.article_id].locale == locale or locale not in group_locales[group(hit)]]


def _candidate_chunks(hits: list[ChunkHit], locale: str) -> list[tuple[Chunk, Article, float]]:
    """The top chunks with their prior (retrieval score, decayed by rank), then the other chunks of
    the best articles (prior: half their article's best)."""
    articles = Article.objects.select_related("space").in_bulk({hit.article_id for hit in hits})
    preferred = _preferred_hits(hits, articles, locale)
    top = preferred[:MAX_CHUNKS]
    top_score = max(hit.score for hit in top) or 1.0
    priors = {hit.chunk_id: (hit.score / top_score) * (1 - 0.03 * rank) for rank, hit in enumerate(top)}
    first_hits: dict[int, ChunkHit] = {}
    for hit in top:
        first_hits.setdefault(hit.article_id, hit)
    best_articles = list(first_hits.values())[:SIBLING_ARTICLES]
    siblings = Chunk.objects.filter(version_id__in=[hit.version_id for hit in best_articles], is_indexed=True).exclude(pk__in=list(priors))
    article_prior = {hit.version_id: priors[hit.chunk_id] for hit in best_articles}
    rows = Chunk.objects.in_bulk(list(priors))
    candidates = [(rows[hit.chunk_id], articles[hit.article_id], priors[hit.chunk_id]) for hit in top]
    for chunk in siblings:
        candidates.append((chunk, articles[chunk.article_id], 0.5 * article_prior[chunk.version_id]))
    return candidates + _referenced(candidates, preferred, articles, {hit.version_id for hit in best_articles})


QUOTED = re.compile(r"[„“\"»«]([^„“”\"»«\n]{3,120})[“”\"«»]")
TITLE_TAIL = re.compile(r"^\s*(?:[–—:(-]|$)")


def referenced_articles(text: str, titles: dict[int, str]) -> set[int]:
    """The articles a text names by title in quotes: the whole title, or its main part before a
    dash, colon or parenthesis ("Router zurückgeben" for "Router zurückgeben – Fristen")."""
    found = set()
    for quoted in QUOTED.findall(text):
        name = quoted.strip().casefold()
        for pk, title in titles.items():
            folded = title.casefold()
            rest = folded[len(name):] if folded.startswith(name) else None
            # a prefix at a word boundary if it is several words long ("Router zurückgeben" for
            # "Router zurückgeben nach Vertragsende"); a single quoted word is often a button or a
            # label, so it names an article only as the whole title or before a dash
            if rest is not None and (TITLE_TAIL.match(rest) or (rest.startswith(" ") and " " in name)):
                found.add(pk)
    return found


def _referenced(candidates: list[tuple[Chunk, Article, float]], hits: list[ChunkHit], articles: dict[int, Article],
                included: set[int]) -> list[tuple[Chunk, Article, float]]:
    """The chunks of articles that the best articles refer to by title ("Frist und Ablauf stehen im
    Artikel „Router zurückgeben“"): a knowledge base sends the reader to where a fact is kept, so
    that article is a candidate too, with the prior of the chunk pointing at it. Only articles
    among the retrieved hits: they passed the audience, validity and live-version filters."""
    first_hits: dict[int, ChunkHit] = {}
    for hit in hits:
        first_hits.setdefault(hit.article_id, hit)
    titles = {pk: articles[pk].title for pk in first_hits}
    pointing: dict[int, float] = {}
    for chunk, article, prior in candidates:
        if chunk.version_id not in included:
            continue
        for target in referenced_articles(chunk.text, titles):
            hit = first_hits[target]
            if hit.version_id not in included and target != article.pk:
                pointing[hit.version_id] = max(pointing.get(hit.version_id, 0.0), prior)
    if not pointing:
        return []
    known = {chunk.pk for chunk, _, _ in candidates}
    chunks = Chunk.objects.filter(version_id__in=list(pointing), is_indexed=True).exclude(pk__in=known)
    return [(chunk, articles[chunk.article_id], pointing[chunk.version_id]) for chunk in chunks]


def _context(article: Article, section: str, lead: PassageText | None) -> str:
    """What a passage is about beyond its own words: the article title, its section and, for a
    list item or table row, the sentence introducing the list ("Die Sperre kostet:")."""
    context = section if section == article.title else f"{article.title} > {section}"
    return f"{context}: {lead.text}" if lead else context


def _passages(candidates: list[tuple[Chunk, Article, float]]) -> list[Passage]:
    passages = []
    for chunk, article, prior in candidates:
        section = chunk.heading_path.split(" > ")[-1]
        pieces = split_passages(chunk.text)
        for position, piece in enumerate(pieces):
            lead = pieces[piece.lead] if piece.lead is not None else None
            passages.append(Passage(
                chunk_id=chunk.pk, version_id=chunk.version_id, article=article, position=position, quote=piece.quote,
                text=piece.text, context=_context(article, piece.heading or section, lead), prior=prior,
                unit=piece.unit, kind=piece.kind, lead=piece.lead, chunk_ordinal=chunk.ordinal,
                states=stated_kinds(piece.text, piece.kind), section_kinds=frozenset(asked_kinds(piece.heading or section)),
                quantities=quantities(piece.text, language_of(article.locale)), section=piece.heading or section,
            ))
    return passages


# --- scoring and composition ---



def _score(passage: Passage, chunk_coverage: float, asked: set[str]) -> None:
    passage.relevance = (
        W_SEMANTIC * passage.semantic + W_COVERAGE * passage.coverage + W_CHUNK_COVERAGE * chunk_coverage + W_PRIOR * passage.prior
    )
    passage.score = passage.relevance
    if asked:
        passage.score += KIND_BONUS if passage.states & asked else -KIND_MALUS
        if passage.states & asked & passage.section_kinds:
            passage.score += SECTION_KIND_BONUS


def _belonging(best: Passage, passages: list[Passage]) -> list[Passage]:
    """What belongs to the best passage: the rest of its list item or row, the list or table it
    introduces (when it ends in ":"), and the sentence introducing its own list or table."""
    same_chunk = [p for p in passages if p.chunk_id == best.chunk_id]
    unit = [p for p in same_chunk if p.unit == best.unit and p.kind != "sentence" and p is not best]
    introduced = [p for p in same_chunk if p.lead == best.position][:MAX_LIST_ITEMS] if best.text.endswith(":") else []
    lead = [p for p in same_chunk if best.lead is not None and p.position == best.lead]
    return lead + unit + introduced


def _informative_follower(best: Passage, passages: list[Passage]) -> Passage | None:
    """The passage right after the best one in the article's reading order, if it states a fact
    (an amount, a time, steps). A question asking for no particular kind ("Can I ...?", "What
    happens if ...?") is answered by a general statement whose specifics (the condition, the
    period, the fee) typically follow it."""
    order = sorted((p for p in passages if p.article.pk == best.article.pk), key=lambda p: (p.chunk_ordinal, p.position))
    index = order.index(best)
    follower = order[index + 1] if index + 1 < len(order) else None
    return follower if follower is not None and follower.states - {"count"} else None


def _redundant(candidate: Passage, chosen: list[Passage]) -> bool:
    """Already chosen, or the same words from another place."""
    return any(candidate.text == p.text or (candidate.chunk_id == p.chunk_id and candidate.position == p.position) for p in chosen)




def _focus_article(ranked: list[Passage]) -> int:
    """The article the answer comes from: the one whose two most relevant passages are, on average,
    the most relevant by content alone. Two, so that one sentence matching by chance does not decide;
    by content alone, so that the asked kind of fact does not pull in another article that merely
    states a number."""
    relevances: dict[int, list[float]] = defaultdict(list)
    for passage in ranked:
        # a passage sending the reader elsewhere ("Frist und Ablauf stehen im Artikel „…“") speaks
        # for the article it names, not for its own
        for pk in passage.points_to or (passage.article.pk,):
            relevances[pk].append(passage.relevance)
    return max(relevances, key=lambda pk: sum(sorted(relevances[pk], reverse=True)[:2]) / min(2, len(relevances[pk])))


def _limits(in_focus: list[Passage], asked: tuple[tuple[str, float], ...]) -> list[Passage]:
    """For each quantity of the question, the limits it falls between: the passage stating the
    nearest value at or below it and the one stating the nearest value above it, in the same unit
    (400 € between "bis 250 €" and "bis 1.000 €"; 45 minutes between "bis 30 Minuten" and "bis
    60 Minuten"), each with what belongs to it. Of passages stating the same value, the best."""
    limits: list[Passage] = []
    for unit, value in asked:
        below: tuple[float, Passage] | None = None
        above: tuple[float, Passage] | None = None
        for passage in in_focus:  # best first: a later passage must state a strictly nearer value
            for stated_unit, stated in passage.quantities:
                if not same_unit(unit, stated_unit):
                    continue
                if stated <= value and (below is None or stated > below[0]):
                    below = (stated, passage)
                elif stated > value and (above is None or stated < above[0]):
                    above = (stated, passage)
        for limit in (below, above):
            if limit is not None:
                limits += [limit[1], *_belonging(limit[1], in_focus)]
    return limits




def _named_section(best: Passage, in_focus: list[Passage], asked: set[str]) -> Passage | None:
    """A step or statement naming another section of its article by that section's heading ("Richten
    Sie eine Drittanbietersperre ein" - "## Drittanbietersperre einrichten") is carried out as that
    section says: its first passage stating the asked kind of fact (any fact, when none is asked)."""
    language = language_of(best.article.locale)
    stated = _covered_terms(best.text, language)
    for section in dict.fromkeys(p.section for p in in_focus if p.section != best.section and p.section != best.article.title):
        terms = set(analyze(section, language))
        if len(terms) < 2 or len({t for t in terms if t in stated or _root(t, language) in stated}) < MIN_SECTION_NAMED * len(terms):
            continue
        order = sorted((p for p in in_focus if p.section == section), key=lambda p: (p.chunk_ordinal, p.position))
        wanted = asked or {"money", "time", "steps", "frequency"}
        return next((p for p in order if p.states & wanted), None)
    return None


# A noun after a definite article refers back to where its section introduced it ("..., nehmen wir die
# Pauschale zurück" - "... berechnen wir eine Nichtrückgabepauschale:"), a German compound by its head.
DEFINITE_NOUN = re.compile(r"\b(?:der|die|das|den|dem|des|diese[nmrs]?|the|this|these)\s+([^\W\d_]{4,})", re.IGNORECASE)


def _antecedents(chosen: list[Passage], in_focus: list[Passage]) -> list[Passage]:
    """For each chosen passage, the nearest earlier passage of its section naming a thing it names
    with a definite article, and what belongs to that; a table row or list item is represented by the
    sentence introducing its table or list, which brings the whole of it."""
    found: list[Passage] = []
    for passage in chosen:
        nouns = {noun.lower() for noun in DEFINITE_NOUN.findall(passage.text)}
        if not nouns:
            continue
        earlier = sorted((p for p in in_focus if p.section == passage.section and p.chunk_id == passage.chunk_id
                          and p.position < passage.position), key=lambda p: p.position, reverse=True)
        for noun in nouns:
            for candidate in earlier:
                words = {word.lower() for word in tokens(candidate.text)}
                if any(word == noun or (word.endswith(noun) and len(word) > len(noun)) for word in words):
                    # a row or list item is introduced with its whole table or list
                    lead = next((p for p in earlier if candidate.lead is not None and p.position == candidate.lead), None)
                    found += [lead, *_belonging(lead, in_focus)] if lead else [candidate, *_belonging(candidate, in_focus)]
                    break
    return found


def _compose(ranked: list[Passage], asked: set[str],
             stated: tuple[tuple[str, float], ...] = ()) -> tuple[Passage, list[Passage]]:
    """The answer passages, all from the focus article: its best passage (with the asked kind of
    fact), what belongs to it, a passage for each asked kind still missing, and close runners-up."""
    focus = _focus_article(ranked)
    in_focus = [p for p in ranked if p.article.pk == focus and not p.points_to]
    if not in_focus:
        in_focus = [p for p in ranked if p.article.pk == focus]
    best = in_focus[0]
    chosen = [best]
    for passage in _belonging(best, in_focus):
        if not _redundant(passage, chosen):
            chosen.append(passage)
    follower = None if asked else _informative_follower(best, in_focus)
    if follower is not None and not _redundant(follower, chosen):
        chosen.append(follower)
    for kind in sorted(asked):
        if any(kind in p.states for p in chosen):
            continue
        filler = next((p for p in in_focus if kind in p.states), None)
        if filler is not None and filler.score >= FILL_RATIO * best.score and not _redundant(filler, chosen):
            chosen.append(filler)
    named = _named_section(best, in_focus, asked)
    if named is not None and not _redundant(named, chosen):
        chosen.append(named)
    for passage in _limits(in_focus, stated):
        if not _redundant(passage, chosen):
            chosen.append(passage)
    for candidate in in_focus[1:]:
        if len(chosen) >= MAX_PASSAGES:
            break
        close = candidate.score >= (CLOSE_IN_CHUNK if candidate.chunk_id == best.chunk_id else CLOSE_IN_ARTICLE) * best.score
        # as much of the question in its words, and the asked kind of fact: as good as the best,
        # whatever the similarity of its vector (table rows and terse list items embed poorly)
        equal = bool(asked) and bool(candidate.states & asked) and candidate.coverage >= best.coverage > 0
        # as relevant by content as the best, whatever the asked kind of fact: "Will you pay?" reads as
        # asking for an amount, the row deciding whether anything is paid states none
        as_relevant = candidate.relevance >= CLOSE_IN_ARTICLE * best.relevance
        if (close or equal or as_relevant) and not _redundant(candidate, chosen):
            chosen.append(candidate)
    for passage in _antecedents(chosen, in_focus):
        if not _redundant(passage, chosen):
            chosen.append(passage)
    return best, chosen


def select_evidence(question: str, hits: list[ChunkHit], *, locale: str, agreement: bool = True,
                    audiences: tuple[str, ...], embedder: Embedder | None = None) -> Evidence:
    if not hits:
        return Evidence([], False, 0.0, 0.0)
    candidates = _candidate_chunks(hits, locale)
    passages = _passages(candidates)
    if not passages:
        return Evidence([], False, 0.0, 0.0)
    language = language_of(locale)
    weights = _question_weights(question, [language] + [other for other in ("de", "en") if other != language])
    chunk_coverage = {chunk.pk: _best_coverage(f"{chunk.heading_path}\n{chunk.text}", weights) for chunk, _, _ in candidates}
    embedder = embedder or active_embedder()
    vectors = np.vstack(cached_vectors(embedder, [f"{p.context}: {p.text}" for p in passages]))
    similarities = vectors @ np.asarray(embedder.embed_query(question), dtype=np.float32)
    asked = asked_kinds(question)
    compared = quantities(question, language)
    titles = {article.pk: article.title for _, article, _ in candidates}
    # a sentence naming another article delegates its whole sentence group, list item or row to it
    # ("Mietgeräte: Einen gemieteten Router müssen Sie zurückgeben. Frist und Ablauf stehen im Artikel „…“")
    delegated: dict[tuple[int, int], frozenset[int]] = defaultdict(frozenset)
    for passage in passages:
        targets = frozenset(referenced_articles(passage.text, titles) - {passage.article.pk})
        delegated[(passage.chunk_id, passage.unit)] |= targets
    for passage in passages:
        passage.points_to = delegated[(passage.chunk_id, passage.unit)]
    for passage, similarity in zip(passages, similarities, strict=True):
        passage.coverage = _best_coverage(f"{passage.context} {passage.text}", weights)
        passage.semantic = float(similarity)
        _score(passage, chunk_coverage[passage.chunk_id], asked)
    ranked = sorted(passages, key=lambda p: p.score, reverse=True)
    best, chosen = _compose(ranked, asked, compared)
    support = (best.coverage + best.semantic) / 2
    states_asked = not asked or any(p.states & asked for p in chosen)
    article_text = "\n".join(f"{chunk.heading_path}\n{chunk.text}" for chunk, article, _ in candidates if article.pk == best.article.pk)
    article_coverage = _best_coverage(article_text, weights)
    on_topic = agreement or article_coverage >= MIN_ARTICLE_COVERAGE
    confident = states_asked and support >= (MIN_SUPPORT_AGREEING if on_topic else MIN_SUPPORT_ALONE)
    hidden = hidden_names(question, languages=list(weights), audiences=audiences) if confident else []
    confident = confident and not hidden
    chosen.sort(key=lambda p: (p.chunk_ordinal, p.position))  # one article: in its reading order
    return Evidence(chosen, confident, best.coverage, best.semantic, considered=ranked[:10], agreement=agreement, support=support,
                    article_coverage=article_coverage, hidden_names=hidden)
