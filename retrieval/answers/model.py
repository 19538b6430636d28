"""The answer stages with a language model: choose sources, judge, write, verify (sentence by sentence).

    sources   the best chunks of the retrieval (audience-filtered already), one language per
              translation group, at most MAX_SOURCES: the prompt stays small
    judge     the model's probability that the sources answer exactly this question; below
              JUDGE_MIN the question is refused (and becomes a knowledge gap)
    write     1-3 sentences, each citing [n]; or the model's own refusal
    verify    each sentence against the source sentence it restates (numbers with their subject,
              negations, guarded promises). A sentence that adds a content word to its source
              sentence and the question is replaced by that source sentence: the model's text is
              a pointer, and what reaches the customer is either the source's own words or a
              restatement that adds nothing. Only verified sentences are kept or streamed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kb.models import Article, ArticleVersion
from retrieval import tuning
from retrieval.answers import guardrails
from retrieval.answers.evidence import Evidence
from retrieval.answers.verification import (
    CITATION,
    CheckedSentence,
    check_sentence,
    negated,
    restated_source,
    source_terms,
    split_answer,
)
from retrieval.answers.writer import (
    ROW_MAX_TOKENS,
    WRITER_MAX_TOKENS,
    ModelSource,
    SentenceBuffer,
    judge,
    refused,
    row_answers,
    row_sentence,
    stream_write,
    write,
)
from retrieval.llm.client import ModelEndpoint, chat_model
from retrieval.models import Chunk
from retrieval.search.query import ChunkHit
from retrieval.text.numbers import numbers_in
from retrieval.text.tokens import analyze

MAX_SOURCES = tuning.MAX_SOURCES
MAX_ANSWER_SENTENCES = tuning.MAX_ANSWER_SENTENCES
JUDGE_MIN = tuning.JUDGE_MIN
MIN_RESTATED_CLOSENESS = tuning.MIN_RESTATED_CLOSENESS
MIN_QUOTED_CLOSENESS = tuning.MIN_QUOTED_CLOSENESS
ROW_JUDGE_MIN = tuning.ROW_JUDGE_MIN
ROW_MARGIN = tuning.ROW_MARGIN


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
    draft: str = ""  # what the model wrote, before verification (for evaluation and the admin)


def choose_sources(hits: list[ChunkHit], *, locale: str, audiences: tuple[str, ...],
                   evidence: Evidence | None = None) -> list[SourceChunk]:
    """The chunks the model reads: those holding the best-scored passages (the evidence scorer reads
    the top chunks and the other sections of the best articles), else the top retrieved chunks;
    from each translation group only the article in the question's language."""
    articles = Article.objects.select_related("space").in_bulk({hit.article_id for hit in hits})

    def group(article: Article) -> int:
        return article.translation_of_id or article.pk

    locales_of: dict[int, set[str]] = {}
    for hit in hits:
        locales_of.setdefault(group(articles[hit.article_id]), set()).add(articles[hit.article_id].locale)
    ranked: list[int] = []
    if evidence is not None:
        ranked = [p.chunk_id for p in evidence.passages] + [p.chunk_id for p in evidence.considered]
    ranked += [hit.chunk_id for hit in hits]
    chunks = Chunk.objects.in_bulk(list(dict.fromkeys(ranked)))
    chosen: list[Chunk] = []
    for chunk_id in dict.fromkeys(ranked):
        chunk = chunks[chunk_id]
        article = articles.get(chunk.article_id)
        if article is None or article.audience not in audiences:  # retrieval filters already; never trust one layer
            continue
        if article.locale != locale and locale in locales_of.get(group(article), set()):
            continue
        chosen.append(chunk)
        if len(chosen) == MAX_SOURCES:
            break
    return [SourceChunk(n, chunk, articles[chunk.article_id]) for n, chunk in enumerate(chosen, 1)]


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


def readable(segment: str) -> str:
    """A source sentence or table row as a sentence of a reply: no Markdown, a row as "header: value, ...".

    A table row comes from the verification's segments as "| header | ... | | row | ... |".
    """
    text = segment.strip()
    if text.startswith("|") and "| |" in text:
        header_line, row_line = text.split("| |", 1)
        header = [cell.strip() for cell in header_line.strip().strip("|").split("|")]
        row = [cell.strip() for cell in row_line.strip().strip("|").split("|")]
        text = "; ".join(f"{name}: {value}" if name else value for name, value in zip(header, row, strict=False) if value)
    else:
        text = " ".join(re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", line) for line in text.splitlines() if line.strip())
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text).strip()
    return text if text.endswith((".", "!", "?", ":")) else text + "."


