"""Change impact by reading: the language model judges whether an announcement makes a passage wrong.

The fact comparison of `retrieval.impact.assessment` finds changed values (14 -> 30 days); a reader
also sees a menu path that moved, a payment method that is discontinued, a process that became
self-service, an internal runbook naming the old procedure, a macro repeating the old deadline in
its own words. This module asks the model, for each plausible passage, exactly that:

1. Candidates: the best sections (hybrid search, both audiences, every locale, valid on the
   effective date) for the announcement as a whole and for each clause that changes something;
   of a translation group only the members in the announcement's language when there are any
   (`change_event_record` flags the translations of every finding). At most MAX_JUDGED sections,
   best first.
2. Judge: one call per section, the announcement first (a prompt prefix the server evaluates once
   for all sections of the announcement), then the section; the answer is read as P("ja") from
   the first token's log-probabilities and compared with IMPACT_JUDGE_MIN (chosen on the
   development change sets, see retrieval.tuning).
3. Reason: what the section says (its own sentence, quoted) and what applies from the effective
   date (the announcement's clause that changes something and shares most with that sentence,
   quoted): no model text, so nothing to verify. With VERITY_IMPACT_MODEL_REASONS the model
   writes the sentence instead (generation is the slow part on a CPU: 12 tokens/s quiet, under
   1 token/s on a busy 2-core machine); every number and quoted span of it must stand in the
   section or in the announcement, else the built reason stands.
4. Evidence: the section's sentence that shares most with the announcement, verbatim.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import openai
from django.conf import settings
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from governance.models import ChangeEvent
from governance.services import ImpactFinding
from kb.models import Article
from retrieval.impact.statements import Statement
from retrieval.index.embeddings import Embedder
from retrieval.llm.client import ModelEndpoint, chat_model
from retrieval.llm.reading import ask_yes_no
from retrieval.models import Chunk
from retrieval.search.hybrid import chunk_hits
from retrieval.search.query import SearchQuery
from retrieval.text.sentences import split_sentences
from retrieval.text.tokens import analyze, language_of
from retrieval.tuning import IMPACT_JUDGE_MIN, IMPACT_SECTIONS_PER_QUERY, MAX_JUDGED

logger = logging.getLogger("verity.impact")

MAX_SECTION_CHARS = 700  # a long section is cut at a sentence end: prompt tokens are the cost on a CPU
REASON_MAX_TOKENS = 60  # one sentence; generation is the slow part on a CPU (~12 tokens/s quiet)

SYSTEM = {
    "de": (
        "Du prüfst die Wissensartikel eines Kundenservice. Eine Änderung (ein Rundschreiben oder Release Notes) "
        "tritt an einem Datum in Kraft. Du entscheidest, ob ein Abschnitt eines Artikels ab diesem Datum etwas "
        "Falsches oder Veraltetes sagt: einen alten Betrag, eine alte Frist oder Zeit, einen alten Menüpfad, eine "
        "Option, einen Kanal oder ein Verfahren, das es nicht mehr so gibt, oder ob ihm die neue Regel fehlt, wo er "
        "das Thema selbst regelt. Ein Abschnitt, der nur dasselbe Thema berührt, aber nichts sagt, was die "
        "Änderung betrifft, ist nicht betroffen. Ebenso ein Abschnitt über etwas, das laut Änderung gleich bleibt."
    ),
    "en": (
        "You check a customer service's knowledge articles. A change (a policy memo or release notes) takes effect "
        "on a date. You decide whether a section of an article says something wrong or outdated from that date: an "
        "old amount, an old deadline or time, an old menu path, an option, channel or procedure that no longer "
        "exists as described, or whether it lacks the new rule where it covers the topic itself. A section that "
        "only touches the same topic but says nothing the change affects is not affected; neither is a section "
        "about something the change says stays the same."
    ),
}
LABELS = {
    "de": ("Änderung ab", "Abschnitt aus dem Artikel", "Wird dieser Abschnitt durch die Änderung falsch, veraltet "
           "oder unvollständig? Antworte nur mit ja oder nein.",
           "Schreibe einen Satz für den Verantwortlichen des Artikels: was der Abschnitt sagt und was ab dem "
           "Datum stattdessen gilt. Übernimm Beträge, Fristen und Menüpfade exakt. Beginne mit „Nennt“ oder "
           "„Beschreibt“."),
    "en": ("Change from", "Section of the article", "Does the change make this section wrong, outdated or "
           "incomplete? Reply only yes or no.",
           "Write one sentence for the article's owner: what the section says and what applies instead from the "
           "date. Copy amounts, deadlines and menu paths exactly. Start with \"States\" or \"Describes\"."),
}


@dataclass(frozen=True)
class Section:
    chunk_id: int
    article: Article
    heading: str
    text: str
    rank: float  # the best fused retrieval score that brought it in


@dataclass(frozen=True)
class Judgement:
    section: Section
    probability: float


def _language(text_or_locale: str) -> str:
    return "de" if language_of(text_or_locale) == "de" else "en"


def trimmed(text: str, limit: int = MAX_SECTION_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("\n"))
    return cut[: end + 1] if end > limit // 2 else cut


def candidate_sections(event: ChangeEvent, statements: list[Statement], today: dt.date, embedder: Embedder,
                       language: str, skip: set[int] = frozenset()) -> list[Section]:
    """The sections retrieval finds plausible for the announcement and each clause that changes something."""
    queries = [f"{event.title}. {event.description}"] + [s.match_text for s in statements if not s.unchanged]
    best: dict[int, float] = {}
    for index, text in enumerate(queries):
        query = SearchQuery(text=text, audiences=("public", "internal"), today=today)
        # the best section of each of the first articles: a macro or runbook that repeats the old rule
        # must not be crowded out by three sections of the main article
        limit = IMPACT_SECTIONS_PER_QUERY * (2 if index == 0 else 1)
        seen: set[int] = set()
        for hit in chunk_hits(query, embedder=embedder):
            if hit.article_id in seen or hit.article_id in skip:
                continue
            seen.add(hit.article_id)
            best[hit.chunk_id] = max(best.get(hit.chunk_id, 0.0), hit.score)
            if len(seen) >= limit:
                break
    # chunk_hits serves only live, valid versions: these are the sections readers see on the effective date
    chunks = {c.pk: c for c in Chunk.objects.filter(pk__in=list(best)).select_related("article")}
    sections = [Section(pk, chunk.article, chunk.heading_path, chunk.text, best[pk]) for pk, chunk in chunks.items()]
    # of a translation group, the members in the announcement's language when there are any
    root = {s.article.pk: s.article.translation_of_id or s.article.pk for s in sections}
    covered = {root[s.article.pk] for s in sections if _language(s.article.locale) == language}
    sections = [s for s in sections if _language(s.article.locale) == language or root[s.article.pk] not in covered]
    sections.sort(key=lambda s: -s.rank)
    return sections[:MAX_JUDGED]


def _announcement(event: ChangeEvent, language: str) -> str:
    label = LABELS[language][0]
    return f"{label} {event.effective_date.isoformat()}: {event.title}\n{event.description}"


def _prompt(event: ChangeEvent, section: Section, language: str, task: int) -> list[BaseMessage]:
    _, section_label, judge_task, reason_task = LABELS[language]
    where = section.article.title + (f" > {section.heading}" if section.heading else "")
    body = (f"{_announcement(event, language)}\n\n{section_label} „{where}“:\n<<<{trimmed(section.text)}>>>\n\n"
            f"{judge_task if task == 0 else reason_task}")
    return [SystemMessage(content=SYSTEM[language]), HumanMessage(content=body)]


def judge_sections(event: ChangeEvent, sections: list[Section], endpoint: ModelEndpoint, language: str) -> list[Judgement]:
    chat = chat_model(endpoint, max_tokens=1, logprobs=True, top_logprobs=10)
    return [Judgement(section, ask_yes_no(chat, _prompt(event, section, language, 0))) for section in sections]


# --- reasons and evidence -------------------------------------------------------------------------

QUOTED = re.compile(r"[„“\"«»‚‘']([^„“\"«»‚‘']{2,80})[“\"»«‘']")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _normalised(text: str) -> str:
    return " ".join(text.replace("›", ">").replace("→", ">").split()).lower()


def reason_supported(reason: str, section: Section, event: ChangeEvent) -> bool:
    """Every number and quoted span of the reason stands in the section or in the announcement."""
    sources = _normalised(f"{section.text}\n{event.title}\n{event.description}\n{event.effective_date.isoformat()}")
    digits = {n.replace(".", "").replace(",", "") for n in NUMBER.findall(sources)}
    for number in NUMBER.findall(reason):
        if number.replace(".", "").replace(",", "") not in digits:
            return False
    return all(_normalised(span) in sources for span in QUOTED.findall(reason))


def evidence_sentence(section: Section, event: ChangeEvent) -> str:
    """The section's sentence sharing most terms with the announcement (verbatim), else its first."""
    locale = section.article.locale
    announced = set(analyze(f"{event.title} {event.description}", locale))
    sentences = [s for s in split_sentences(section.text) if s.strip()] or [section.text]
    return max(sentences, key=lambda s: (len(set(analyze(s, locale)) & announced), -sentences.index(s))).strip()


