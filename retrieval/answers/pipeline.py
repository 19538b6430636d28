"""The answer pipeline: redact, guard, retrieve, select evidence, generate, verify, check, record.

    answered  every sentence cites a passage of a live, valid version visible to the audience
    refused   the knowledge base does not support an answer (recorded as a knowledge gap)
    handoff   a person must take over (injection attempt, blocked topic, hand-over trigger)
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import openai
from django.db import transaction

from kb.links import article_url
from kb.models import ArticleVersion
from retrieval.answers import guardrails
from retrieval.answers.cache import answer_cache_key, cached_reply
from retrieval.answers.evidence import Evidence, Passage, retrievers_agree, select_evidence
from retrieval.answers.generation import ExtractiveGenerator, Generator, Source
from retrieval.answers.model import (
    MAX_ANSWER_SENTENCES,
    ModelAnswer,
    answer_with_model,
    best_rows,
    choose_sources,
    cited_text,
    first_use_numbers,
    quote_for,
    read_row,
    version_numbers,
)
from retrieval.answers.redaction import redact
from retrieval.answers.serving import flag_warnings, withheld_from_public
from retrieval.answers.verification import verify_answer
from retrieval.index.corpus import snapshot
from retrieval.index.embeddings import active_embedder
from retrieval.llm.client import ModelEndpoint, model_endpoint
from retrieval.models import AnswerCitation, AnswerRecord, ApiKey
from retrieval.search.fusion import fuse, semantic_weight
from retrieval.search.glossary import glossary_rules_for
from retrieval.search.hybrid import chunk_hits
from retrieval.search.query import SearchQuery, detect_locale
from retrieval.text.tokens import language_of
from retrieval.text.translation import forbidden_replace

logger = logging.getLogger("verity.answers")


@dataclass
class Citation:
    n: int
    slug: str
    locale: str
    version: int
    version_id: int
    chunk_id: int
    title: str
    url: str
    quote: str
    audience: str
    space_id: int
    article_id: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class AnswerResult:
    query_id: str
    status: str
    answer: str | None
    citations: list[Citation]
    reason: str | None
    locale: str
    latency_ms: int
    question: str  # redacted
    dropped: list[str] = field(default_factory=list)
    evidence: Evidence | None = None
    generator: str = "extractive"
    cached: bool = False

    def as_api(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "answer": self.answer,
            "citations": [
                {"n": c.n, "slug": c.slug, "locale": c.locale, "version": c.version, "title": c.title,
                 "url": c.url, "quote": c.quote}
                for c in self.citations
            ],
            "reason": self.reason,
            "query_id": self.query_id,
            "generator": self.generator,
            "cached": self.cached,
            # for agents: what is wrong with a cited article (open change, contradiction, report, drift)
            "warnings": [{"n": c.n, "slug": c.slug, "warning": warning} for c in self.citations for warning in c.warnings],
        }


def _audiences(audience: str) -> tuple[str, ...]:
    return ("public",) if audience == "public" else ("public", "internal")


def _citations(passages: list[Passage]) -> tuple[list[Citation], list[tuple[int, str]]]:
    """One citation per chunk (its passages joined as the quote); sentences numbered by it."""
    by_chunk: dict[int, Citation] = {}
    sentences: list[tuple[int, str]] = []
    for passage in passages:
        citation = by_chunk.get(passage.chunk_id)
        if citation is None:
            article = passage.article
            citation = Citation(
                n=len(by_chunk) + 1, slug=article.slug, locale=article.locale, version=0,
                version_id=passage.version_id, chunk_id=passage.chunk_id, title=article.title,
                url=article_url(article.slug), quote=passage.quote, audience=article.audience, space_id=article.space_id,
                article_id=article.pk,
            )
            by_chunk[passage.chunk_id] = citation
        elif passage.quote not in citation.quote:
            citation.quote = f"{citation.quote}\n{passage.quote}"  # one verbatim passage per line
        sentences.append((citation.n, passage.text))
    citations = list(by_chunk.values())
    numbers = dict(ArticleVersion.objects.filter(pk__in=[c.version_id for c in citations]).values_list("pk", "number"))
    for citation in citations:
        citation.version = numbers[citation.version_id]
    return citations, sentences


def answer_question(
    *,
    question: str,
    audience: str,
    locale: str | None = None,
    api_key: ApiKey | None = None,
    user: Any = None,
    generator: Generator | None = None,
    endpoint: ModelEndpoint | None = None,
    store: bool = True,
    simulated: bool = False,
    on_sentence: Callable[[str], None] | None = None,
) -> AnswerResult:
    """Answer from approved, current knowledge for `audience`, or refuse or hand over.

    The language model of `endpoint` (default: the configured one, see retrieval.llm.client) reads and
    writes; a `generator` (a test double, or the extractive one) replaces it. `on_sentence` receives
    each verified sentence as soon as it is written (streaming).
    """
    started = time.perf_counter()
    query_id = str(uuid.uuid4())
    redacted = redact(question, guardrails.redaction_patterns()).text
    locale = locale or detect_locale(redacted)
    language = language_of(locale)
    if generator is None and endpoint is None:
        endpoint = model_endpoint()
    if endpoint is not None and generator is None:
        generator_name = endpoint.generator_name
    else:
        generator = generator or ExtractiveGenerator()
        generator_name = generator.name

    cache = {"key": "", "hit": False}  # set once the model's passages are known

    def finish(status: str, *, answer: str | None = None, citations: list[Citation] | None = None,
               reason: str | None = None, evidence: Evidence | None = None, dropped: list[str] | None = None,
               retrieved: list[dict] | None = None) -> AnswerResult:
        result = AnswerResult(
            query_id=query_id, status=status, answer=answer, citations=citations or [], reason=reason, locale=locale,
            latency_ms=int((time.perf_counter() - started) * 1000), question=redacted, dropped=dropped or [],
            evidence=evidence, generator=generator_name, cached=bool(cache["hit"]),
        )
        if store:
            _record(result, audience=audience, api_key=api_key, user=user, generator=generator_name,
                    retrieved=retrieved or [], simulated=simulated, cache_key=str(cache["key"]))
        return result

    handoff = guardrails.handoff_check(redacted, audience=audience, locale=locale)
    if handoff:
        return finish("handoff", answer=handoff.message, reason=handoff.reason)

    query = SearchQuery(text=redacted, audiences=_audiences(audience), locale=locale, limit=20)
    with snapshot():
        keyword = chunk_hits(replace(query, mode="keyword"))
        semantic = chunk_hits(replace(query, mode="semantic"))
    if audience == "public":
        withheld = withheld_from_public({hit.article_id for hit in keyword + semantic})
        keyword = [hit for hit in keyword if hit.article_id not in withheld]
        semantic = [hit for hit in semantic if hit.article_id not in withheld]
    # the weight /search fuses at: one weight, the one tuned for the embedder (or configured)
    hits = fuse(keyword, semantic, semantic_weight(active_embedder()))
    retrieved = [{"chunk": h.chunk_id, "version": h.version_id, "score": round(h.score, 4)} for h in hits[:20]]
    refusal = guardrails.REFUSAL_MESSAGES.get(language, guardrails.REFUSAL_MESSAGES["en"])
    evidence = select_evidence(redacted, hits, locale=locale, agreement=retrievers_agree(keyword, semantic),
                               audiences=query.audiences)
    written: ModelAnswer | None = None
    if generator is None:
        if evidence.hidden_names:  # the question names what only hidden articles name
            return finish("refused", answer=refusal, reason="no_supporting_evidence", evidence=evidence,
                          retrieved=retrieved)
        sources = choose_sources(hits, locale=locale, audiences=query.audiences, evidence=evidence)
        cache["key"] = answer_cache_key(question=redacted, locale=locale, audience=audience, generator=generator_name,
                                        chunk_ids=[source.chunk.pk for source in sources])
        record = None if simulated else cached_reply(str(cache["key"]))
        if record is not None:
            cache["hit"] = True
            return _cached_answer(finish, record, audience=audience, retrieved=retrieved, on_sentence=on_sentence)
        try:
            written = answer_with_model(question=redacted, hits=hits, locale=locale, audience=audience,
                                        audiences=query.audiences, endpoint=endpoint, evidence=evidence,
                                        sources=sources, on_sentence=on_sentence)
        except (openai.APIError, OSError) as error:  # timeout, server gone: answer without the model
            logger.error("The language model failed (%s: %s); answering extractively.", type(error).__name__, error)
            cache["key"] = ""
            generator, generator_name = ExtractiveGenerator(), "extractive"
            if not evidence.passages or not evidence.confident:
                return finish("refused", answer=refusal, reason="no_supporting_evidence", evidence=evidence,
                              retrieved=retrieved)
            return _extractive_answer(finish, generator, redacted, evidence, audience=audience, locale=locale,
                                      retrieved=retrieved, on_sentence=on_sentence, dropped_before=[])
        if written.status == "answered":
            return _model_answer(finish, written, audience=audience, locale=locale, retrieved=retrieved,
                                 evidence=evidence)
        if written.reason == "answer_not_supported" and not evidence.confident:
            # the judge found the answer, the writer wrote nothing verifiable and the evidence scorer is
            # unsure: what remains is the model's reading of the table rows among the selected passages
            # (a long question buries its few words in a price table); only rows it reads as answering
            # the question, in sentences that check out, and nothing else
            dropped = list(written.dropped)
            rows = _rows_read_as_answering(evidence, redacted, locale, endpoint, dropped)
            if rows:
                return _extractive_answer(finish, ExtractiveGenerator(), redacted, replace(evidence, passages=rows),
                                          audience=audience, locale=locale, retrieved=retrieved,
                                          on_sentence=on_sentence, dropped_before=dropped)
            return finish("refused", answer=refusal, reason=written.reason, dropped=dropped, retrieved=retrieved)
        if written.reason != "answer_not_supported":
            return finish("refused", answer=refusal, reason=written.reason, dropped=written.dropped, retrieved=retrieved)
        # the judge found the answer in the sources but the writer produced nothing verifiable: the
        # selected source sentences themselves, when the evidence scorer is confident as well (the
        # model still reads their table rows)
        generator, generator_name = ExtractiveGenerator(), "extractive"
        return _extractive_answer(finish, generator, redacted, evidence, audience=audience, locale=locale,
                                  retrieved=retrieved, on_sentence=on_sentence, dropped_before=written.dropped,
                                  endpoint=endpoint)
    elif not evidence.passages or not evidence.confident:
        return finish("refused", answer=refusal, reason="no_supporting_evidence", evidence=evidence, retrieved=retrieved)
    return _extractive_answer(finish, generator, redacted, evidence, audience=audience, locale=locale,
                              retrieved=retrieved, on_sentence=on_sentence,
                              dropped_before=written.dropped if written is not None else [])


def _cached_answer(finish: Callable[..., AnswerResult], record: AnswerRecord, *, audience: str,
                   retrieved: list[dict], on_sentence: Callable[[str], None] | None) -> AnswerResult:
    """The reply written earlier for the same question over the same passages (see retrieval.answers.cache)."""
    if record.status != AnswerRecord.Status.ANSWERED:
        return finish(record.status, answer=record.answer, reason=record.reason or None, retrieved=retrieved)
    citations = []
    for cited in record.cited.all():
        article = cited.version.article
        citations.append(Citation(
            n=cited.n, slug=article.slug, locale=article.locale, version=cited.version.number,
            version_id=cited.version_id, chunk_id=cited.chunk_id or 0, title=article.title,
            url=article_url(article.slug), quote=cited.quote, audience=article.audience, space_id=article.space_id,
            article_id=article.pk,
        ))
    if audience != "public":
        warnings = flag_warnings({c.article_id for c in citations})
        for citation in citations:
            citation.warnings = warnings.get(citation.article_id, [])
    if on_sentence is not None:
        on_sentence(record.answer)
    return finish("answered", answer=record.answer, citations=citations, retrieved=retrieved)


def _model_answer(finish: Callable[..., AnswerResult], written: ModelAnswer, *, audience: str, locale: str,
                  retrieved: list[dict], evidence: Evidence) -> AnswerResult:
    """The model's verified sentences, renumbered, each citation quoting the sentences it rests on."""
    renumber = first_use_numbers(written.kept)
    numbers = version_numbers(written.sources)
    final_citations = [
        Citation(n=renumber[source.n], slug=source.article.slug, locale=source.article.locale,
                 version=numbers[source.chunk.version_id], version_id=source.chunk.version_id,
                 chunk_id=source.chunk.pk, title=source.article.title, url=article_url(source.article.slug),
                 quote=quote_for(written.kept, source, locale), audience=source.article.audience,
                 space_id=source.article.space_id, article_id=source.article.pk)
        for source in written.sources if source.n in renumber
    ]
    final_citations.sort(key=lambda citation: citation.n)
    text = " ".join(cited_text(sentence, renumber) for sentence in written.kept)
    return _finish_answer(finish, text, final_citations, audience=audience, locale=locale,
                          dropped=written.dropped, retrieved=retrieved, evidence=evidence)


