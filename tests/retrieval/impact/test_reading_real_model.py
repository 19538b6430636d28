"""The default model itself reads an announcement against a small knowledge base.

Kinds the fact comparison cannot see (a discontinued payment method; a process that becomes
self-service, stated only in an internal runbook). Each test is a handful of model calls on the
embedded server (shared with the rest of this checkout). Skipped only where the model is not
installed (`VERITY_SKIP_MODEL=1`).
"""

from __future__ import annotations

import datetime as dt

import pytest

from governance.services import change_event_create
from kb.models import Article
from retrieval.impact.assessment import assess_change
from retrieval.llm.client import ModelEndpoint
from verity.core.llm_server import ensure_llm_server
from verity.core.modelfiles import default_model_path, installed, load_manifest

PAYMENT = (
    "# Zahlungsarten\n\n## So können Sie bezahlen\n\n"
    "Ihre Rechnung bezahlen Sie per SEPA-Lastschrift, per Überweisung oder mit PayPal. "
    "Die Zahlungsart ändern Sie jederzeit im Kundenportal."
)
DELIVERY = (
    "# Lieferung\n\n## Versand\n\n"
    "Bestellte Geräte versenden wir innerhalb von 2 Werktagen mit DHL. Die Sendungsnummer erhalten Sie per E-Mail."
)
RUNBOOK = (
    "# Runbook: Adressänderung\n\n## Ablauf am Telefon\n\n"
    "Kundinnen und Kunden können ihre Adresse nur über die Hotline ändern. Der Agent prüft die Identität "
    "und trägt die neue Adresse im CRM ein."
)


@pytest.fixture(scope="module")
def real_model() -> ModelEndpoint:
    manifest = load_manifest()
    path = default_model_path(manifest)
    if not installed(manifest, path):
        pytest.skip("the default model is not installed (python3 dev.py install)")
    server = ensure_llm_server(path)
    return ModelEndpoint(server.url, server.api_key, server.model, embedded=True)


@pytest.fixture
def kb(publish):
    publish("zahlungsarten", body=PAYMENT, title="Zahlungsarten")
    publish("lieferung", body=DELIVERY, title="Lieferung")
    publish("runbook-adresse", body=RUNBOOK, title="Runbook: Adressänderung", audience=Article.Audience.INTERNAL)


def announce(title: str, description: str) -> object:
    return change_event_create(kind="policy", title=title, description=description,
                               effective_date=dt.date(2027, 3, 1), assess=False)


def test_the_model_flags_a_discontinued_payment_method_and_leaves_delivery_alone(kb, real_model):
    findings = {f.article.slug: f for f in assess_change(announce(
        "PayPal wird als Zahlungsart eingestellt",
        "Ab dem 1. März 2027 bieten wir PayPal nicht mehr als Zahlungsart an. Wer bisher mit PayPal zahlt, "
        "stellt auf SEPA-Lastschrift oder Überweisung um."), endpoint=real_model)}

    assert "zahlungsarten" in findings, findings
    assert "lieferung" not in findings
    finding = findings["zahlungsarten"]
    assert "PayPal" in finding.evidence and finding.evidence in PAYMENT
    assert finding.reason and "2,50" not in finding.reason  # a reason, checked against section and announcement


def test_the_model_flags_the_internal_runbook_of_a_process_that_becomes_self_service(kb, real_model):
    findings = {f.article.slug: f for f in assess_change(announce(
        "Adresse selbst ändern im Kundenportal",
        "Ab dem 1. März 2027 ändern Kundinnen und Kunden ihre Adresse selbst im Kundenportal. Die Hotline nimmt "
        "keine Adressänderungen mehr entgegen, sondern verweist auf das Portal."), endpoint=real_model)}

    assert "runbook-adresse" in findings, findings
    assert "lieferung" not in findings
