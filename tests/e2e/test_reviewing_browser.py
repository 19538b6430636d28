"""Reviewing in a real browser (Debian's Chromium through Playwright): the journey of issue #16 item 9,
"approver is notified, reads the word diff and approves", and a version sent back with a comment.

Screenshots at 1440x900 and 390x844 go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from governance import services
from governance.models import Notification, Review
from kb.models import Article
from tests.e2e.conftest import screenshot
from tests.e2e.test_desktop_browser import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

SIM_BODY = (
    "## SIM-Karte ersetzen\n\nEine Ersatz-SIM kostet 6,82 € und kommt innerhalb von drei Werktagen per Post. "
    "Bestellen Sie sie unter Mein Konto > Verträge > SIM-Karte.\n\n"
    "## eSIM\n\nDie eSIM ist kostenlos und sofort aktiv."
)


def _draft_v2(people, publish) -> Article:
    article = publish("sim-ersatz", title="SIM-Karte ersetzen", body=SIM_BODY)
    services.version_create(actor=people["author"], article=article, title=article.title,
                            body=SIM_BODY.replace("6,82 €", "4,99 €"), base_version=1, change_note="Neuer Preis ab Dezember")
    article.refresh_from_db()
    return article


def test_the_author_submits_the_approver_is_notified_reads_the_word_diff_and_approves(new_page, people, publish):
    article = _draft_v2(people, publish)
    author, approver = new_page(**WIDE), new_page(**WIDE)

    # the author submits version 2
    admin_login(author, "anna")
    author.goto(f"/admin/kb/article/{article.pk}/change/")
    author.get_by_role("button", name="v2 zur Freigabe einreichen").click()
    author.locator(".messagelist .success").wait_for()
    assert Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUESTED, recipient=people["approver"],
                                       version__number=2, read_at__isnull=True).count() == 1

    # the approver's start page counts it in the header and lists it
    admin_login(approver, "clara")
    assert approver.locator("#verity-inbox-count").inner_text() == "1 zu prüfen"
    awaiting = approver.locator("#versions-awaiting li")
    assert awaiting.count() == 1
    assert "SIM-Karte ersetzen" in awaiting.inner_text() and "von Anna Autorin, eingereicht am" in awaiting.inner_text()
    assert "Neuer Preis ab Dezember" in awaiting.inner_text()
    screenshot(approver, "18-admin-start-awaiting-review")

    # the inbox: the notification, and the version to decide
    approver.get_by_role("link", name="Mein Posteingang").click()
    approver.wait_for_url("**/admin/inbox/")
    notification = approver.locator("#notifications .verity-notification.is-unread")
    assert notification.locator("a").inner_text() == (
        "Version 2 von „SIM-Karte ersetzen“ (sim-ersatz) wartet auf Ihre Freigabe; eingereicht von Anna Autorin.")
    assert notification.get_by_role("button", name="Als gelesen markieren").is_visible()
    screenshot(approver, "19-admin-inbox")

    # the word diff: only the price is marked
    approver.locator("#versions-awaiting a.verity-inbox-title").click()
    approver.wait_for_url(f"**/admin/kb/article/{article.pk}/diff/?to=2")
    assert approver.locator(".verity-wdiff del.verity-del").all_inner_texts() == ["6,82"]
    assert approver.locator(".verity-wdiff ins.verity-ins").all_inner_texts() == ["4,99"]
    assert "1 Abschnitt geändert, 0 hinzugefügt, 0 entfernt." in approver.locator(".verity-diff-summary").inner_text()
    changed = approver.locator(".verity-wdiff-changed")
    assert changed.count() == 1 and "kommt innerhalb von drei Werktagen per Post" in changed.inner_text()
    screenshot(approver, "20-admin-word-diff-inline")
    approver.locator("#view-side").click()
    approver.locator(".verity-wdiff-side").wait_for()
    old_cell, new_cell = approver.locator(".verity-wdiff-changed .verity-wdiff-old"), approver.locator(".verity-wdiff-changed .verity-wdiff-new")
    assert old_cell.locator("del").inner_text() == "6,82" and new_cell.locator("ins").inner_text() == "4,99"
    assert old_cell.bounding_box()["y"] == new_cell.bounding_box()["y"]  # side by side on a wide screen
    screenshot(approver, "21-admin-word-diff-side-by-side")

    # on a phone the two sides stack and nothing overflows
    phone = new_page(**PHONE)
    admin_login(phone, "clara")
    phone.goto(f"/admin/kb/article/{article.pk}/diff/?to=2&view=side")
    old_box = phone.locator(".verity-wdiff-changed .verity-wdiff-old").bounding_box()
    new_box = phone.locator(".verity-wdiff-changed .verity-wdiff-new").bounding_box()
    assert new_box["y"] > old_box["y"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(phone, "22-admin-word-diff-phone")

    # the approver approves on the diff page and lands in the inbox, with nothing left to review
    approver.fill("#approve-comment", "Preis mit der Preisliste abgeglichen.")
    approver.get_by_role("button", name="Freigeben und veröffentlichen").click()
    approver.wait_for_url("**/admin/inbox/")
    assert approver.locator(".messagelist .success").inner_text() == "Freigegeben und veröffentlicht."
    assert approver.locator("#verity-inbox-count").count() == 0
    assert "Nichts wartet auf Ihre Entscheidung." in approver.locator("#awaiting").inner_text()
    screenshot(approver, "23-admin-inbox-after-approval")
    article.refresh_from_db()
    assert article.live_version.number == 2 and "4,99 €" in article.live_version.body
    assert Review.objects.get(article=article, version__number=2).decided_by == people["approver"]


def test_a_version_sent_back_shows_the_reviewers_comment_to_its_author(new_page, people, publish):
    article = _draft_v2(people, publish)
    services.version_submit(actor=people["author"], version=article.latest_version)
    services.notifications_mark_read(user=people["author"])  # "v1 approved" of the set-up, read long ago
    approver, author = new_page(**WIDE), new_page(**PHONE)

    # the approver requests changes on the diff page
    admin_login(approver, "clara")
    approver.goto(f"/admin/kb/article/{article.pk}/diff/?to=2")
    approver.fill("#changes-comment", "Der neue Preis gilt erst ab 1. Dezember: bitte das Datum nennen.")
    approver.get_by_role("button", name="Änderungen anfordern").click()
    approver.wait_for_url("**/admin/inbox/")
    assert "Änderungen angefordert" in approver.locator(".messagelist .success").inner_text()

    # the author, on a phone, sees one new notification and the comment on the article
    admin_login(author, "anna")
    assert author.locator(".verity-count-new").inner_text() == "1 neu"
    author.goto(f"/admin/kb/article/{article.pk}/change/")
    banner = author.locator("#changes-requested")
    assert "Änderungen an Version 2 angefordert von Clara Freigabe am" in banner.inner_text()
    assert banner.locator("blockquote").inner_text() == "Der neue Preis gilt erst ab 1. Dezember: bitte das Datum nennen."
    box = banner.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the banner fits the phone's width
    assert author.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "the page scrolls sideways"
    screenshot(author, "24-admin-changes-requested-banner-phone")
    author.reload()  # reading the article marked the notification read
    assert author.locator(".verity-count-new").count() == 0