def _extractive_answer(finish: Callable[..., AnswerResult], generator: Generator, redacted: str, evidence: Evidence, *,
                       audience: str, locale: str, retrieved: list[dict],
                       on_sentence: Callable[[str], None] | None, dropped_before: list[str],
                       endpoint: ModelEndpoint | None = None) -> AnswerResult:
    """Without a model: at most three passages, the best-scored, in reading order. `dropped_before`:
    what a model wrote and verification dropped before these passages were chosen instead. With an
    `endpoint` the model reads each table row into a sentence (kept only when it checks out)."""
    refusal = guardrails.REFUSAL_MESSAGES.get(language_of(locale), guardrails.REFUSAL_MESSAGES["en"])
    best = sorted(evidence.passages, key=lambda passage: passage.score, reverse=True)[:MAX_ANSWER_SENTENCES]
    dropped_before = list(dropped_before)
    chosen = [passage for passage in evidence.passages if passage in best]
    if endpoint is not None and any(passage.kind == "row" for passage in chosen):
        rows = [passage for passage in chosen if passage.kind == "row"]
        kept = dict(_best_rows_read(rows, redacted, locale, endpoint, dropped_before))
        # rows the model reads as not answering (or less surely than another) go, unless nothing would be left
        chosen = [kept.get(id(passage), passage) for passage in chosen
                  if passage.kind != "row" or id(passage) in kept] or chosen
    citations, sentences = _citations(chosen)
    sources = [
        Source(n=c.n, title=c.title, text=" ".join(text for n, text in sentences if n == c.n), locale=c.locale)
        for c in citations
    ]
    draft = generator.generate(question=redacted, sources=sources, sentences=sentences, locale=locale)
    quotes = {c.n: c.quote for c in citations}
    checked = verify_answer(draft, quotes, locale) if draft else []
    phrases = guardrails.guarded_phrases(audience)
    kept, dropped = [], list(dropped_before)
    for sentence in checked:
        promises = guardrails.unsupported_promises(sentence.text, " ".join(quotes[n] for n in sentence.citations if n in quotes), phrases)
        if not sentence.supported or promises:
            dropped.append(f"{sentence.text} ({sentence.problem or 'promise not in the source: ' + ', '.join(promises)})")
        elif len(kept) >= MAX_ANSWER_SENTENCES:
            dropped.append(f"{sentence.text} (more than {MAX_ANSWER_SENTENCES} sentences)")
        else:
            kept.append(sentence)
            if on_sentence is not None:
                on_sentence(cited_text(sentence, first_use_numbers(kept)))
    if not kept:
        return finish("refused", answer=refusal, reason="answer_not_supported", evidence=evidence, dropped=dropped, retrieved=retrieved)

    renumber = first_use_numbers(kept)
    final_citations = []
    for citation in citations:
        if citation.n in renumber:
            citation.n = renumber[citation.n]
            final_citations.append(citation)
    final_citations.sort(key=lambda citation: citation.n)
    text = " ".join(cited_text(sentence, renumber) for sentence in kept)
    return _finish_answer(finish, text, final_citations, audience=audience, locale=locale, dropped=dropped,
                          retrieved=retrieved, evidence=evidence)