# Words that link a subject to what the source states about it and add no fact of their own ("Die
# Verlängerung bietet einen Handy-Bonus von 160 €" for the row "Alpenfunk L | 160 €"): general
# language, in every inflection the writer uses. Not here: words that turn a statement around
# (zahlen/erhalten, müssen instead of können, nicht), which stay new words and send the reader to the
# source. Possibility ("können", "möglich", "dürfen") is one family: a negation is checked separately.
LINKING_WORDS = {
    "de": "bieten bietet bietest geboten geben gibt gegeben betragen beträgt betrug gelten gilt gelten galt "
          "liegen liegt stehen steht enthalten enthält umfassen umfasst beinhalten beinhaltet vorhanden "
          "können kann kannst könnt möglich dürfen darf erlaubt kosten kostet preis",
    "en": "offer offers offered give gives given amount amounts apply applies applied include includes "
          "included contain contains available can could may possible allowed cost costs price",
}
_linking: dict[str, frozenset[str]] = {}


def linking_terms(locale: str) -> frozenset[str]:
    """The index terms of LINKING_WORDS in both languages (answers may cite translations)."""
    if locale not in _linking:
        _linking[locale] = frozenset(source_terms(" ".join(LINKING_WORDS.values()), locale))
    return _linking[locale]


def _new_words(sentence: str, segment: str, question: str, locale: str, heading: str = "", source: str = "") -> set[str]:
    """Content words of a written sentence that neither its source sentence (with the title and section
    it stands under) nor the general linking words have, apart from the question's words that its source
    (`source`, default the sentence) states too. A question word the source never uses is new: "bis wann
    kann ich samstags anrufen?" must not turn "an Sonn- und Feiertagen geschlossen" into "samstags
    geschlossen"."""
    stated = source_terms(f"{heading}\n{segment}", locale)
    in_source = source_terms(source, locale) | stated if source else stated
    asked = {term for term in source_terms(question, locale) if term in in_source or _compound_of(term, in_source)}
    return {term for term in analyze(sentence, locale) if not term.isdigit()} - stated - asked - linking_terms(locale)


# A sentence that opens with a condition: "Wenn/Falls/Sofern …, …", "If/Unless/When …, …", or German
# verb-first ("Ist die Zwei-Faktor-Anmeldung aktiv, bestätigen Sie …"). General language, both languages.
CONDITION_OPENING = re.compile(
    r"^\s*(?:wenn|falls|sofern|soweit|solange|if|unless|when|whenever|provided|"
    r"ist|sind|hat|haben|wird|werden|liegt|liegen|kann|können|möchten|wollen|brauchen|benötigen|"
    r"haben sie|sind sie)\b[^,]{3,},\s*(?P<main>.+)$",
    re.IGNORECASE | re.DOTALL)


def restates_only_condition(sentence: str, segment: str, locale: str) -> bool:
    """Whether a written sentence restates only the condition of a conditional source sentence, so that
    it states as a fact what the source names as a case ("Die Zwei-Faktor-Anmeldung ist aktiv." from
    "Ist die Zwei-Faktor-Anmeldung aktiv, bestätigen Sie das Zurücksetzen mit Ihrem Code.")."""
    match = CONDITION_OPENING.match(segment.strip())
    if match is None:
        return False
    main = {term for term in source_terms(match.group("main"), locale) if not term.isdigit()}
    condition = source_terms(segment[: match.start("main")], locale) - main
    written = {term for term in source_terms(sentence, locale) if not term.isdigit()}
    return bool(written & condition) and not written & main


def _compound_of(term: str, terms: set[str]) -> bool:
    """Whether a (German) compound is made of two of `terms`: "expressversand" of "express" and "versand"."""
    return any(term.startswith(head) and any(term.endswith(tail) for tail in terms if len(tail) >= 3 and tail != term)
               for head in terms if 3 <= len(head) < len(term))


ROW_WINDOW = 6  # words on either side of a number that must name its column or cell


def _row_cells(row: str) -> list[tuple[str, str]]:
    """A row in its readable form ("Spalte: Wert; Spalte: Wert" or "Spalte: Wert, ...") as (header, value)."""
    cells = []
    for part in re.split(r";\s+", row.strip().rstrip(".")):
        header, _, value = part.partition(": ")
        cells.append((header, value) if value else ("", header))
    return cells


