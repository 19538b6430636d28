"""The admin saves and deletes guardrail rules through services that audit in the same transaction."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent
from retrieval.answers import guardrails
from retrieval.answers.guardrails import guardrail_rule_delete, guardrail_rule_save
from retrieval.models import GuardrailRule


def test_saving_a_rule_writes_one_audit_event(admin_user_role):
    rule = GuardrailRule(name="Aktienkurs", kind=GuardrailRule.Kind.BLOCKED_TOPIC, phrases="Aktienkurs")

    guardrail_rule_save(actor=admin_user_role, rule=rule, created=True, changed=["name", "phrases"])

    (event,) = AuditEvent.objects.filter(target_label="Aktienkurs")
    assert event.event_type == AuditEvent.Type.POLICY_CREATE
    assert event.actor == admin_user_role
    assert event.details == {"kind": "blocked_topic", "changed": ["name", "phrases"], "active": True}


def test_a_failing_audit_saves_nothing(admin_user_role, monkeypatch):
    def broken(**_):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(guardrails, "audit_record", broken)
    rule = GuardrailRule(name="Aktienkurs", kind=GuardrailRule.Kind.BLOCKED_TOPIC, phrases="Aktienkurs")

    with pytest.raises(RuntimeError):
        guardrail_rule_save(actor=admin_user_role, rule=rule, created=True, changed=["name"])

    assert not GuardrailRule.objects.filter(name="Aktienkurs").exists()
    assert not AuditEvent.objects.filter(target_label="Aktienkurs").exists()


def test_deleting_a_rule_keeps_what_it_said_in_the_log(admin_user_role):
    rule = GuardrailRule.objects.create(name="Aktienkurs", kind=GuardrailRule.Kind.BLOCKED_TOPIC, phrases="Aktienkurs")

    guardrail_rule_delete(actor=admin_user_role, rule=rule)

    assert not GuardrailRule.objects.filter(name="Aktienkurs").exists()
    (event,) = AuditEvent.objects.filter(event_type=AuditEvent.Type.POLICY_DELETE)
    assert event.details["phrases"] == "Aktienkurs"


def test_the_admin_saves_through_the_service(client, admin_user_role):
    client.force_login(admin_user_role)

    response = client.post("/admin/retrieval/guardrailrule/add/", {
        "name": "Aktienkurs", "kind": "blocked_topic", "phrases": "Aktienkurs", "audience": "all", "message": "", "active": "on",
    })

    assert response.status_code == 302, response.content[:2000]
    (event,) = AuditEvent.objects.filter(target_label="Aktienkurs")
    assert event.event_type == AuditEvent.Type.POLICY_CREATE