def _rows_read_as_answering(evidence: Evidence, question: str, locale: str, endpoint: ModelEndpoint,
                            dropped: list[str]) -> list[Passage]:
    """The selected table rows (the best-scored first, at most MAX_ANSWER_SENTENCES) that the model
    reads as answering the question, each with its verified sentence as its text; nothing unverified."""
    rows = sorted((p for p in evidence.passages if p.kind == "row"), key=lambda p: p.score, reverse=True)
    rows = rows[:MAX_ANSWER_SENTENCES]
    read = dict(_best_rows_read(rows, question, locale, endpoint, dropped))
    return [read[id(row)] for row in rows if id(row) in read and read[id(row)].text != row.text]


def _best_rows_read(rows: list[Passage], question: str, locale: str, endpoint: ModelEndpoint,
                    dropped: list[str]) -> list[tuple[int, Passage]]:
    """(id of the row passage, the passage with the model's verified sentence or as it stands) for the rows
    the model reads as answering the question about as surely as the surest (model.best_rows)."""
    readings = []
    for passage in rows:
        try:
            reading = read_row(endpoint, question=question, row=passage.text, context=passage.context, locale=locale)
        except (openai.APIError, OSError) as error:
            logger.warning("The language model could not read a table row (%s); the rows as they stand.", error)
            return [(id(passage), passage) for passage in rows]
        if reading.problem:
            dropped.append(reading.problem)
        readings.append(reading)
    kept = best_rows(readings)
    for i, reading in enumerate(readings):
        if i not in kept and reading.answers:
            dropped.append(f"{rows[i].text} (the model read another row as answering more surely)")
    return [(id(rows[i]), replace(rows[i], text=readings[i].text) if not readings[i].problem else rows[i]) for i in kept]