def row_reading_problem(sentence: str, row: str, question: str, context: str, locale: str) -> str:
    """Why the model's sentence for a table row may not replace the row ("" when it may): every number
    stands in the row and not beside the words of another column holding a number (unless also beside
    its own); no word the row, its table and the
    question lack; no negation the row lacks."""
    if not sentence or "[" in sentence or not 4 <= len(sentence.split()) <= 45:
        return "not one plain sentence"
    missing = numbers_in(sentence) - numbers_in(row)
    if missing:
        return f"numbers not in the row: {', '.join(sorted(missing))}"
    added = _new_words(sentence, row, question, locale, context)
    if added:
        return f"words not in the row: {', '.join(sorted(added))}"
    if negated(sentence, locale) and not negated(f"{context} {row}", locale):
        return "a negation the row does not state"
    cells = _row_cells(row)
    key = {term for term in source_terms(cells[0][1], locale) if not term.isdigit()} if cells else set()
    if key and not key & source_terms(sentence, locale):  # "60 € im L-Tarif" from the row "Alpenfunk S | 60 €"
        return f"it does not name the row's entry ({cells[0][1]})"
    words = re.findall(r"\S+", sentence)
    cells = [(number_set, source_terms(f"{header} {re.sub(r'[0-9]', ' ', value)}", locale))
             for header, value in _row_cells(row) if (number_set := numbers_in(value))]
    for index, word in enumerate(words):
        for number in numbers_in(word):
            near = source_terms(" ".join(words[max(0, index - ROW_WINDOW): index + ROW_WINDOW + 1]), locale)
            own = set().union(*(terms for numbers, terms in cells if number in numbers))
            others = set().union(*(terms for numbers, terms in cells if number not in numbers)) - own
            if near & others and not near & own:
                return f"{number} stands beside the words of another column"
    return ""


@dataclass(frozen=True)
class RowReading:
    text: str  # the model's sentence when it checked out, else the row as it stands
    problem: str = ""  # why the model's sentence was not used
    answers: bool = True  # False: the model read the row as not answering the question
    probability: float = 0.0  # the model's probability that the row answers the question


def read_row(endpoint: ModelEndpoint, *, question: str, row: str, context: str, locale: str) -> RowReading:
    """A table row as the model's sentence when it checks out, else the row as it is; and what was wrong.

    Two short calls: whether the row answers the question (the probability of "ja", as the judge's),
    then, if it does, the sentence."""
    probability = row_answers(chat_model(endpoint, max_tokens=1, logprobs=True, top_logprobs=10),
                              question=question, row=row, context=context, locale=locale)
    if probability < ROW_JUDGE_MIN:
        return RowReading(row, f"{row} (the model read this row as not answering the question: {probability:.2f})",
                          answers=False, probability=probability)
    written = row_sentence(chat_model(endpoint, max_tokens=ROW_MAX_TOKENS), question=question, row=row,
                           context=context, locale=locale)
    problem = row_reading_problem(written, row, question, context, locale)
    if problem:
        return RowReading(row, f"{written} ({problem}: the row as it stands)", probability=probability)
    return RowReading(written if written.endswith((".", "!", "?")) else written + ".", probability=probability)


def best_rows(readings: list[RowReading]) -> list[int]:
    """Which of several rows of an answer to keep: those the model reads as answering, about as surely as
    the surest (ROW_MARGIN): "Handy-Bonus im Tarif L?" keeps the L row, not the S row beside it."""
    surest = max((reading.probability for reading in readings if reading.answers), default=0.0)
    return [i for i, reading in enumerate(readings) if reading.answers and reading.probability >= surest - ROW_MARGIN]


def _source_sentence(text: str, cited: tuple[int, ...], quotes: dict[int, str],
                     locale: str) -> tuple[int, str, float] | None:
    """The source sentence a written sentence restates, in any source: the model often cites the wrong
    number, so the cited sources only win a tie."""
    wanted = source_terms(text, locale)
    best: tuple[float, int, int, str] | None = None
    for n, quote in quotes.items():
        segment = restated_source(text, quote, locale)
        terms = source_terms(segment, locale)
        closeness = len(wanted & terms) / (len(wanted | terms) or 1)
        candidate = (closeness, int(n in cited), n, segment)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None or best[0] < MIN_RESTATED_CLOSENESS:
        return None
    return best[2], best[3], best[0]


