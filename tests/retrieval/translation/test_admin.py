"""The article page: "Übersetzung entwerfen", progress, and the score with its differing spans on the draft."""

from __future__ import annotations

from django.urls import reverse

from retrieval.models import TranslationDraft
from tests.retrieval.translation.conftest import SECTION_2_KEY


def _translate(client, article, locale="en"):
    return client.post(reverse("admin:kb_article_translate", args=[article.pk]), {"target_locale": locale})


def test_an_author_drafts_a_translation_from_the_article_page_and_sees_its_score_and_missing_amount(
        client, source, translator, glossary, author, django_capture_on_commit_callbacks):
    translator.english[SECTION_2_KEY] = ("## Costs\n\nThe return label costs a small fee. You can send the VerityBox "
                                         "back free of charge until 1 March 2027.")
    client.force_login(author)
    page = client.get(reverse("admin:kb_article_change", args=[source.pk])).content.decode()
    assert "Übersetzung entwerfen" in page and '<option value="en">English</option>' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = _translate(client, source)

    assert response.status_code == 302
    messages = client.get(response.url).content.decode()
    assert "Die en-Übersetzung wird entworfen." in messages
    draft = TranslationDraft.objects.get()
    assert draft.status == "done", draft.error
    page = client.get(reverse("admin:kb_article_change", args=[source.pk])).content.decode()
    assert f"Bewertung {draft.score}/100" in page and "rueckgabe-en v1" in page
    translation_page = client.get(reverse("admin:kb_article_change", args=[draft.target.pk])).content.decode()
    assert "Maschinelle Übersetzung v1: Bewertung" in translation_page
    assert f"{draft.score}/100" in translation_page
    assert "Rückübersetzungs-Übereinstimmung" in translation_page
    assert "6 von 7" in translation_page
    assert "1 fehlt" in translation_page
    assert "„<span lang=\"de\">4,95 €</span>“ fehlt in der Übersetzung" in translation_page
    assert "Rücksendeetikett kostet 4,95 €." in translation_page
    assert '<del class="removed"' in translation_page


def test_the_page_speaks_english_to_english_readers(client, source, translator, author, django_capture_on_commit_callbacks):
    client.force_login(author)
    with django_capture_on_commit_callbacks(execute=True):
        _translate(client, source)
    draft = TranslationDraft.objects.get()

    page = client.get(reverse("admin:kb_article_change", args=[draft.target.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Machine translation v1: score" in page
    assert "Back-translation agreement" in page


def test_progress_is_served_as_json_for_the_page_to_poll(client, source, translator, author):
    client.force_login(author)
    draft = TranslationDraft.objects.create(source=source, source_version=source.live_version, target_locale="en",
                                            requested_by=author, status="running", sections_total=3, sections_done=1)

    state = client.get(reverse("admin:kb_article_translation_status", args=[source.pk, draft.pk])).json()

    assert state == {"status": "running", "label": "Wird übersetzt", "done": 1, "total": 3, "score": None, "error": "",
                     "progress": "1 von 3 Abschnitten"}


def test_a_refusal_is_shown_and_nothing_created(client, source, author, settings):
    settings.VERITY_GENERATOR = "extractive"
    client.force_login(author)

    response = _translate(client, source)

    page = client.get(response.url).content.decode()
    assert "Das Sprachmodell ist nicht verfügbar" in page and "Es wurde nichts angelegt." in page
    assert TranslationDraft.objects.count() == 0


def test_agents_see_no_button_and_may_not_post(client, source, agent, translator):
    client.force_login(agent)

    page = client.get(reverse("admin:kb_article_change", args=[source.pk])).content.decode()
    response = _translate(client, source)

    assert "Übersetzung entwerfen" not in page
    assert response.status_code in {302, 403}
    assert TranslationDraft.objects.count() == 0
