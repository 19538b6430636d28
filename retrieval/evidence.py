"""Evidence selection: from retrieved chunks to the few passages that answer a question.

Chunks are cut into passages (sentences, list items, table rows with their header); each is
scored by how much of the question it covers (idf-weighted, stems and compounds included), by
semantic similarity, and by its chunk's retrieval rank. The confidence decision uses absolute
signals (coverage and cosine similarity), never the rank-normalised fusion score.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from kb.models import Article
from retrieval.analysis import analyze, language_of
from retrieval.embeddings import Embedder, active_embedder
from retrieval.models import Chunk
from retrieval.search import ChunkHit

SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"„(])")
TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}")
MAX_CHUNKS = 8
MAX_PASSAGES = 3
# Confidence: keyword and semantic retrieval must agree on the topic (the keyword top hit is among
# the semantic top three translation groups) and the evidence must cover the question well enough
# (idf-weighted coverage + cosine similarity), or the coverage alone must be very high.
# Chosen on the demo development set; see README "Answers" for the measured effect.
MIN_SUPPORT_AGREEING = 0.7
MIN_SUPPORT_ALONE = 0.95


@dataclass
class Passage:
    chunk_id: int
    version_id: int
    article: Article
    position: int
    quote: str  # verbatim from the version's text
    text: str  # readable form (markdown and table pipes removed)
    context: str  # heading path, for scoring
    prior: float
    coverage: float = 0.0
    semantic: float = 0.0
    score: float = 0.0


@dataclass
class Evidence:
    passages: list[Passage]
    confident: bool
    best_coverage: float
    best_semantic: float
    considered: list[Passage] = field(default_factory=list)
    agreement: bool = False


def _clean(line: str) -> str:
    line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
    line = re.sub(r"^#+\s*", "", line)
    line = re.sub(r"\*\*|__|`", "", line)
    line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
    return line.strip()


def split_passages(text: str) -> list[tuple[str, str]]:
    """(quote, readable) pairs: sentences, list items and table rows (with the header's labels)."""
    passages: list[tuple[str, str]] = []
    header: list[str] | None = None
    header_line = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            header = None
            continue
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if TABLE_RULE.match(line.strip("|").strip()):
                continue
            if header is None:
                header, header_line = cells, line
                continue
            pairs = [f"{label}: {value}" if label and label != value else value for label, value in zip(header, cells, strict=False)]
            # the quote is the header and the row, verbatim: the row alone would not say what its cells mean
            passages.append((f"{header_line}\n{line}", "; ".join(pair for pair in pairs if pair)))
            continue
        header = None
        if re.match(r"^#+\s", line):
            continue
        sentences = SENTENCE_SPLIT.split(line)
        index = 0
        while index < len(sentences):
            sentence = sentences[index].strip()
            # a question states nothing; in FAQ style ("Q? A.") it belongs with its answer
            if sentence.endswith("?"):
                if index + 1 >= len(sentences):
                    break
                sentence = f"{sentence} {sentences[index + 1].strip()}"
                index += 1
            index += 1
            readable = _clean(sentence)
            if len(readable.split()) >= 3:
                passages.append((sentence, readable))
    return passages


# Questions that ask for an amount, a date, a time, a duration or a limit (general German and
# English): their answer is a passage that states one.
QUANTITY_QUESTION = re.compile(
    r"\b(wie\s+(viel|viele|lange|hoch|teuer|oft|schnell|spät|früh)|wann|bis\s+wann|ab\s+wann|ab\s+wie|bis\s+zu\s+welch\w*"
    r"|welche[rsnm]?\s+(frist|betrag|preis|gebühr|summe|zeit|uhrzeit|grenze|höhe)|was\s+kostet|kosten|kostet|gebühr\w*|preis\w*"
    r"|how\s+(much|many|long|often|soon|late|early)|when|what\s+time|until\s+when|deadline|fee|fees|price|cost|costs|charge)\b",
    re.IGNORECASE,
)
STATES_QUANTITY = re.compile(r"\d")


def expects_quantity(question: str) -> bool:
    return bool(QUANTITY_QUESTION.search(question))


def _idf(terms: list[str]) -> dict[str, float]:
    if not terms:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM retrieval_chunk WHERE is_indexed")
        total = max(1, cursor.fetchone()[0])
        cursor.execute("SELECT term, count(*) FROM retrieval_posting WHERE term = ANY(%s) GROUP BY term", [terms])
        df = dict(cursor.fetchall())
    return {term: math.log(1 + (total - df.get(term, 0) + 0.5) / (df.get(term, 0) + 0.5)) for term in terms}


def _coverage(passage_terms: set[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in passage_terms) / total


def _preferred_chunks(hits: list[ChunkHit], locale: str) -> tuple[list[ChunkHit], dict[int, Article]]:
    """Top chunks, taking from each translation group the article in the question's language."""
    articles = Article.objects.select_related("space").in_bulk({hit.article_id for hit in hits})
    group_locales: dict[int, set[str]] = defaultdict(set)
    for hit in hits:
        article = articles[hit.article_id]
        group_locales[article.translation_of_id or article.pk].add(article.locale)
    kept = []
    for hit in hits:
        article = articles[hit.article_id]
        group = group_locales[article.translation_of_id or article.pk]
        if article.locale != locale and locale in group:
            continue
        kept.append(hit)
    return kept[:MAX_CHUNKS], articles


def _question_weights(question: str, languages: list[str]) -> dict[str, dict[str, float]]:
    """Per language: the question's terms with their idf (a term's weight in the coverage)."""
    per_language = {language: set(analyze(question, language)) for language in languages}
    idf = _idf(sorted(set().union(*per_language.values())))
    return {language: {term: idf[term] for term in terms} for language, terms in per_language.items()}


def _best_coverage(text: str, weights: dict[str, dict[str, float]]) -> float:
    """Share of the question (idf-weighted) that a text states, in the language where it is highest."""
    return max((_coverage(set(analyze(text, language)), terms) for language, terms in weights.items()), default=0.0)


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


def select_evidence(question: str, hits: list[ChunkHit], *, locale: str, agreement: bool = True,
                    embedder: Embedder | None = None) -> Evidence:
    if not hits:
        return Evidence([], False, 0.0, 0.0)
    chunks_hits, articles = _preferred_chunks(hits, locale)
    chunk_rows = Chunk.objects.in_bulk([hit.chunk_id for hit in chunks_hits])
    language = language_of(locale)
    weights = _question_weights(question, [language] + [other for other in ("de", "en") if other != language])
    passages: list[Passage] = []
    chunk_coverage: dict[int, float] = {}
    top_score = max(hit.score for hit in chunks_hits) or 1.0
    for rank, hit in enumerate(chunks_hits):
        chunk = chunk_rows[hit.chunk_id]
        article = articles[hit.article_id]
        chunk_coverage[chunk.pk] = _best_coverage(f"{chunk.heading_path}\n{chunk.text}", weights)
        for position, (quote, readable) in enumerate(split_passages(chunk.text)):
            passages.append(Passage(
                chunk_id=chunk.pk, version_id=chunk.version_id, article=article, position=position, quote=quote,
                text=readable, context=chunk.heading_path, prior=(hit.score / top_score) * (1 - 0.03 * rank),
            ))
    if not passages:
        return Evidence([], False, 0.0, 0.0)
    embedder = embedder or active_embedder()
    vectors = embedder.embed_documents([f"{p.context.split(' > ')[-1]}: {p.text}" for p in passages])
    similarities = vectors @ np.asarray(embedder.embed_query(question), dtype=np.float32)
    wants_quantity = expects_quantity(question)
    for passage, similarity in zip(passages, similarities, strict=True):
        passage.coverage = _best_coverage(f"{passage.context.split(' > ')[-1]} {passage.text}", weights)
        passage.semantic = float(similarity)
        passage.score = 0.4 * passage.semantic + 0.3 * passage.coverage + 0.1 * chunk_coverage[passage.chunk_id] + 0.2 * passage.prior
        if wants_quantity:
            passage.score += 0.1 if STATES_QUANTITY.search(passage.text) else -0.1
    ranked = sorted(passages, key=lambda p: p.score, reverse=True)
    best = ranked[0]
    best_coverage = max(chunk_coverage[p.chunk_id] for p in ranked[:3])
    best_semantic = max(p.semantic for p in ranked[:3])
    support = best_coverage + best_semantic
    confident = (agreement and support >= MIN_SUPPORT_AGREEING) or support >= MIN_SUPPORT_ALONE
    chosen = [best]
    for candidate in ranked[1:]:
        if len(chosen) >= MAX_PASSAGES:
            break
        if candidate.text == best.text:
            continue
        same_chunk = candidate.chunk_id == best.chunk_id
        if (same_chunk and candidate.score >= 0.8 * best.score) or candidate.score >= 0.95 * best.score:
            chosen.append(candidate)
    chunk_rank: dict[int, int] = {}
    for passage in ranked:
        chunk_rank.setdefault(passage.chunk_id, len(chunk_rank))
    chosen.sort(key=lambda p: (chunk_rank[p.chunk_id], p.position))
    return Evidence(chosen, confident, best_coverage, best_semantic, considered=ranked[:10], agreement=agreement)