def _finish_answer(finish: Callable[..., AnswerResult], text: str, final_citations: list[Citation], *, audience: str,
                   locale: str, dropped: list[str], retrieved: list[dict], evidence: Evidence | None = None) -> AnswerResult:
    """Warnings for agents and the spaces' required clauses, then the answered result."""
    if audience != "public":
        warnings = flag_warnings({c.article_id for c in final_citations})
        for citation in final_citations:
            citation.warnings = warnings.get(citation.article_id, [])
    # the glossary: a forbidden variant of a term becomes the required form (the fact is the same, the
    # spelling is the organisation's); what was replaced is kept with the dropped sentences of the record
    text, replaced = forbidden_replace(text, glossary_rules_for(language_of(locale)))
    dropped = dropped + [f"glossary: '{variant}' replaced by '{form}'" for variant, form in replaced]
    clauses = guardrails.required_clauses({c.space_id for c in final_citations}, audience, locale)
    if clauses:
        text = text + "\n\n" + "\n".join(clauses)
    return finish("answered", answer=text, citations=final_citations, evidence=evidence, dropped=dropped, retrieved=retrieved)


def _record(result: AnswerResult, *, audience: str, api_key: ApiKey | None, user: Any, generator: str,
            retrieved: list[dict], simulated: bool, cache_key: str = "") -> None:
    with transaction.atomic():
        record = AnswerRecord.objects.create(
            id=result.query_id, question=result.question, locale=result.locale, audience=audience, api_key=api_key,
            user=user if getattr(user, "pk", None) else None, status=result.status, reason=result.reason or "",
            answer=result.answer or "", citations=result.as_api()["citations"], retrieved=retrieved,
            generator=generator, latency_ms=result.latency_ms, simulated=simulated, cache_key=cache_key,
            cached=result.cached,
        )
        AnswerCitation.objects.bulk_create([
            AnswerCitation(answer=record, n=c.n, version_id=c.version_id, chunk_id=c.chunk_id, quote=c.quote)
            for c in result.citations
        ])
