"""A failed assessment is recorded and audited in one transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from governance import services
from governance.models import AuditEvent, ChangeEvent


@pytest.fixture
def event(db):
    return services.change_event_create(kind="policy", title="Neue Frist", description="Die Frist beträgt 30 Tage.",
                                        effective_date=dt.date(2027, 1, 1), assess=False)


def test_a_failure_is_recorded_and_audited(event):
    services.change_event_fail(event=event, error="Traceback: boom")

    event.refresh_from_db()
    assert (event.status, event.error) == (ChangeEvent.Status.FAILED, "Traceback: boom")
    (audit,) = AuditEvent.objects.filter(event_type=AuditEvent.Type.CHANGE_ASSESS)
    assert audit.details == {"change": event.pk, "status": "failed", "error": "Traceback: boom"}
    assert audit.actor is None


def test_a_failing_audit_leaves_the_event_as_it_was(event, monkeypatch):
    def broken(**_):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services.changes, "audit_record", broken)  # where change_event_fail looks it up

    with pytest.raises(RuntimeError):
        services.change_event_fail(event=event, error="boom")

    event.refresh_from_db()
    assert (event.status, event.error) == (ChangeEvent.Status.PENDING, "")
    assert not AuditEvent.objects.filter(event_type=AuditEvent.Type.CHANGE_ASSESS).exists()
