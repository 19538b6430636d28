"""The default model itself (Qwen2.5-Coder-1.5B) drafts a new article from the demo's two TV tickets, verified.

One test, one model call (about 2 minutes on a busy 2-core machine). Skipped where the model is not
installed. (The measured example on the whole demo: README, "Past tickets".)
"""

from __future__ import annotations

from pathlib import Path

from governance.models import Suggestion
from retrieval.answers.ticket_drafting import (
    TicketSource,
    check_draft_sentence,
    ticket_draft_request,
    ticket_suggestion_draft_run,
)
from retrieval.answers.tickets import ticket_import
from retrieval.models import Ticket, TicketSimulation
from retrieval.text.numbers import numbers_in

DEMO = Path(__file__).resolve().parents[3] / "demo" / "tickets.jsonl"
TV = ["AF-24013", "AF-24014"]  # "TV-Paket oder Netflix zum Internet?", "Fernsehen über die Alpenbox"


def test_the_model_drafts_a_verified_article_from_demo_tickets(author, space, real_model, capsys):
    ticket_import(path=DEMO)
    for ticket in Ticket.objects.filter(external_id__in=TV):
        TicketSimulation.objects.create(ticket=ticket, audience="public", question=ticket.subject, status="refused",
                                        reason="no_evidence", generator="extractive")
    requested = ticket_draft_request(actor=author, space=space, ticket_ids=TV, title="Fernsehen über die Alpenbox",
                                     dispatch=lambda pk: None)

    ticket_suggestion_draft_run(requested.pk, endpoint=real_model)

    suggestion = Suggestion.objects.get(pk=requested.pk)
    with capsys.disabled():  # for a person to read: `pytest ... -s`
        print(f"\n{suggestion.status} {suggestion.error}\n# {suggestion.title}\n\n{suggestion.body}")
        for item in suggestion.needs_human:
            print(f"removed: {item['old']!r}: {item['problem']}")
    assert suggestion.status == Suggestion.Status.READY, suggestion.error
    assert suggestion.title and suggestion.body.strip() and suggestion.article is None
    sources = [TicketSource(source["ticket"], source["text"]) for source in suggestion.sources]
    stated = set().union(*(numbers_in(source.text) for source in sources))
    for sentence in (s for s in suggestion.sentences if s["kept"]):
        assert numbers_in(sentence["text"]) <= stated, sentence
        assert check_draft_sentence(sentence["text"], sources, "de").kept, sentence
        assert sentence["text"] in suggestion.body or sentence["text"].startswith("#")
    assert "Ebner" not in suggestion.body and "Wolf" not in suggestion.body  # redacted before it was stored
