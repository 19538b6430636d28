"""The agent desktop and the admin workflow in a real browser (Debian's Chromium through Playwright).

Data is set up through the real services (articles published by submit + approve, so they are
indexed as in production); every scenario asserts what ended up in the database, not only that a
page loaded. Screenshots of the main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from governance import services
from governance.models import Flag, Review
from kb.models import Article
from retrieval.desktop.views import reply_text
from retrieval.models import AnswerRecord, Feedback
from tests.e2e.conftest import GOODWILL_BODY, RETURN_BODY, ROAMING_BODY, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Wie lange kann ich ein im Shop gekauftes Gerät zurückgeben?"


def desktop_login(page, username: str, *, shot: str | None = None) -> None:
    page.goto("/")
    assert "/accounts/login/" in page.url  # the desktop is behind the login
    if shot:
        screenshot(page, shot)
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(f"pw-{username}")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/desktop/")


def admin_login(page, username: str) -> None:
    page.goto("/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_agent_searches_opens_the_cited_version_copies_the_draft_and_reports_a_problem(new_page, people, publish, revise):
    returns = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    returns = revise(returns, body=RETURN_BODY.replace("14 Tagen", "30 Tagen"))  # v2 live, v1 superseded
    publish("returns", title="Returns in the shop", body="## Period\n\nYou can return devices within 30 days.",
            locale="en", translation_of=returns)
    publish("kulanz", title="Kulanzrichtlinie", body=GOODWILL_BODY, audience=Article.Audience.INTERNAL)
    page = new_page()

    desktop_login(page, "felix", shot="00-login")

    # results appear as the agent types (no Enter, no page load)
    search = page.get_by_label("Öffentliches und internes Wissen durchsuchen")
    assert search.evaluate("element => element === document.activeElement")  # autofocus
    search.press_sequentially("Kulanz Gutschriften", delay=25)
    internal = page.locator('.result[data-slug="kulanz"]')
    internal.wait_for()
    assert "intern" in internal.locator(".badge-audience-internal").inner_text()
    assert page.url.endswith("/desktop/?q=Kulanz+Gutschriften")

    # "/" jumps back to the search box from anywhere; the arrows walk the results
    page.locator("#answer-heading").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    search.fill("")
    search.press_sequentially("Gerät zurückgeben Tagen", delay=25)
    returns_result = page.locator('.result[data-slug="rueckgabe"]')
    returns_result.wait_for()
    assert returns_result.get_attribute("data-version") == "2"
    assert returns_result.locator(".badge-current").inner_text() == "aktuell"
    slugs = page.locator(".result").evaluate_all("items => items.map(item => item.dataset.slug)")
    focused = "document.activeElement.closest('.result') && document.activeElement.closest('.result').dataset.slug"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == slugs[0]
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == slugs[1]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # opens the selected result
    page.wait_for_url(f"**/desktop/articles/{slugs[0]}/")
    page.go_back()
    search.wait_for()

    # Enter in the search box drafts a cited answer
    search.fill(QUESTION)
    search.press("Enter")
    answer = page.locator('.answer[data-status="answered"]')
    answer.wait_for()
    record = AnswerRecord.objects.get(pk=answer.get_attribute("data-query-id"))
    assert record.user == people["agent"] and record.audience == "internal" and record.status == "answered"
    draft = page.locator("#answer-text").inner_text()
    assert "30 Tagen" in draft and re.search(r"\[1\]", draft)
    page.locator('.result[data-slug="rueckgabe"]').wait_for()
    screenshot(page, "01-desktop-search-and-answer")

    # the copy button puts the drafted text on the clipboard, without the [n] markers
    page.get_by_role("button", name="Antwort kopieren").click()
    page.get_by_text("In die Zwischenablage kopiert.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == reply_text(record.answer)

    # thumbs up is stored with the agent
    page.locator(".feedback button[value='1']").click()
    page.locator(".feedback-done").wait_for()
    assert Feedback.objects.get(answer=record).user == people["agent"]

    # the citation opens exactly the cited version of the article
    citation = page.locator("#citation-1 .citation-link")
    assert citation.get_attribute("href") == "/desktop/articles/rueckgabe/?version=2"
    quote = page.locator("#citation-1 .citation-quote").inner_text()
    citation.click()
    page.wait_for_url("**/desktop/articles/rueckgabe/?version=2")
    article = page.locator("article.article")
    assert article.get_attribute("data-version") == "2" and article.get_attribute("data-live") == "true"
    assert quote.splitlines()[0] in article.inner_text()
    assert page.get_by_role("link", name=re.compile("Returns in the shop")).get_attribute("href") == "/desktop/articles/returns/"
    screenshot(page, "02-article-view")

    # an older version is served only as exactly that, clearly marked
    page.goto("/desktop/articles/rueckgabe/?version=1")
    assert page.locator("article.article").get_attribute("data-live") == "false"
    assert "nicht mehr live" in page.locator(".notice-old").inner_text()
    assert "14 Tagen" in page.locator("article.article").inner_text()
    screenshot(page, "02b-article-older-version")
    page.goto("/desktop/articles/rueckgabe/?version=2")

    # report a problem: a flag for the article's owner, with the agent's words
    report = "Seit dem 1. Dezember gilt eine Frist von 60 Tagen."
    page.get_by_label("Was ist falsch oder fehlt?").fill(report)
    page.get_by_role("button", name="Meldung senden").click()
    page.locator(".message-success").wait_for()
    assert "Anna Autorin" in page.locator(".message-success").inner_text()
    flag = Flag.objects.get(article=returns, reason=Flag.Reason.AGENT_REPORT)
    assert (flag.owner, flag.raised_by, flag.summary, flag.evidence, flag.state) == (
        people["author"], people["agent"], report, "2", Flag.State.OPEN)
    assert "gemeldet" in page.locator(".article-badges").inner_text()
    screenshot(page, "03-article-after-report")

    # the language switch
    page.get_by_role("button", name=re.compile("EN")).click()
    page.get_by_role("heading", name="Report a problem").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith("/desktop/articles/rueckgabe/")  # the same page, now in English
    screenshot(page, "03b-article-english")


def test_author_submits_a_new_version_in_the_admin_and_cannot_approve_it(new_page, people, publish):
    author = people["author_approver"]
    article = publish("tarifwechsel", title="Tarif wechseln", body="## Wechsel\n\nSie können einmal pro Monat wechseln.",
                      author=author)
    page = new_page()

    admin_login(page, "arne")
    page.goto(f"/admin/kb/article/{article.pk}/change/")
    page.locator(".EasyMDEContainer .CodeMirror-code").click()  # the Markdown editor over the body's textarea
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("## Wechsel\n\nSie können jederzeit, auch mehrmals im Monat, wechseln.")
    page.fill("input[name=change_note]", "Wechsel jetzt jederzeit möglich")
    page.click("input[name=_continue]")
    page.get_by_role("button", name="v2 zur Freigabe einreichen").click()  # a German browser: a German admin
    page.locator(".messagelist .success", has_text="Version 2 wurde zur Freigabe eingereicht.").wait_for()

    review = Review.objects.get(article=article, status=Review.Status.IN_REVIEW)
    assert review.version.number == 2 and review.version.author == author
    assert page.locator("button[name=approve]").count() == 0  # four-eyes: not for their own version
    assert "Vier-Augen-Prinzip" in page.locator("#workflow").inner_text()
    screenshot(page, "04-admin-article-workflow")

    # forging the approve POST (with a valid CSRF token) is refused by the service
    page.evaluate(
        """([url, review]) => {
            const form = document.createElement("form");
            form.method = "post"; form.action = url;
            for (const [name, value] of [["review", review],
                 ["csrfmiddlewaretoken", document.querySelector("[name=csrfmiddlewaretoken]").value]]) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();
        }""",
        [f"/admin/kb/article/{article.pk}/workflow/approve/", str(review.pk)],
    )
    error = page.locator(".messagelist .error")
    error.wait_for()
    assert "Vier-Augen-Prinzip" in error.inner_text()
    article.refresh_from_db()
    review.refresh_from_db()
    assert article.live_version.number == 1 and review.status == Review.Status.IN_REVIEW
    assert not review.approvals.exists()

    page.goto("/admin/kb/article/")
    page.locator("#result_list").wait_for()
    screenshot(page, "05-admin-article-changelist")


def test_approver_publishes_and_the_agent_finds_the_new_version(new_page, people, publish):
    article = publish("roaming", title="Roaming in der EU", body=ROAMING_BODY)
    version = services.version_create(actor=people["author"], article=article, title=article.title,
                                      body=ROAMING_BODY.replace("10 GB", "25 GB"), base_version=1)
    services.version_submit(actor=people["author"], version=version)
    approver, agent = new_page(), new_page()

    desktop_login(agent, "felix")
    agent.get_by_label("Öffentliches und internes Wissen durchsuchen").press_sequentially("Datenvolumen EU-Ausland", delay=20)
    before = agent.locator('.result[data-slug="roaming"]')
    before.wait_for()
    assert before.get_attribute("data-version") == "1" and "10 GB" in before.inner_text()

    # a question the knowledge base cannot support: a clear refusal, nothing to copy
    agent.get_by_label("Öffentliches und internes Wissen durchsuchen").fill("Wann fährt der nächste Zug nach Graz?")
    agent.keyboard.press("Enter")
    agent.locator('.answer[data-status="refused"]').wait_for()
    assert "Keine belegte Antwort" in agent.locator(".notice-refused").inner_text()
    assert agent.locator("[data-copy]").count() == 0
    screenshot(agent, "07-desktop-refused")
    agent.goto("/desktop/?q=Datenvolumen+EU-Ausland")

    admin_login(approver, "clara")
    approver.goto(f"/admin/kb/article/{article.pk}/change/")
    approver.get_by_role("button", name="Freigeben und veröffentlichen").click()
    approver.locator(".messagelist .success", has_text="Freigegeben und veröffentlicht.").wait_for()
    article.refresh_from_db()
    assert article.live_version.number == 2

    agent.reload()  # the query is in the URL: the results are rendered again, now from the new version
    after = agent.locator('.result[data-slug="roaming"]')
    after.wait_for()
    assert after.get_attribute("data-version") == "2" and "25 GB" in after.inner_text()
    screenshot(agent, "06-desktop-after-publish")
