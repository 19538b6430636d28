"""Fact matching shared by change impact and contradictions: the passages of articles that state a
fact (with what they stand under), and how alike two passages are (idf-weighted overlap, coverage,
sentence vectors from the one vector cache).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from kb.models import Article
from retrieval.index.corpus import idf_weights
from retrieval.index.embeddings import Embedder
from retrieval.index.vectors import cached_vectors
from retrieval.models import Chunk
from retrieval.text.facts import Fact, content_terms, extract_facts
from retrieval.text.passages import split_passages
from retrieval.text.tokens import language_of

__all__ = ["ANAPHORA", "ArticlePassage", "article_passages", "coverage", "embed", "idf_weights", "weighted_overlap"]


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


ANAPHORA = re.compile(r"(?:das|dies|dieses?|diese[rn]?|dort|dabei|danach|this|that|these|it|there)\b", re.IGNORECASE)


def article_passages(articles: list[Article], *, facts_only: bool = True) -> list[ArticlePassage]:
    """Every passage of the articles' live versions that states a fact (`facts_only`; else every passage),
    with what it stands under."""
    by_article = {article.pk: article for article in articles}
    passages: list[ArticlePassage] = []
    chunks = Chunk.objects.filter(version_id__in=[a.live_version_id for a in articles]).order_by("article_id", "ordinal")
    for chunk in chunks.only("article_id", "text", "heading_path"):
        article = by_article[chunk.article_id]
        parts = split_passages(chunk.text)
        for index, part in enumerate(parts):
            facts = extract_facts(part.text, article.locale, row=part.kind == "row")
            if not facts and facts_only:
                continue
            heading = part.heading or chunk.heading_path.split(" > ")[-1]
            lead = parts[part.lead].text if part.lead is not None else ""
            # "Das dauert 5 Werktage." is about what the sentence before says
            previous = parts[index - 1] if index else None
            same_block = previous is not None and previous.heading == part.heading and previous.kind == part.kind
            before = previous.text if same_block and ANAPHORA.match(part.text) else ""
            context = " > ".join(dict.fromkeys(x for x in (article.title, heading, lead, before) if x))
            terms = (facts[0].subject if facts else content_terms(part.text, article.locale)) | content_terms(context, article.locale)
            passages.append(ArticlePassage(article, part.quote, part.text, context, facts, terms))
    return passages


def embed(embedder: Embedder, texts: list[str]) -> list[np.ndarray]:
    """Sentence vectors, cached per (model, text): the same passages come back with every change."""
    return cached_vectors(embedder, texts)


def weighted_overlap(a: frozenset[str], b: frozenset[str], idf: dict[str, float]) -> float:
    """Cosine of the idf-weighted term sets (1 = same terms)."""
    if not a or not b:
        return 0.0
    shared = sum(idf.get(term, 0.0) ** 2 for term in a & b)
    norm = math.sqrt(sum(idf.get(term, 0.0) ** 2 for term in a) * sum(idf.get(term, 0.0) ** 2 for term in b))
    return shared / norm if norm else 0.0


def coverage(terms: frozenset[str], by: frozenset[str], idf: dict[str, float]) -> float:
    """The idf-weighted share of `terms` found in `by`."""
    total = sum(idf.get(term, 0.0) for term in terms)
    return sum(idf.get(term, 0.0) for term in terms & by) / total if total else 0.0
