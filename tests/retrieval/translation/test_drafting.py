"""Drafting a translation with the model (a stand-in at the HTTP edge): what is created, scored, refused."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance import services
from governance.models import AuditEvent, Flag
from kb.models import Article, ArticleVersion
from retrieval.llm.client import ModelEndpoint
from retrieval.models import TranslationDraft
from retrieval.translation.drafting import translation_draft, translation_run
from tests.retrieval.translation.conftest import ENGLISH
from verity.core.errors import ApplicationError, PermissionDeniedError

SECTION_2 = ("## Kosten\n\nDas Rücksendeetikett kostet 4,95 €. Die VerityBox senden Sie bis zum 1. März 2027 kostenlos "
             "zurück.")


def test_a_drafted_translation_is_a_scored_draft_version_linked_to_its_source_and_not_served(
        source, translator, glossary, author, inline):
    draft = inline(translation_draft, article=source, target_locale="en", actor=author)

    draft.refresh_from_db()
    assert draft.status == TranslationDraft.Status.DONE, draft.error
    target = Article.objects.get(slug="rueckgabe-en")
    assert (target.locale, target.translation_of, target.audience, target.space, target.owner) == (
        "en", source, source.audience, source.space, source.owner)
    assert target.live_version is None  # never served before approval
    version = target.latest_version
    assert (draft.target, draft.version, version.author) == (target, version, author)
    assert version.title == "Returns"
    assert version.body == ENGLISH["# Rückgabe\n\nGeräte aus dem Online-Shop können Sie innerhalb von 14 Tagen zurückgeben. "
                                   "Öffnen Sie dazu Mein Konto > Bestellungen > Rücksendung."] + "\n\n" + ENGLISH[SECTION_2] + "\n"
    assert version.change_note == "Machine translation of “rueckgabe” v1 (score 98/100): read it against the source before submitting."
    assert draft.parts == {"agreement": 95, "survival": 100, "facts": 7, "kept": 7, "sections": 2, "replaced": 0,
                           "seconds": draft.parts["seconds"]}
    assert draft.score == 98
    assert [span["missing"] for span in draft.spans] == [[], []]
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.ARTICLE_CREATE, article=target, actor=author).count() == 1


def test_a_dropped_amount_lowers_the_score_and_is_shown_with_its_source_sentence(source, translator, glossary, author, inline):
    translator.english[SECTION_2] = "## Costs\n\nThe return label costs a small fee. You can send the VerityBox back free of charge until 1 March 2027."

    draft = inline(translation_draft, article=source, target_locale="en", actor=author)

    draft.refresh_from_db()
    assert (draft.parts["kept"], draft.parts["facts"], draft.parts["survival"]) == (6, 7, 86)
    assert draft.score < 98
    assert draft.spans[1]["missing"] == [{"kind": "amount", "text": "4,95 €", "expected": "",
                                          "context": "Das Rücksendeetikett kostet 4,95 €."}]


def test_the_glossary_is_in_the_prompt_and_forbidden_variants_are_replaced_in_the_draft(
        source, translator, glossary, author, inline, standin):
    translator.english[SECTION_2] = "## Costs\n\nThe return label costs €4.95. You can send the Verity Box back free of charge until 1 March 2027."

    draft = inline(translation_draft, article=source, target_locale="en", actor=author)

    draft.refresh_from_db()
    prompts = standin.script.prompts()
    first_section = next(p for p in prompts if "Mein Konto >" in p and "into English" in p)
    assert '- "Mein Konto" -> "My Account"' in first_section
    assert "VerityBox" not in first_section.split("\n# Rückgabe")[0]  # only the entries a section uses
    second_section = next(p for p in prompts if "Rücksendeetikett" in p and "into English" in p)
    assert '- "VerityBox": keep "VerityBox" as it is' in second_section
    assert "the VerityBox back" in draft.version.body and "Verity Box" not in draft.version.body
    assert draft.spans[1]["replaced"] == [["Verity Box", "VerityBox"]]
    assert draft.parts["replaced"] == 1


def test_a_glossary_term_written_otherwise_is_missing(source, translator, glossary, author, inline):
    key = next(k for k in ENGLISH if k.startswith("# Rückgabe"))
    translator.english[key] = translator.english[key].replace("My Account", "Your Account")

    draft = inline(translation_draft, article=source, target_locale="en", actor=author)

    draft.refresh_from_db()
    assert {"kind": "glossary", "text": "Mein Konto", "expected": "My Account",
            "context": "Öffnen Sie dazu Mein Konto > Bestellungen > Rücksendung."} in draft.spans[0]["missing"]


def test_an_out_of_sync_translation_gets_a_new_draft_version(source, translator, author, approver, publish, revise, inline):
    english = publish("returns", body="# Returns\n\nOld text.", locale="en", translation_of=source, title="Returns")
    review = revise(source, body=source.live_version.body.replace("14 Tagen", "30 Tagen"))
    services.version_approve(actor=approver, review=review)
    assert Flag.objects.filter(article=english, reason=Flag.Reason.TRANSLATION_DRIFT, state="open").exists()
    key = next(k for k in ENGLISH if k.startswith("# Rückgabe"))
    translator.english[key.replace("14 Tagen", "30 Tagen")] = ENGLISH[key].replace("14 days", "30 days")
    source.refresh_from_db()

    draft = inline(translation_draft, article=source, target_locale="en", actor=author)

    draft.refresh_from_db()
    english.refresh_from_db()
    assert draft.status == "done", draft.error
    assert (draft.target, english.latest_version.number, english.live_version.number) == (english, 2, 1)
    assert "within 30 days" in english.latest_version.body
    assert not Article.objects.filter(slug="rueckgabe-en").exists()


def test_approval_stays_four_eyes_the_requester_may_not_approve_the_draft(source, translator, author, approver, inline):
    draft = inline(translation_draft, article=source, target_locale="en", actor=author)
    draft.refresh_from_db()
    review = services.version_submit(actor=author, version=draft.version)
    author.user_permissions.add(*approver.groups.first().permissions.filter(codename="approve_version"))
    author = type(author).objects.get(pk=author.pk)

    with pytest.raises(PermissionDeniedError, match="four-eyes|Vier-Augen"):
        services.version_approve(actor=author, review=review)

    services.version_approve(actor=approver, review=review)
    draft.target.refresh_from_db()
    assert draft.target.live_version == draft.version


@pytest.mark.parametrize(("change", "message"), [
    ("in_sync", "ist mit ihrer Quelle synchron"),
    ("not_published", "hat keine veröffentlichte Version"),
    ("same_language", "ist bereits auf de geschrieben"),
    ("unknown_language", "ist keine Sprache, die das Modell schreiben kann"),
])
def test_refused_requests_say_why_and_create_nothing(source, translator, author, publish, make_article, change, message):
    target_locale = "en"
    article = source
    if change == "in_sync":
        publish("returns", body="# Returns", locale="en", translation_of=source)
    elif change == "not_published":
        article = make_article("entwurf", title="Entwurf")
    elif change == "same_language":
        target_locale = "de"
    else:
        target_locale = "klingonisch"
    versions, drafts = ArticleVersion.objects.count(), TranslationDraft.objects.count()

    with pytest.raises(ApplicationError, match=message):
        translation_draft(article=article, target_locale=target_locale, actor=author, dispatch=lambda pk: None)

    assert (ArticleVersion.objects.count(), TranslationDraft.objects.count()) == (versions, drafts)


def test_approvers_and_agents_may_not_request_drafts(source, translator, approver, agent):
    for person in (approver, agent):
        with pytest.raises(PermissionDeniedError, match="keine Übersetzungen entwerfen"):
            translation_draft(article=source, target_locale="en", actor=person, dispatch=lambda pk: None)
    assert TranslationDraft.objects.count() == 0


def test_without_a_model_the_request_is_refused_and_nothing_is_created(source, author, settings):
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = "http://127.0.0.1:9/v1"

    with pytest.raises(ApplicationError, match="Das Sprachmodell ist nicht verfügbar") as refused:
        translation_draft(article=source, target_locale="en", actor=author, dispatch=lambda pk: None)

    assert refused.value.code == "model_unavailable"
    assert TranslationDraft.objects.count() == 0 and Article.objects.count() == 1


def test_a_model_that_stops_answering_fails_the_draft_and_creates_nothing(source, translator, author):
    requested = translation_draft(article=source, target_locale="en", actor=author, dispatch=lambda pk: None)
    versions = ArticleVersion.objects.count()

    draft = translation_run(requested.pk, endpoint=ModelEndpoint("http://127.0.0.1:9/v1", "k", "gone", embedded=False))

    assert draft.status == TranslationDraft.Status.FAILED
    assert draft.error == ("Das Sprachmodell antwortete nach 0 von 2 Abschnitten nicht mehr (OpenAIConnectionError). "
                           "Es wurde nichts angelegt; versuchen Sie es später erneut.")
    assert ArticleVersion.objects.count() == versions and not Article.objects.filter(locale="en").exists()


def test_kb_translate_drafts_and_reports_the_score(source, translator, glossary, author, capsys):
    call_command("kb_translate", "rueckgabe", "--to", "en", "--user", author.username)

    out = capsys.readouterr().out
    assert "Score 98/100: back-translation agreement 95/100, 7 of 7 numbers" in out
    assert "Draft version v1 of rueckgabe-en (en) by anna: submit it for review" in out


def test_kb_translate_names_the_problem_when_the_model_is_down(source, author, settings):
    settings.VERITY_GENERATOR = "extractive"

    with pytest.raises(CommandError, match="VERITY_GENERATOR=extractive"):
        call_command("kb_translate", "rueckgabe", "--to", "en")
    assert not Article.objects.filter(locale="en").exists()