def answer_with_model(
    *, question: str, hits: list[ChunkHit], locale: str, audience: str, audiences: tuple[str, ...],
    endpoint: ModelEndpoint, evidence: Evidence | None = None, sources: list[SourceChunk] | None = None,
    on_sentence: Callable[[str], None] | None = None,
) -> ModelAnswer:
    if sources is None:
        sources = choose_sources(hits, locale=locale, audiences=audiences, evidence=evidence)
    if not sources:
        return ModelAnswer("refused", "no_supporting_evidence")
    model_sources = _model_sources(sources)
    labels = [source.title for source in model_sources]
    probability = judge(chat_model(endpoint, max_tokens=1, logprobs=True, top_logprobs=10),
                        question=question, sources=model_sources, locale=locale)
    if probability < JUDGE_MIN:
        return ModelAnswer("refused", "not_in_sources", sources=sources, support=probability)
    quotes = {source.n: source.text for source in sources}
    headings = {source.n: f"{source.article.title}\n{source.chunk.heading_path}" for source in sources}
    phrases = guardrails.guarded_phrases(audience)
    kept: list[CheckedSentence] = []
    dropped: list[str] = []

    asked_terms = {term for term in source_terms(question, locale) if not term.isdigit()}

    def take(sentence: str) -> None:
        """Keep a written sentence that adds no word to its source, else the source sentence it points at."""
        if refused(sentence) or len(kept) >= MAX_ANSWER_SENTENCES:
            return
        text = without_label(CITATION.sub("", sentence).strip(), labels)
        pointed = _source_sentence(text, tuple(int(n) for n in CITATION.findall(sentence)), quotes, locale)
        if pointed is None:
            dropped.append(f"{text} (restates no source sentence)")
            return
        n, segment, closeness = pointed
        checked, problem = _checked(f"{text} [{n}]", quotes, locale, phrases)
        added = _new_words(text, segment, question, locale, headings.get(n, ""), quotes[n])
        only_condition = not problem and not added and restates_only_condition(text, segment, locale)
        # a sentence restating a table row is held to what the model's own reading of a row is held to:
        # it names the row's entry, and no number stands beside another column's words ("20 % of the sum
        # insured" from the Basis row, for a question about Komfort)
        row_problem = "" if problem or added or only_condition or not segment.lstrip().startswith("|") else \
            row_reading_problem(text, readable(segment)[:-1], question, headings.get(n, ""), locale)
        if problem or added or only_condition or row_problem or segment.rstrip().endswith("?"):
            reason = problem or (f"words not in the source: {', '.join(sorted(added))}" if added else "") or (
                "states as a fact what the source only names as a condition" if only_condition else "") or row_problem
            if segment.rstrip().endswith("?"):  # the article's own question is no answer
                dropped.append(f"{text} ({reason or 'restates a question'})")
                return
            if closeness < MIN_QUOTED_CLOSENESS:  # it points nowhere in particular
                dropped.append(f"{text} ({reason}; too far from any source sentence to quote one)")
                return
            quoted, quote_problem = _checked(f"{readable(segment)} [{n}]", quotes, locale, phrases)
            if not quote_problem and segment.lstrip().startswith("|"):  # a row is read, not flattened
                reading = read_row(endpoint, question=question, row=readable(segment)[:-1],
                                   context=headings.get(n, ""), locale=locale)
                read, read_problem = _checked(f"{reading.text} [{n}]", quotes, locale, phrases)
                if not reading.answers:  # the row the sentence rests on does not answer the question
                    dropped.append(f"{text} ({reason}); {reading.problem}")
                    return
                if reading.problem or read_problem:
                    dropped.append(reading.problem or f"{reading.text} ({read_problem}: the row as it stands)")
                else:
                    quoted = read
            if quote_problem:
                dropped.append(f"{text} ({reason}; the source sentence: {quote_problem})")
                return
            dropped.append(f"{text} ({reason}: quoted the source sentence instead)")
            checked = quoted
        if not (source_terms(segment, locale) & asked_terms):  # true, but about something else
            dropped.append(f"{text} (its source sentence shares no word with the question)")
            return
        if any(existing.text == checked.text for existing in kept):
            return
        kept.append(checked)
        if on_sentence is not None:
            on_sentence(cited_text(checked, first_use_numbers(kept)))

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
        draft = buffer.text
        rest = buffer.rest()
        for part in split_answer(rest) if rest else []:
            take(part)
    if not kept:
        return ModelAnswer("refused", "answer_not_supported", dropped=dropped, sources=sources, support=probability,
                           draft=draft)
    return ModelAnswer("answered", None, kept=kept, dropped=dropped, sources=sources, support=probability, draft=draft)


def without_label(text: str, labels: list[str]) -> str:
    """A written sentence without the source's label that the model copied in front of it ("Vertrag kündigen
    – Fristen: Ihre Bestätigung …" → "Ihre Bestätigung …"): the label names where a passage stands, it is
    no part of a reply."""
    for label in sorted(labels, key=len, reverse=True):
        if label and text.startswith(label) and text[len(label):].lstrip().startswith(":"):
            rest = text[len(label):].lstrip()[1:].strip()
            return rest[:1].upper() + rest[1:] if rest else text
    return text


def first_use_numbers(sentences: list[CheckedSentence]) -> dict[int, int]:
    """Citation numbers as a reader meets them: the first source cited is [1], the next new one [2]."""
    order = dict.fromkeys(n for sentence in sentences for n in sentence.citations)
    return {old: new for new, old in enumerate(order, start=1)}


def cited_text(sentence: CheckedSentence, numbers: dict[int, int]) -> str:
    return sentence.text + "".join(f" [{numbers[n]}]" for n in sentence.citations)


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
