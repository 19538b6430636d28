"""The simulation on past tickets (`kb_eval --tickets`) and the knowledge gaps they show.

Each ticket's first customer question goes through the real answer pipeline (as the public audience
unless told otherwise; nothing is recorded as an answer). What Verity would answer is compared with
the agent's actual reply: no number, amount, duration, date or menu path of the reply may be contradicted
by the answer, and at least TICKET_FACTS_STATED of them must stand in it with the same value
(retrieval.text.agreement); a reply without such facts must be close in meaning (cosine of the two texts
with the active embedder, at least TICKET_AGREEMENT). Every fact the answer lacks or contradicts is listed.

A ticket the pipeline refuses, or whose answer disagrees with the agent, is a knowledge gap: the
knowledge base could not have answered what the agent answered. Imported tickets keep their last
simulation, and their gaps are grouped by topic like the questions' gaps (retrieval.answers.insights).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from retrieval.answers.generation import Generator
from retrieval.answers.insights import by_centrality, readable, topic_clusters
from retrieval.answers.pipeline import AnswerResult, answer_question
from retrieval.answers.tickets import TicketInput, ticket_input
from retrieval.index.embeddings import active_embedder
from retrieval.llm.client import ModelEndpoint
from retrieval.models import AnswerRecord, Ticket, TicketSimulation
from retrieval.text.agreement import Comparison, compare_facts, plain
from retrieval.tuning import TICKET_AGREEMENT, TICKET_FACTS_STATED, TICKET_SAME_TOPIC

AGREES, DISAGREES = TicketSimulation.Agreement.AGREES.value, TicketSimulation.Agreement.DISAGREES.value
MAX_GAP_TICKETS = 500


@dataclass
class TicketOutcome:
    ticket: TicketInput
    question: str
    reply: str  # the agent's first reply (letter body), "" when the ticket has none
    result: AnswerResult
    agreement: str = ""  # agrees | disagrees | "" (not answered, or no reply to compare with)
    similarity: float | None = None
    comparison: Comparison | None = None

    @property
    def differences(self) -> list[str]:
        return [str(difference) for difference in self.comparison.differences] if self.comparison else []

    @property
    def is_gap(self) -> bool:
        return self.result.status == AnswerRecord.Status.REFUSED or self.agreement == DISAGREES


@dataclass
class TicketReport:
    audience: str
    outcomes: list[TicketOutcome] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(outcome.result.status == status for outcome in self.outcomes)

    @property
    def answered(self) -> int:
        return self._count(AnswerRecord.Status.ANSWERED)

    @property
    def refused(self) -> int:
        return self._count(AnswerRecord.Status.REFUSED)

    @property
    def handoff(self) -> int:
        return self._count(AnswerRecord.Status.HANDOFF)

    @property
    def agreeing(self) -> int:
        return sum(outcome.agreement == AGREES for outcome in self.outcomes)

    @property
    def disagreeing(self) -> int:
        return sum(outcome.agreement == DISAGREES for outcome in self.outcomes)

    @property
    def gaps(self) -> int:
        return sum(outcome.is_gap for outcome in self.outcomes)


def _agreement(comparison: Comparison, similarity: float) -> str:
    """Disagrees when the answer contradicts a fact of the reply or states fewer than TICKET_FACTS_STATED of
    them; a reply without facts agrees when the two texts are close in meaning (TICKET_AGREEMENT)."""
    if comparison.contradicted:
        return DISAGREES
    if comparison.stated:
        return AGREES if comparison.agreeing >= TICKET_FACTS_STATED * comparison.stated else DISAGREES
    return AGREES if similarity >= TICKET_AGREEMENT else DISAGREES


def simulate_tickets(
    tickets: list[TicketInput], *, audience: str = "public", generator: Generator | None = None,
    endpoint: ModelEndpoint | None = None,
) -> TicketReport:
    """Each ticket's first question through the answer pipeline (the configured generator, or the given
    one), compared with the agent's reply. Nothing is stored."""
    report = TicketReport(audience)
    for ticket in tickets:
        question = ticket.question
        result = answer_question(question=question, audience=audience, locale=ticket.locale, generator=generator,
                                 endpoint=endpoint, store=False, simulated=True)
        report.outcomes.append(TicketOutcome(ticket, question, ticket.agent_reply, result))
    compared = [o for o in report.outcomes if o.result.status == AnswerRecord.Status.ANSWERED and o.reply.strip()]
    if compared:
        texts = [plain(text) for outcome in compared for text in (outcome.reply, outcome.result.answer or "")]
        vectors = active_embedder().embed_documents(texts)
        for index, outcome in enumerate(compared):
            outcome.similarity = round(float(np.dot(vectors[2 * index], vectors[2 * index + 1])), 3)
            outcome.comparison = compare_facts(outcome.reply, outcome.result.answer or "", outcome.ticket.locale)
            outcome.agreement = _agreement(outcome.comparison, outcome.similarity)
    return report


