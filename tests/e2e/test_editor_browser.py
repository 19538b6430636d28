"""Writing in the admin, in a real browser (Debian's Chromium through Playwright): issue #16 item 2 and
two journeys of item 9.

1. An author writes a new article with the editor's toolbar and its live preview (a table and a link),
   and submits it for review.
2. An author revises an article flagged by a policy change; the approver approves the new version to go
   live on the change's effective date; agents are served the old text until the beat task runs then.

Screenshots (1440x900 and 390x844) go to test-artifacts/screenshots/. No page may report a violation of
the Content-Security-Policy: EasyMDE and its icon font are served from Verity's static files.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from governance import services
from governance.models import ChangeEvent, Flag, Review
from governance.tasks import publications_publish_due
from kb.models import Article, Space
from tests.e2e.conftest import ROAMING_BODY, screenshot
from tests.e2e.test_desktop_browser import admin_login, desktop_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _watch_violations(page) -> list[str]:
    """Violations of the Content-Security-Policy, script errors, and static files or previews that failed."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    page.on("response", lambda response: violations.append(f"{response.status}: {response.url}")
            if response.status >= 400 and "/favicon.ico" not in response.url else None)
    return violations


def _editor_text(page) -> str:
    return page.evaluate("document.getElementById('id_content_body').editor.value()")


def _toolbar(page, title: str):
    return page.locator(f'.editor-toolbar button[title^="{title}"]')


def _type(page, text: str) -> None:
    """Typed key by key where the cursor is: CodeMirror's own input handling, no API call."""
    for number, line in enumerate(text.split("\n")):
        if number:
            page.keyboard.press("Enter")
        page.keyboard.type(line, delay=5)


def _type_in_editor(page, text: str) -> None:
    page.locator(".EasyMDEContainer .CodeMirror-code").click()
    page.keyboard.press("Control+End")
    _type(page, text)


def test_an_author_writes_with_toolbar_and_preview_and_submits_for_review(new_page, people, space):
    help_space = Space.objects.create(slug="hilfe", name="Hilfe-Center", default_audience="public")
    page = new_page(**WIDE)
    violations = _watch_violations(page)
    admin_login(page, "anna")

    page.goto("/admin/kb/article/add/")
    editor = page.locator(".EasyMDEContainer")
    editor.wait_for()
    # the fields come in the order people fill them: title, slug, text, then the settings
    boxes = [page.locator(selector).bounding_box()["y"] for selector in
             ("#id_content_title", "#id_slug", ".EasyMDEContainer", "#id_space", "#id_locale", "#id_owner")]
    assert boxes == sorted(boxes)
    assert page.locator("#id_owner option:checked").inner_text() == "anna"  # the author owns it
    assert page.locator("#id_locale option:checked").inner_text() == "Deutsch"

    # the slug follows the title, spelt as Germans expect
    page.locator("#id_content_title").press_sequentially("Rücksendung: Größe passt nicht", delay=10)
    assert page.input_value("#id_slug") == "ruecksendung-groesse-passt-nicht"

    # text, a table and a link from the toolbar; the preview beside it shows them as published
    assert page.locator(".editor-preview-side.editor-preview-active-side").is_visible()  # side by side from the start
    _type_in_editor(page, "## Kosten der Rücksendung\n\nDie Rücksendung ist kostenlos.\n")
    _toolbar(page, "Tabelle").click()
    assert "| Spalte 1 | Spalte 2 |\n| --- | --- |\n| Text | Text |" in _editor_text(page)
    page.keyboard.press("Control+End")  # the table went in after the cursor
    _type(page, "Weitere Fragen: Rücksendeportal")
    page.keyboard.press("Control+Shift+ArrowLeft")  # the last word
    _toolbar(page, "Link").click()  # [Rücksendeportal](https://)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    _type(page, "example.com/retoure")
    assert "[Rücksendeportal](https://example.com/retoure)" in _editor_text(page)
    preview = page.locator(".editor-preview-side")
    preview.locator("table th", has_text="Spalte 1").wait_for()
    link = preview.get_by_role("link", name="Rücksendeportal")
    link.wait_for()
    assert link.get_attribute("href") == "https://example.com/retoure"
    assert preview.locator("h2").inner_text() == "Kosten der Rücksendung"

    # whatever the text contains, nothing in it runs in the preview
    _type_in_editor(page, '\n<img src="data:image/gif;base64,R0lGOD" onerror="window.pwned=1">\n\n<script>window.pwned=2</script>\n')
    page.wait_for_timeout(600)
    page.wait_for_function("!document.querySelector('.editor-preview-side').hasAttribute('aria-busy')")
    assert page.evaluate("window.pwned") is None
    assert "onerror" not in preview.inner_html() and "<script" not in preview.inner_html()

    # the audience follows the space chosen
    page.select_option("#id_space", str(help_space.pk))
    assert page.locator("#id_audience option:checked").inner_text() == "Öffentlich"
    page.fill("#id_change_note", "Neuer Artikel zu Rücksendungen")
    page.locator(".EasyMDEContainer").scroll_into_view_if_needed()
    screenshot(page, "20-admin-editor-side-by-side")

    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    article = Article.objects.get(slug="ruecksendung-groesse-passt-nicht")
    assert (article.owner, article.audience, article.space, article.locale) == (people["author"], "public", help_space, "de")
    assert "[Rücksendeportal](https://example.com/retoure)" in article.latest_version.body
    assert "| Spalte 1 | Spalte 2 |" in article.latest_version.body

    page.locator("button[name=submit-review]").click()
    page.locator(".messagelist .success").wait_for()
    assert page.locator(".messagelist .success").inner_text() == "Version 1 wurde zur Freigabe eingereicht."
    assert page.locator("#workflow .verity-badge-in-review").count() == 1
    assert Review.objects.get(article=article).status == Review.Status.IN_REVIEW
    screenshot(page, "21-admin-article-submitted")
    assert violations == []


