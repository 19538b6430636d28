"""The glossary: how product terms are written in each language (kb.GlossaryEntry), audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import AuditEvent
from governance.services.base import _require_perm, audit_record
from kb.models import GlossaryEntry


def _details(entry: GlossaryEntry) -> dict:
    return {"pair": f"{entry.source_locale}->{entry.target_locale}", "term": entry.term, "translation": entry.translation,
            "do_not_translate": entry.do_not_translate, "forbidden_variants": list(entry.forbidden_variants)}


@transaction.atomic
def glossary_entry_save(*, actor: AbstractBaseUser | None, entry: GlossaryEntry, changed: Iterable[str] = ()) -> GlossaryEntry:
    """Create or change an entry (validated here: a bad one raises ValidationError naming the field), audited."""
    if actor is not None:
        _require_perm(actor, "kb.change_glossaryentry" if entry.pk else "kb.add_glossaryentry",
                      _("You may not change the glossary."))
    created = entry.pk is None
    entry.full_clean()
    entry.save()
    audit_record(event_type=AuditEvent.Type.GLOSSARY_CREATE if created else AuditEvent.Type.GLOSSARY_CHANGE,
                 actor=actor, target_label=str(entry)[:300], details={**_details(entry), "changed": list(changed)})
    return entry


@transaction.atomic
def glossary_entry_delete(*, actor: AbstractBaseUser, entry: GlossaryEntry) -> None:
    _require_perm(actor, "kb.delete_glossaryentry", _("You may not change the glossary."))
    audit_record(event_type=AuditEvent.Type.GLOSSARY_DELETE, actor=actor, target_label=str(entry)[:300],
                 details=_details(entry))
    entry.delete()