@transaction.atomic
def ticket_simulations_record(report: TicketReport) -> int:
    """Keep each imported ticket's outcome as its last simulation (what the knowledge gaps read)."""
    rows = {row.external_id: row for row in Ticket.objects.filter(external_id__in=[o.ticket.id for o in report.outcomes])}
    now = timezone.now()
    recorded = 0
    for outcome in report.outcomes:
        row = rows.get(outcome.ticket.id)
        if row is None:
            continue
        result = outcome.result
        TicketSimulation.objects.update_or_create(ticket=row, defaults={
            "simulated_at": now, "audience": report.audience, "question": outcome.question, "status": result.status,
            "reason": result.reason or "", "answer": result.answer or "", "generator": result.generator,
            "citations": [{"slug": c.slug, "locale": c.locale, "version": c.version} for c in result.citations],
            "agreement": outcome.agreement, "similarity": outcome.similarity, "differences": outcome.differences,
        })
        recorded += 1
    return recorded


# --- knowledge gaps ------------------------------------------------------------------------------


@dataclass
class TicketGapTopic:
    label: str
    count: int
    refused: int
    disagreeing: int
    examples: list[str]  # subjects
    ticket_ids: list[str]
    last_resolved: dt.datetime | None = None
    tags: str = ""  # the tags most of its tickets carry


def _tags(members: list[TicketSimulation]) -> str:
    """The tags most of the tickets carry (the agents' own topic words)."""
    tags = Counter(tag for row in members for tag in dict.fromkeys(row.ticket.tags))
    return ", ".join(tag for tag, _ in tags.most_common(3))


def ticket_gaps(*, limit: int = MAX_GAP_TICKETS) -> list[TicketGapTopic]:
    """Imported tickets whose last simulation was refused or disagreed with the agent, grouped by topic (the
    questions' greedy clustering, on subject, first question and the agent's reply, at TICKET_SAME_TOPIC)."""
    rows: list[Any] = list(
        TicketSimulation.objects.filter(Q(status=AnswerRecord.Status.REFUSED) | Q(agreement=DISAGREES))
        .select_related("ticket").order_by("-ticket__resolved_at", "ticket__external_id")[:limit]
    )
    if not rows:
        return []
    # what a ticket is about: its subject, the question and the agent's reply (agents name the topic in words
    # the customer may not use: "IPTV" and "TV-Paket" are one topic in the replies "... bieten wir nicht an")
    vectors = active_embedder().embed_documents(
        [plain(f"{row.ticket.subject}. {row.question} {ticket_input(row.ticket).agent_reply}") for row in rows]
    )
    topics = []
    for group in topic_clusters(vectors, threshold=TICKET_SAME_TOPIC):
        # named by its most typical ticket's subject (a person's words), its tags beside it
        members = [rows[i] for i in by_centrality(vectors, group)]
        subjects = list(dict.fromkeys(" ".join(row.ticket.subject.split()) for row in members))
        refused = sum(row.status == AnswerRecord.Status.REFUSED for row in members)
        topics.append(TicketGapTopic(
            label=readable(subjects[0]), tags=_tags(members), count=len(members),
            refused=refused, disagreeing=len(members) - refused,
            examples=subjects[1:4], ticket_ids=[rows[i].ticket.external_id for i in group],
            last_resolved=max((row.ticket.resolved_at for row in members if row.ticket.resolved_at), default=None),
        ))
    return sorted(topics, key=lambda topic: (topic.count, topic.last_resolved), reverse=True)