def changed_clause(evidence: str, statements: list[Statement], event: ChangeEvent, locale: str) -> str:
    """The announcement's clause that changes something and shares most terms with the evidence, else its title."""
    words = set(analyze(evidence, locale))
    clauses = [s.text for s in statements if not s.unchanged and s.text != event.title]
    best = max(clauses, key=lambda text: len(words & set(analyze(text, locale))), default="")
    return best if best and words & set(analyze(best, locale)) else event.title


def quoted(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + " …"


def built_reason(evidence: str, clause: str, event: ChangeEvent, language: str) -> str:
    """What the section says (its own sentence) and what applies from the date (the announcement's clause)."""
    date = event.effective_date.isoformat()
    if language == "de":
        return f"nennt „{quoted(evidence)}“; ab {date} gilt laut „{event.title}“: „{quoted(clause)}“"
    return f"states \"{quoted(evidence)}\"; from {date}, \"{event.title}\" says: \"{quoted(clause)}\""


def write_reason(event: ChangeEvent, section: Section, endpoint: ModelEndpoint, language: str, evidence: str,
                 built: str) -> str:
    """The model's one-sentence reason when every number and quote in it is backed, else the built one."""
    try:
        reply = chat_model(endpoint, max_tokens=REASON_MAX_TOKENS).invoke(_prompt(event, section, language, 1), stop=["\n"])
    except (openai.OpenAIError, OSError) as error:
        logger.warning("impact reason not written (%s); using the section's sentence", error)
        return built
    text = " ".join(str(reply.content).split())
    first = split_sentences(text)[0].strip() if text else ""
    if len(first) < 20 or not reason_supported(first, section, event):
        return built
    return first[0].lower() + first[1:] if first.split(" ", 1)[0] in {"Nennt", "Beschreibt", "States", "Describes"} else first


def read_impact(event: ChangeEvent, statements: list[Statement], today: dt.date, embedder: Embedder,
                endpoint: ModelEndpoint, *, skip: set[int] = frozenset(), trace: list | None = None) -> list[ImpactFinding]:
    """Findings for the articles (not in `skip`) whose best judged section the model says the change makes wrong."""
    language = statements[0].language if statements else _language(event.description)
    sections = candidate_sections(event, statements, today, embedder, language, skip)
    judgements = judge_sections(event, sections, endpoint, language)
    if trace is not None:
        trace.extend(judgements)
    best: dict[int, Judgement] = {}
    for judgement in judgements:
        if judgement.probability < IMPACT_JUDGE_MIN:
            continue
        article_id = judgement.section.article.pk
        if article_id not in best or judgement.probability > best[article_id].probability:
            best[article_id] = judgement
    findings = []
    for judgement in sorted(best.values(), key=lambda j: -j.probability):
        section = judgement.section
        evidence = evidence_sentence(section, event)
        language = _language(section.article.locale)
        reason = built_reason(evidence, changed_clause(evidence, statements, event, section.article.locale), event, language)
        if getattr(settings, "VERITY_IMPACT_MODEL_REASONS", False):
            reason = write_reason(event, section, endpoint, language, evidence, reason)
        findings.append(ImpactFinding(article=section.article, score=round(judgement.probability, 3),
                                      reason=reason, evidence=evidence))
    return findings


# --- contradictions -------------------------------------------------------------------------------

CONTRADICTION_SYSTEM = {
    "de": ("Du prüfst die Wissensartikel eines Kundenservice auf Widersprüche. Zwei Aussagen widersprechen sich nur, "
           "wenn sie über dieselbe Sache Unvereinbares sagen (ein anderer Betrag, eine andere Frist für dasselbe). "
           "Aussagen über verschiedene Dinge, Tarife, Fälle oder Zeiträume widersprechen sich nicht."),
    "en": ("You check a customer service's knowledge articles for contradictions. Two statements contradict each "
           "other only when they say incompatible things about the same thing (another amount, another deadline for "
           "the same). Statements about different things, plans, cases or periods do not contradict each other."),
}
CONTRADICTION_TASK = {
    "de": ("Aussage A aus „{a}“:\n<<<{x}>>>\n\nAussage B aus „{b}“:\n<<<{y}>>>\n\n"
           "Widersprechen sich A und B? Antworte nur mit ja oder nein."),
    "en": ("Statement A from \"{a}\":\n<<<{x}>>>\n\nStatement B from \"{b}\":\n<<<{y}>>>\n\n"
           "Do A and B contradict each other? Reply only yes or no."),
}


def contradiction_probability(endpoint: ModelEndpoint, *, title: str, sentence: str, other_title: str,
                              other_sentence: str, language: str) -> float:
    """The model's probability that two articles' sentences contradict each other."""
    language = "de" if language == "de" else "en"
    prompt = [SystemMessage(content=CONTRADICTION_SYSTEM[language]),
              HumanMessage(content=CONTRADICTION_TASK[language].format(a=title, x=sentence, b=other_title, y=other_sentence))]
    return ask_yes_no(chat_model(endpoint, max_tokens=1, logprobs=True, top_logprobs=10), prompt)
