"""German first, in a real browser: a German Chromium gets the admin and the desktop in German, an English one
in English, and the header's language switch changes it (Debian's Chromium through Playwright, 1440x900).

Screenshots: test-artifacts/screenshots/i18n-*.png.
"""

from __future__ import annotations

import pytest

from governance import selectors, services
from tests.e2e.conftest import RETURN_BODY, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture
def open_page(browser, live_server):
    """A function opening a page in a fresh browser context with the given browser language."""
    contexts = []

    def make(locale: str):
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _sign_in_to_admin(page, username: str) -> None:
    page.goto("/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_a_german_browser_gets_german_pages_and_the_switch_makes_them_english(open_page, people, publish):
    # given a published German article with an English translation, and a new version in review
    returns = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    publish("returns", title="Returns in the shop", body="## Period\n\nYou can return devices within 14 days.",
            locale="en", translation_of=returns)
    version = services.version_create(actor=people["author"], article=returns, title="Rückgabe im Shop",
                                      body=RETURN_BODY.replace("14 Tagen", "30 Tagen"), base_version=1,
                                      change_note="Frist verlängert")
    services.version_submit(actor=people["author"], version=version)
    page = open_page("de-DE")

    # when the approver signs in with a German browser
    _sign_in_to_admin(page, "clara")

    # then the workspace, the article list and the article page speak German
    assert page.locator("h1").inner_text() == "Arbeitsbereich der Wissensverantwortlichen"
    assert page.get_by_role("link", name="Mein Posteingang").is_visible()
    screenshot(page, "i18n-de-admin-index")
    page.get_by_role("link", name="Artikel", exact=True).first.click()
    assert page.locator("h1").inner_text() == "Artikel zum Ansehen auswählen"  # approvers do not edit
    assert page.locator(".verity-badge-in-review").first.inner_text() == "wartet auf Freigabe"
    screenshot(page, "i18n-de-article-list")
    page.goto(f"/admin/kb/article/{returns.pk}/change/")
    assert page.get_by_role("button", name="Freigeben und veröffentlichen").is_visible()
    assert page.get_by_role("button", name="Änderungen anfordern").is_visible()
    assert page.locator("#versions h2").inner_text() == "Versionsgeschichte"
    screenshot(page, "i18n-de-article-change")

    # when the approver approves, the message is German too
    page.get_by_role("button", name="Freigeben und veröffentlichen").click()
    page.locator(".messagelist .success").wait_for()
    assert page.locator(".messagelist .success").inner_text() == "Freigegeben und veröffentlicht."

    # when they switch to English in the header, every page is English (and their e-mails will be)
    page.get_by_role("button", name="EN", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#versions h2").inner_text() == "Version history"
    assert page.get_by_role("button", name="Verify: still correct").is_visible()
    screenshot(page, "i18n-en-article-change")
    page.goto("/admin/")
    assert page.locator("h1").inner_text() == "Knowledge owners' workspace"
    screenshot(page, "i18n-en-admin-index")
    assert selectors.user_language(people["approver"]) == "en"


def test_the_desktop_follows_the_browser_language(open_page, people, publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)

    for locale, search_label, heading, state in (
        ("de-DE", "Öffentliches und internes Wissen durchsuchen", "Antwortentwurf", "aktuell"),
        ("en-US", "Search public and internal knowledge", "Answer draft", "current"),
    ):
        page = open_page(locale)
        page.goto("/accounts/login/")
        page.fill("#id_username", "felix")
        page.fill("#id_password", "pw-felix")
        page.locator("button.primary").click()
        page.wait_for_url("**/desktop/")

        page.get_by_label(search_label).press_sequentially("Gerät zurückgeben", delay=20)
        result = page.locator('.result[data-slug="rueckgabe"]')
        result.wait_for()

        assert page.locator("html").get_attribute("lang") == locale[:2]
        assert page.locator("#answer-heading").inner_text() == heading
        assert result.locator(".badge-current").inner_text() == state
        assert result.locator(".result-snippet").get_attribute("lang") == "de"  # the article's text keeps its language
        screenshot(page, f"i18n-{locale[:2]}-desktop")
