"""The answer stages with a language model: choose sources, judge, write, verify (sentence by sentence).

    sources   the best chunks of the retrieval (audience-filtered already), one language per
              translation group, at most MAX_SOURCES: the prompt stays small
    judge     the model's probability that the sources answer exactly this question; below
              JUDGE_MIN the question is refused (and becomes a knowledge gap)
    write     1-3 sentences, each citing [n]; or the model's own refusal
    verify    each sentence against the source it cites (numbers with their subject, negations,
              content words, guarded promises); only verified sentences are kept or streamed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kb.models import Article, ArticleVersion
from retrieval import guardrails
from retrieval.llm import ModelEndpoint, chat_model
from retrieval.models import Chunk
from retrieval.search import ChunkHit
from retrieval.verification import CheckedSentence, check_sentence, restated_source, split_answer
from retrieval.writer import WRITER_MAX_TOKENS, ModelSource, SentenceBuffer, judge, refused, stream_write, write

MAX_SOURCES = 3
MAX_ANSWER_SENTENCES = 3
# below this probability of "yes" the question is refused; chosen on the development sets (see README)
JUDGE_MIN = 0.5


@dataclass(frozen=True)
class SourceChunk:
    n: int
    chunk: Chunk
    article: Article

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass
class ModelAnswer:
    status: str  # "answered" | "refused"
    reason: str | None
    kept: list[CheckedSentence] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    sources: list[SourceChunk] = field(default_factory=list)
    support: float = 0.0  # the judge's probability


def choose_sources(hits: list[ChunkHit], *, locale: str, audiences: tuple[str, ...]) -> list[SourceChunk]:
    """The top chunks, taking from each translation group the article in the question's language."""
    articles = Article.objects.select_related("space").in_bulk({hit.article_id for hit in hits})

    def group(hit: ChunkHit) -> int:
        return articles[hit.article_id].translation_of_id or hit.article_id

    locales_of: dict[int, set[str]] = {}
    for hit in hits:
        locales_of.setdefault(group(hit), set()).add(articles[hit.article_id].locale)
    chosen: list[ChunkHit] = []
    for hit in hits:
        article = articles[hit.article_id]
        if article.audience not in audiences:  # retrieval filters already; never trust one layer alone
            continue
        if article.locale != locale and locale in locales_of[group(hit)]:
            continue
        chosen.append(hit)
        if len(chosen) == MAX_SOURCES:
            break
    chunks = Chunk.objects.in_bulk([hit.chunk_id for hit in chosen])
    return [SourceChunk(n, chunks[hit.chunk_id], articles[hit.article_id]) for n, hit in enumerate(chosen, 1)]


def _model_sources(sources: list[SourceChunk]) -> list[ModelSource]:
    return [ModelSource(s.n, " – ".join(part for part in (s.article.title, s.chunk.heading_path.split(" > ")[-1])
                                         if part) if s.chunk.heading_path != s.article.title else s.article.title,
                        s.text) for s in sources]


def _checked(sentence: str, quotes: dict[int, str], locale: str, phrases: list[str]) -> tuple[CheckedSentence, str]:
    checked = check_sentence(sentence, quotes, locale)
    if not checked.supported:
        return checked, checked.problem
    promises = guardrails.unsupported_promises(checked.text, " ".join(quotes[n] for n in checked.citations), phrases)
    if promises:
        return checked, "promise not in the source: " + ", ".join(promises)
    return checked, ""


def answer_with_model(
    *, question: str, hits: list[ChunkHit], locale: str, audience: str, audiences: tuple[str, ...],
    endpoint: ModelEndpoint, on_sentence: Callable[[str], None] | None = None,
) -> ModelAnswer:
    sources = choose_sources(hits, locale=locale, audiences=audiences)
    if not sources:
        return ModelAnswer("refused", "no_supporting_evidence")
    model_sources = _model_sources(sources)
    probability = judge(chat_model(endpoint, max_tokens=1, logprobs=True, top_logprobs=10),
                        question=question, sources=model_sources, locale=locale)
    if probability < JUDGE_MIN:
        return ModelAnswer("refused", "not_in_sources", sources=sources, support=probability)
    quotes = {source.n: source.text for source in sources}
    phrases = guardrails.guarded_phrases(audience)
    kept: list[CheckedSentence] = []
    dropped: list[str] = []

    def take(sentence: str) -> None:
        if refused(sentence):
            return
        checked, problem = _checked(sentence, quotes, locale, phrases)
        if problem:
            dropped.append(f"{checked.text} ({problem})")
            return
        if len(kept) >= MAX_ANSWER_SENTENCES:
            dropped.append(f"{checked.text} (more than {MAX_ANSWER_SENTENCES} sentences)")
            return
        kept.append(checked)
        if on_sentence is not None:
            on_sentence(checked.text + "".join(f" [{n}]" for n in checked.citations))

    writer = chat_model(endpoint, max_tokens=WRITER_MAX_TOKENS, streaming=on_sentence is not None)
    if on_sentence is None:
        draft = write(writer, question=question, sources=model_sources, locale=locale)
        for sentence in split_answer(draft) if draft else []:
            take(sentence)
    else:
        buffer = SentenceBuffer()
        for piece in stream_write(writer, question=question, sources=model_sources, locale=locale):
            for sentence in buffer.feed(piece):
                for part in split_answer(sentence):
                    take(part)
        rest = buffer.rest()
        for part in split_answer(rest) if rest else []:
            take(part)
    if not kept:
        return ModelAnswer("refused", "answer_not_supported", dropped=dropped, sources=sources, support=probability)
    return ModelAnswer("answered", None, kept=kept, dropped=dropped, sources=sources, support=probability)


def quote_for(sentences: list[CheckedSentence], source: SourceChunk, locale: str) -> str:
    """The source's sentences (or table rows) that the answer's sentences citing it restate."""
    quotes: list[str] = []
    for sentence in sentences:
        if source.n in sentence.citations:
            segment = restated_source(sentence.text, source.text, locale)
            if segment not in quotes:
                quotes.append(segment)
    return "\n".join(quotes) or source.text


def version_numbers(sources: list[SourceChunk]) -> dict[int, int]:
    return dict(ArticleVersion.objects.filter(pk__in=[s.chunk.version_id for s in sources]).values_list("pk", "number"))
