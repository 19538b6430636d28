"""The glossary: validated entries in the admin (audited, knowledge admins only), glossary.yaml, answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance import services
from governance.imports import kb_export, kb_import
from governance.models import AuditEvent
from kb.models import GlossaryEntry
from verity.core.errors import PermissionDeniedError


def _entry(**fields) -> GlossaryEntry:
    values = {"source_locale": "de", "target_locale": "en", "term": "Mein Konto", "translation": "My Account"}
    values.update(fields)
    return GlossaryEntry(**values)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"translation": ""}, "translation", "Geben Sie die Übersetzung an"),
    ({"target_locale": "de"}, "target_locale", "Die Zielsprache muss sich von der Ausgangssprache unterscheiden."),
    ({"forbidden_variants": ["my account"]}, "forbidden_variants", "ist die vorgeschriebene Schreibweise"),
    ({"do_not_translate": True, "translation": "Our Box"}, "translation", "Ein Begriff, der nicht übersetzt wird"),
    ({"target_locale": "english"}, "target_locale", "Ein Sprachcode wie de oder en."),
])
def test_a_bad_entry_is_refused_naming_the_field(db, fields, field, message):
    with pytest.raises(ValidationError) as refused:
        _entry(**fields).full_clean()

    assert message in " ".join(refused.value.message_dict[field])


def test_a_term_is_in_the_glossary_once_per_pair_whatever_its_case(db, admin_user_role):
    services.glossary_entry_save(actor=admin_user_role, entry=_entry())

    with pytest.raises(ValidationError) as refused:
        services.glossary_entry_save(actor=admin_user_role, entry=_entry(term="mein konto"))

    assert "ist bereits im Glossar für de→en" in refused.value.message_dict["term"][0]
    assert GlossaryEntry.objects.count() == 1
    services.glossary_entry_save(actor=admin_user_role, entry=_entry(target_locale="fr", translation="Mon compte"))


def test_knowledge_admins_keep_the_glossary_audited_authors_may_not(db, admin_user_role, author):
    entry = services.glossary_entry_save(actor=admin_user_role, entry=_entry(forbidden_variants=["My Profile"]))

    event = AuditEvent.objects.get(event_type=AuditEvent.Type.GLOSSARY_CREATE)
    assert (event.actor, event.details["term"], event.details["forbidden_variants"]) == (admin_user_role, "Mein Konto", ["My Profile"])
    with pytest.raises(PermissionDeniedError, match="Glossar nicht ändern"):
        services.glossary_entry_save(actor=author, entry=_entry(term="Rechnung", translation="Invoice"))
    services.glossary_entry_delete(actor=admin_user_role, entry=entry)
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.GLOSSARY_DELETE).count() == 1


def test_the_admin_form_shows_what_is_wrong_in_german(client, admin_user_role):
    client.force_login(admin_user_role)

    response = client.post(reverse("admin:kb_glossaryentry_add"), {
        "source_locale": "de", "target_locale": "en", "term": "Mein Konto", "translation": "",
        "forbidden_variants": "My Profile, Customer Account", "note": "",
    })

    assert response.status_code == 200
    assert "Geben Sie die Übersetzung an, oder kreuzen Sie „nicht übersetzen“ an." in response.content.decode()
    assert GlossaryEntry.objects.count() == 0

    response = client.post(reverse("admin:kb_glossaryentry_add"), {
        "source_locale": "de", "target_locale": "en", "term": "Mein Konto", "translation": "My Account",
        "forbidden_variants": "My Profile, Customer Account", "note": "",
    })
    assert response.status_code == 302
    assert GlossaryEntry.objects.get().forbidden_variants == ["My Profile", "Customer Account"]
    page = client.get(reverse("admin:kb_glossaryentry_changelist")).content.decode()
    assert "Glossar" in page and "My Profile, Customer Account" in page


def test_authors_read_the_glossary_but_cannot_add(client, author):
    client.force_login(author)

    assert client.get(reverse("admin:kb_glossaryentry_changelist")).status_code == 200
    assert client.get(reverse("admin:kb_glossaryentry_add")).status_code == 403


GLOSSARY = """\
- source: de
  target: en
  term: Mein Konto
  translation: My Account
  forbidden: [My Profile]
- source: de
  target: en
  term: VerityBox
  do_not_translate: true
"""


def test_glossary_yaml_is_imported_and_exported_in_the_kb_folder(db, tmp_path: Path):
    (tmp_path / "glossary.yaml").write_text(GLOSSARY, encoding="utf-8")

    report = kb_import(folder=tmp_path)

    assert report.ok and report.glossary == {"created": 2, "updated": 0, "unchanged": 0}
    assert kb_import(folder=tmp_path).glossary == {"created": 0, "updated": 0, "unchanged": 2}
    out = tmp_path / "out"
    kb_export(folder=out)
    assert (out / "glossary.yaml").read_text(encoding="utf-8").splitlines()[1:] == GLOSSARY.splitlines()


def test_a_bad_glossary_yaml_names_the_file_entry_and_key_and_imports_none_of_it(db, tmp_path: Path):
    (tmp_path / "glossary.yaml").write_text(GLOSSARY + "- source: de\n  target: en\n  term: Rechnung\n", encoding="utf-8")

    report = kb_import(folder=tmp_path)

    (error,) = report.errors
    assert str(error) == f"{tmp_path}/glossary.yaml: key 'translation': entry 3 ('Rechnung'): Give the translation, or tick “do not translate”."
    assert GlossaryEntry.objects.count() == 0
