"""Change impact by reading: the model's judgement of each plausible section decides, inside checks.

The model is a local stand-in at the HTTP edge whose judgement is scripted per prompt, so these
tests pin down what Verity does with a judgement: which sections are put to the model, what is
flagged, which sentence is the evidence, and that a reason with an invented figure never reaches
the owner. The real model reads in tests/retrieval/impact/test_reading_real_model.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from governance.models import ChangeEvent, Flag
from governance.services import change_event_create
from kb.models import Article
from retrieval.impact.assessment import assess_change, change_event_run
from retrieval.impact.contradictions import contradictions_scan
from retrieval.llm.client import ModelEndpoint

PAYMENT = (
    "# Zahlungsarten\n\n"
    "Ihre Rechnung bezahlen Sie per SEPA-Lastschrift, per Überweisung oder mit PayPal. "
    "Die Zahlungsart ändern Sie jederzeit in Mein Konto.\n\n"
    "## Fälligkeit\n\nDie Rechnung ist am 5. Werktag des Monats fällig."
)
PAYMENT_MACRO = (
    "# Makro: Zahlungsart bestätigen\n\n"
    "Hallo {{Name}}, vielen Dank! Ab sofort buchen wir Ihre Rechnungen über Ihr PayPal-Konto ab. "
    "Viele Grüße, Ihr Service-Team"
)
INVOICE = (
    "# Rechnung verstehen\n\n"
    "Auf der ersten Seite steht der Gesamtbetrag, darunter die Einzelposten. "
    "Fragen zur Rechnung beantwortet der Kundenservice."
)
ANNOUNCEMENT = (
    "Ab dem 1. März 2027 bieten wir PayPal nicht mehr als Zahlungsart an. Kundinnen und Kunden, die bisher mit "
    "PayPal zahlen, werden per E-Mail gebeten, auf SEPA-Lastschrift oder Überweisung umzustellen. "
    "Die Fälligkeit der Rechnung bleibt unverändert."
)


@pytest.fixture(autouse=True)
def model_reading_only(settings):
    """These tests are about the model's reading: the lexical signal of what a change ends
    (retrieval.impact.ended, tests in test_impact.py) would find the discontinued PayPal before it."""
    settings.VERITY_IMPACT_ENDED = False


@pytest.fixture
def payments(publish):
    return {
        "zahlungsarten": publish("zahlungsarten", body=PAYMENT, title="Zahlungsarten"),
        "makro-zahlungsart": publish("makro-zahlungsart", body=PAYMENT_MACRO, title="Makro: Zahlungsart bestätigen",
                                     audience=Article.Audience.INTERNAL),
        "rechnung": publish("rechnung", body=INVOICE, title="Rechnung verstehen"),
    }


def section_of(prompt: str) -> str:
    """The section the prompt puts to the model (between <<< and >>>)."""
    match = re.search(r"<<<(.*)>>>", prompt, re.DOTALL)
    assert match, prompt
    return match.group(1)


def announce(description: str = ANNOUNCEMENT) -> ChangeEvent:
    return change_event_create(kind="policy", title="PayPal wird als Zahlungsart eingestellt", description=description,
                               effective_date=dt.date(2027, 3, 1), assess=False)


def judge_paypal(prompt: str) -> float:
    return 0.93 if "PayPal" in section_of(prompt) else 0.04


def test_a_discontinued_option_flags_the_articles_and_the_internal_macro_that_name_it(payments, standin, endpoint):
    standin.script.judge = judge_paypal

    findings = {f.article.slug: f for f in assess_change(announce(), endpoint=endpoint)}

    assert set(findings) == {"zahlungsarten", "makro-zahlungsart"}  # the internal macro is read too
    article = findings["zahlungsarten"]
    assert article.evidence == "Ihre Rechnung bezahlen Sie per SEPA-Lastschrift, per Überweisung oder mit PayPal."
    assert article.evidence in payments["zahlungsarten"].live_version.body
    # the reason: the article's sentence and the announcement's clause that changes it, both verbatim
    prefix = ("nennt „Ihre Rechnung bezahlen Sie per SEPA-Lastschrift, per Überweisung oder mit PayPal.“; ab 2027-03-01 "
              "gilt laut „PayPal wird als Zahlungsart eingestellt“: „")
    assert article.reason.startswith(prefix) and article.reason.endswith("“")
    clause = article.reason[len(prefix):-1]
    assert "PayPal" in clause and clause in ANNOUNCEMENT
    assert article.score == pytest.approx(0.93, abs=0.01)
    assert not [p for p in standin.script.prompts() if "Schreibe einen Satz" in p]  # no model text by default


def test_with_model_reasons_the_models_sentence_is_the_reason(payments, standin, endpoint, settings):
    settings.VERITY_IMPACT_MODEL_REASONS = True
    standin.script.judge = judge_paypal
    standin.script.reply = lambda prompt: "Nennt PayPal als Zahlungsart; ab dem 2027-03-01 wird PayPal nicht mehr angeboten."

    findings = {f.article.slug: f for f in assess_change(announce(), endpoint=endpoint)}

    assert findings["zahlungsarten"].reason == "nennt PayPal als Zahlungsart; ab dem 2027-03-01 wird PayPal nicht mehr angeboten."


def test_the_neighbouring_section_that_stays_right_is_not_flagged(payments, standin, endpoint):
    standin.script.judge = judge_paypal

    findings = assess_change(announce(), endpoint=endpoint)

    judged = [section_of(p) for p in standin.script.prompts() if "ja oder nein" in p]
    assert any("Gesamtbetrag" in s for s in judged)  # the invoice article was read ...
    assert "rechnung" not in {f.article.slug for f in findings}  # ... and left alone


def test_the_announcement_comes_first_so_the_server_evaluates_it_once(payments, standin, endpoint):
    standin.script.judge = judge_paypal
    assess_change(announce(), endpoint=endpoint)

    judge_prompts = [p for p in standin.script.prompts() if "ja oder nein" in p]
    assert len(judge_prompts) >= 3
    prefixes = {p[: p.index("<<<")].rsplit("Abschnitt aus dem Artikel", 1)[0] for p in judge_prompts}
    assert len(prefixes) == 1 and ANNOUNCEMENT in prefixes.pop()


def test_a_model_reason_with_an_invented_figure_is_replaced_by_the_built_one(payments, standin, endpoint, settings):
    settings.VERITY_IMPACT_MODEL_REASONS = True
    standin.script.judge = judge_paypal
    standin.script.reply = lambda prompt: "Nennt PayPal; ab 2027-03-01 kostet PayPal 2,50 € Gebühr."  # 2,50 € is nowhere

    findings = {f.article.slug: f for f in assess_change(announce(), endpoint=endpoint)}

    reason = findings["zahlungsarten"].reason
    assert "2,50" not in reason
    assert reason.startswith("nennt „Ihre Rechnung bezahlen Sie per SEPA-Lastschrift, per Überweisung oder mit PayPal.“")


def test_below_the_threshold_nothing_is_flagged(payments, standin, endpoint):
    standin.script.yes_probability = 0.2
    assert assess_change(announce(), endpoint=endpoint) == []


def test_without_reading_turned_on_the_worker_compares_facts_only(payments, standin, settings):
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = standin.url
    standin.script.judge = judge_paypal
    event = announce()

    change_event_run(event.pk)

    assert not Flag.objects.filter(change_event=event).exists() and standin.script.requests == []


def test_a_model_that_fails_leaves_the_fact_comparison_standing(publish):
    publish("rueckgabe", body="# Rückgabe\n\nDie Rückgabefrist beträgt 14 Tage ab Erhalt der Ware.", title="Rückgabe")
    down = ModelEndpoint("http://127.0.0.1:9/v1", "k", "m", embedded=False)  # nothing listens on port 9
    event = change_event_create(kind="policy", title="Längere Rückgabefrist",
                                description="Ab dem 1. Januar 2027 beträgt die Rückgabefrist 30 Tage ab Erhalt der Ware.",
                                effective_date=dt.date(2027, 1, 1), assess=False)
    (finding,) = assess_change(event, endpoint=down)
    assert finding.article.slug == "rueckgabe" and "14 Tage" in finding.reason


def test_the_worker_flags_what_the_model_found_for_the_owner(payments, standin, settings):
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = standin.url
    settings.VERITY_IMPACT_READING = True
    standin.script.judge = judge_paypal
    event = announce()

    change_event_run(event.pk)

    flags = {flag.article.slug: flag for flag in Flag.objects.filter(change_event=event).select_related("article")}
    assert set(flags) == {"zahlungsarten", "makro-zahlungsart"}
    assert "PayPal" in flags["zahlungsarten"].summary


# --- contradictions: the same judge ---------------------------------------------------------------

FEE_A = "# Ersatzkarte\n\nFür eine Ersatzkarte berechnen wir eine Bearbeitungsgebühr von 9,95 €. Die Karte kommt per Post."
FEE_B = "# Karte verloren\n\nBei Verlust berechnen wir für die Ersatzkarte eine Bearbeitungsgebühr von 14,95 €."


@pytest.mark.parametrize(("probability", "kept"), [(0.9, True), (0.1, False)])
def test_a_contradiction_stands_only_when_the_model_reads_one(publish, standin, endpoint, probability, kept):
    publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    publish("karte-verloren", body=FEE_B, title="Karte verloren")
    standin.script.yes_probability = probability

    findings = contradictions_scan(endpoint=endpoint)

    assert bool(findings) is kept
    (prompt,) = [p for p in standin.script.prompts() if "Widersprechen sich A und B" in p]
    assert "9,95 €" in prompt and "14,95 €" in prompt  # both sentences, verbatim, were read
