"""A content block changes once and every article using it follows, in a real browser (Debian's Chromium
through Playwright): issue #16 item 9's journey "a block change updates its articles".

The approver opens the block in the admin, sees the articles using it, reads the word diff and approves;
the agent's desktop then shows the new text in both articles and in search. Screenshots (1440x900) go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from governance import services
from kb.models import Article
from tests.e2e.conftest import screenshot
from tests.e2e.test_desktop_browser import admin_login, desktop_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"viewport": {"width": 1440, "height": 900}}
USES = {
    "sim-karte-sperren": ("SIM-Karte sperren", "Sperren Sie Ihre SIM-Karte rund um die Uhr unter der Sperr-Hotline {{ block:sperr-hotline }}."),
    "handy-verloren": ("Handy verloren", "Ist Ihr Handy weg, lassen Sie die Karte sofort unter {{ block:sperr-hotline }} sperren."),
}


def test_a_block_change_updates_every_article_using_it(new_page, people, publish):
    block = publish("sperr-hotline", title="Sperr-Hotline", body="0800 222 3611", kind=Article.Kind.BLOCK)
    for slug, (title, text) in USES.items():
        publish(slug, title=title, body=f"## {title}\n\n{text}")
    agent, approver = new_page(**WIDE), new_page(**WIDE)

    # the agent reads the block's text inside both articles
    desktop_login(agent, "felix")
    for slug in USES:
        agent.goto(f"/desktop/articles/{slug}/")
        text = agent.locator("main").inner_text()
        assert "0800 222 3611" in text and "block:" not in text

    # an author writes the block's new number once; the approver sees where it is used and approves it
    version = services.version_create(actor=people["author"], article=block, title=block.title, body="0800 333 4700",
                                      base_version=1, change_note="Neue Sperr-Hotline")
    services.version_submit(actor=people["author"], version=version)
    admin_login(approver, "clara")
    approver.goto(f"/admin/kb/article/{block.pk}/change/")
    uses = approver.locator("#block-uses").inner_text()
    assert all(slug in uses for slug in USES)
    screenshot(approver, "30-admin-block-used-in")
    approver.locator("#review-diff-link").click()
    marked = " ".join(approver.locator("ins").all_inner_texts())
    assert "333" in marked and "3611" not in marked  # only the changed words are marked
    screenshot(approver, "31-admin-block-word-diff")
    approver.locator("button[name=approve]").click()
    approver.locator(".messagelist .success").wait_for()
    screenshot(approver, "32-admin-block-approved")

    # every article using it now shows the new number, on its page and in search
    for slug in USES:
        agent.goto(f"/desktop/articles/{slug}/")
        text = agent.locator("main").inner_text()
        assert "0800 333 4700" in text and "0800 222 3611" not in text
    agent.goto("/desktop/?q=Sperr-Hotline+SIM-Karte+sperren")
    result = agent.locator('.result[data-slug="sim-karte-sperren"]')
    result.wait_for()
    assert "0800 333 4700" in result.inner_text()
    screenshot(agent, "33-desktop-block-followed")
