"""The agent's journey in Chromium on a phone and on a wide screen: search, a draft, copy, rate.

What a person sees: highlighted snippets, the draft on top on a phone and beside the results on a wide
screen, no sideways scrolling, the copied reply without [n] markers and wrapped in the space's
greeting and closing, a thumbs down that asks why. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from governance.models import Flag
from kb.models import Article
from retrieval.models import AnswerRecord, Feedback
from tests.e2e.conftest import GOODWILL_BODY, RETURN_BODY, screenshot
from tests.e2e.test_desktop_browser import desktop_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
QUESTION = "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def knowledge(publish, revise, space):
    space.greeting = "Guten Tag,"
    space.closing = "Mit freundlichen Grüßen\nIhr Serviceteam"
    space.save()
    returns = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    returns = revise(returns, body=RETURN_BODY.replace("14 Tagen", "30 Tagen"))
    publish("kulanz", title="Kulanzrichtlinie", body=GOODWILL_BODY, audience=Article.Audience.INTERNAL)
    return returns


def _box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def test_agent_searches_gets_a_draft_and_copies_it_on_a_phone(new_page, people, knowledge):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    desktop_login(page, "felix")
    assert page.evaluate(NO_OVERFLOW)

    # results as the agent types, with the words of the query marked in rendered text
    search = page.get_by_label("Öffentliches und internes Wissen durchsuchen")
    search.press_sequentially("Rücksendeetikett drucken", delay=20)
    result = page.locator('.result[data-slug="rueckgabe"]')
    result.wait_for()
    snippet = result.locator(".result-snippet")
    assert snippet.locator("mark").all_inner_texts() == ["Rücksendeetikett", "drucken", "Rücksendung"]  # by compound part too
    assert "##" not in snippet.inner_text() and "Konto > Bestellungen" in snippet.inner_text()
    assert page.evaluate(NO_OVERFLOW)

    # Enter drafts an answer: on a phone it appears above the results
    search.fill(QUESTION)
    search.press("Enter")
    answer = page.locator('.answer[data-status="answered"]')
    answer.wait_for()
    page.locator('.result[data-slug="rueckgabe"]').wait_for()
    record = AnswerRecord.objects.get(pk=answer.get_attribute("data-query-id"))
    assert "[1]" in record.answer and "30 Tagen" in page.locator("#answer-text").inner_text()
    assert _box(page, ".desk-answer")["y"] < _box(page, "#results")["y"]
    assert _box(page, ".desk-search")["y"] < _box(page, ".desk-answer")["y"]
    assert page.evaluate(NO_OVERFLOW), "the page scrolls sideways on a phone"
    screenshot(page, "10-phone-draft")

    # copy: the reply without the [n] markers
    copy = page.get_by_role("button", name="Antwort kopieren")
    copy.click()
    page.get_by_text("In die Zwischenablage kopiert.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "30 Tagen" in copied and "[" not in copied and not copied.startswith("Guten Tag")

    # with the space's greeting and closing: shown in the draft and copied with it
    page.get_by_label("mit Anrede und Grußformel").check()
    assert page.locator(".reply-frame").first.inner_text() == "Guten Tag,"
    assert page.locator(".reply-frame").first.is_visible()
    copy.click()
    framed = page.evaluate("navigator.clipboard.readText()")
    assert framed == f"Guten Tag,\n\n{copied}\n\nMit freundlichen Grüßen\nIhr Serviceteam"
    assert page.evaluate(NO_OVERFLOW)
    screenshot(page, "11-phone-draft-with-greeting")

    # thumbs down asks why; the reason reaches the owner of the cited article
    page.get_by_text("Nein", exact=True).click()
    page.get_by_label("Veraltet").check()
    page.get_by_label("Einzelheiten (freiwillig)").fill("Die Frist ist seit Dezember 60 Tage.")
    assert page.evaluate(NO_OVERFLOW)
    screenshot(page, "12-phone-thumbs-down-reason")
    page.get_by_role("button", name="Senden", exact=True).click()
    page.get_by_text("Danke: als „veraltet“ markiert.").wait_for()
    assert (Feedback.objects.get().reason, Feedback.objects.get().user) == ("outdated", people["agent"])
    flag = Flag.objects.get(reason=Flag.Reason.FEEDBACK)
    assert flag.owner == people["author"] and "„veraltet“" in flag.summary and "60 Tage" in flag.summary

    # a later draft remembers the choice of greeting and closing
    search.fill("Rückgabe Frist Tagen Shop")
    search.press("Enter")
    page.locator(f'.answer:not([data-query-id="{record.pk}"])').wait_for()
    assert page.get_by_label("mit Anrede und Grußformel").is_checked()


def test_on_a_wide_screen_the_draft_is_beside_the_results_and_a_refusal_guides_the_agent(new_page, knowledge):
    page = new_page(viewport=WIDE)
    desktop_login(page, "felix")
    search = page.get_by_label("Öffentliches und internes Wissen durchsuchen")
    search.fill(QUESTION)
    search.press("Enter")
    page.locator('.answer[data-status="answered"]').wait_for()
    page.locator('.result[data-slug="rueckgabe"]').wait_for()

    results, draft = _box(page, "#results"), _box(page, ".desk-answer")
    assert draft["x"] >= results["x"] + results["width"]  # beside, to the right
    assert draft["y"] < results["y"] + results["height"]  # at the same height
    assert page.evaluate(NO_OVERFLOW)
    screenshot(page, "13-wide-draft-beside-results")

    # a question the articles cannot answer: what the agent can do, not the chatbot's words
    search.fill("Wann fährt der nächste Zug nach Graz?")
    search.press("Enter")
    refusal = page.locator(".notice-refused")
    refusal.wait_for()
    assert "Keine belegte Antwort: so geht es weiter" in refusal.inner_text()
    assert "wenden Sie sich an unseren Kundenservice" not in page.locator("#answer").inner_text()
    assert "als Wissenslücke erfasst" in refusal.inner_text()
    terms = refusal.locator(".term").all_inner_texts()
    assert terms == ["fährt nächste Zug Graz", "fährt", "nächste", "Zug", "Graz"]
    page.get_by_text("Fehlendes Wissen melden").click()
    page.get_by_label("Was musste der Kunde wissen?").fill("Anreise zum Shop in Graz mit dem Zug.")
    screenshot(page, "14-wide-refusal")
    page.get_by_role("button", name="An die Wissensverantwortlichen senden").click()
    page.get_by_text("Danke: Die Wissensverantwortlichen sehen Ihren Hinweis").wait_for()
    assert Feedback.objects.get().reason == "missing"

    refusal.locator(".term", has_text="Graz").first.click()
    page.wait_for_url("**/desktop/?q=f%C3%A4hrt%20n%C3%A4chste%20Zug%20Graz")
    assert search.input_value() == "fährt nächste Zug Graz"