def test_the_editor_on_a_phone_sized_screen(new_page, people, space):
    page = new_page(**PHONE)
    violations = _watch_violations(page)
    admin_login(page, "anna")

    page.goto("/admin/kb/article/add/?content_title=Gerät%20zurückgeben")
    page.locator(".EasyMDEContainer").wait_for()
    assert page.input_value("#id_slug") == "geraet-zurueckgeben"
    _type_in_editor(page, "| Tarif | Preis |\n| --- | --- |\n| S | 9,99 € |\n")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    screenshot(page, "22-admin-editor-phone")

    _toolbar(page, "Vorschau").click()  # on a phone: text or preview, one at a time
    page.locator(".editor-preview-full table td", has_text="9,99 €").wait_for()
    screenshot(page, "23-admin-editor-phone-preview")
    assert violations == []


def test_a_revision_goes_live_on_the_effective_date_of_the_change(new_page, people, publish):
    article = publish("roaming", title="Roaming in der EU", body=ROAMING_BODY)
    effective = timezone.localdate() + dt.timedelta(days=10)
    change = services.change_event_create(kind=ChangeEvent.Kind.POLICY, title="Mehr EU-Datenvolumen im Tarif S",
                                          description="Ab dem Stichtag 25 GB im EU-Ausland.", effective_date=effective,
                                          assess=False)
    services.flag_raise(article=article, reason=Flag.Reason.CHANGE_EVENT, summary="Tarif S: 25 GB statt 10 GB",
                        change_event=change)
    author, approver, agent = new_page(**WIDE), new_page(**WIDE), new_page(**WIDE)
    violations = [_watch_violations(author), _watch_violations(approver)]

    # the author rewrites the text in the editor, with a table of the new volumes, and submits it
    admin_login(author, "anna")
    author.goto(f"/admin/kb/article/{article.pk}/change/")
    author.locator(".EasyMDEContainer").wait_for()
    author.locator(".EasyMDEContainer .CodeMirror-code").click()
    author.keyboard.press("Control+A")
    author.keyboard.insert_text("## Roaming in der EU\n\nIn der EU telefonieren und surfen Sie zu Inlandskonditionen.\n\n"
                                "| Tarif | Datenvolumen im EU-Ausland |\n| --- | --- |\n| S | 25 GB |\n| M | 40 GB |\n")
    author.locator(".editor-preview-side table td", has_text="25 GB").wait_for()
    author.fill("#id_change_note", "Mehr EU-Datenvolumen ab dem Stichtag")
    author.click("input[name=_continue]")
    author.locator(".messagelist .success").wait_for()
    author.locator("button[name=submit-review]").click()
    assert author.locator(".messagelist .success").inner_text() == "Version 2 wurde zur Freigabe eingereicht."

    # the approver approves it to go live on the change's effective date
    admin_login(approver, "clara")
    approver.goto(f"/admin/kb/article/{article.pk}/change/")
    approver.get_by_label("am Stichtag der Änderung „Mehr EU-Datenvolumen im Tarif S“", exact=False).check()
    approver.fill("#approve-comment", "Gilt ab dem Stichtag.")
    approver.locator("button[name=approve]").click()
    approver.locator(".messagelist .success").wait_for()
    when = f"{effective:%Y-%m-%d} 00:00"
    assert f"Version 2 geht am {when} live" in approver.locator(".messagelist .success").inner_text()
    screenshot(approver, "24-admin-approved-for-the-effective-date")
    review = Review.objects.get(article=article, version__number=2)
    assert review.status == Review.Status.SCHEDULED

    # until then agents are served version 1; a minute after midnight of the effective date, version 2
    desktop_login(agent, "felix")
    agent.goto("/desktop/articles/roaming/")
    assert "10 GB" in agent.locator("article.article").inner_text()
    go_live = timezone.make_aware(dt.datetime.combine(effective, dt.time(0, 1)))
    with time_machine.travel(go_live - dt.timedelta(minutes=2), tick=False):
        assert publications_publish_due.delay().get() == []
    with time_machine.travel(go_live, tick=False):
        assert publications_publish_due.delay().get() == [review.pk]
    agent.reload()
    served = agent.locator("article.article")
    assert served.get_attribute("data-version") == "2"
    assert served.locator("table td", has_text="25 GB").count() == 1 and "10 GB" not in served.inner_text()
    screenshot(agent, "25-desktop-served-on-the-effective-date")
    assert violations == [[], []]
