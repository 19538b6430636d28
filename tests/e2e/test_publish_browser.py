"""Publishing on the effective date and triage, in a real browser (Debian's Chromium through Playwright).

The journey of issue #16 item 9, "scheduled publish goes live at its time": an approver approves a new
version with a go-live time, the admin says when it goes live, agents are served the old text until
the beat task runs after that time, then the new one. Screenshots (1440x900) go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from governance import services
from governance.models import AuditEvent, Flag, Review
from governance.tasks import publications_publish_due
from kb.models import Article
from tests.conftest import _user
from tests.e2e.conftest import ROAMING_BODY, screenshot
from tests.e2e.test_desktop_browser import admin_login, desktop_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"viewport": {"width": 1440, "height": 900}}


def _result(page, slug: str):
    result = page.locator(f'.result[data-slug="{slug}"]')
    result.wait_for()
    return result


def test_a_scheduled_publication_goes_live_at_its_time(new_page, people, publish):
    article = publish("roaming", title="Roaming in der EU", body=ROAMING_BODY)
    version = services.version_create(actor=people["author"], article=article, title=article.title,
                                      body=ROAMING_BODY.replace("10 GB", "25 GB"), base_version=1,
                                      change_note="Ab dem Stichtag 25 GB")
    services.version_submit(actor=people["author"], version=version)
    approver, agent = new_page(**WIDE), new_page(**WIDE)
    go_live = timezone.localtime(timezone.now() + dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    when = f"{go_live:%Y-%m-%d %H:%M}"

    # the approver approves version 2 to go live in half an hour
    admin_login(approver, "clara")
    approver.goto(f"/admin/kb/article/{article.pk}/change/")
    approver.locator('input[name=go_live][value="at"]').check()
    approver.fill("#go-live-at", f"{go_live:%Y-%m-%dT%H:%M}")
    approver.fill("#approve-comment", "Gilt ab dem Stichtag.")
    screenshot(approver, "09-admin-approve-with-go-live")
    approver.locator("button[name=approve]").click()
    approver.locator(".messagelist .success").wait_for()
    assert f"Version 2 geht am {when} live" in approver.locator(".messagelist .success").inner_text()
    assert f"Version 2 geht am {when} live" in approver.locator("#scheduled h2").inner_text()
    assert f"v2 geht am {when} live" in approver.locator("#workflow").inner_text()
    review = Review.objects.get(article=article, version__number=2)
    assert (review.status, review.go_live_at) == (Review.Status.SCHEDULED, go_live)
    assert Article.objects.get(pk=article.pk).live_version.number == 1
    screenshot(approver, "10-admin-article-scheduled")

    approver.goto("/admin/kb/article/?state=scheduled")
    row = approver.locator("#result_list tbody tr")
    assert row.count() == 1 and f"v2 geht am {when} live" in row.inner_text()
    screenshot(approver, "11-admin-articles-scheduled")

    # until then the agent is served version 1
    desktop_login(agent, "felix")
    agent.goto("/desktop/?q=Datenvolumen+EU-Ausland")
    before = _result(agent, "roaming")
    assert before.get_attribute("data-version") == "1" and "10 GB" in before.inner_text()

    # the beat task runs a minute after the go-live time
    with time_machine.travel(go_live + dt.timedelta(minutes=1), tick=False):
        assert publications_publish_due.delay().get() == [review.pk]

    agent.reload()
    after = _result(agent, "roaming")
    assert after.get_attribute("data-version") == "2" and "25 GB" in after.inner_text()
    agent.goto("/desktop/articles/roaming/")
    assert "25 GB" in agent.locator("article.article").inner_text()
    assert agent.locator("article.article").get_attribute("data-version") == "2"
    screenshot(agent, "12-desktop-after-scheduled-publication")

    approver.goto(f"/admin/kb/article/{article.pk}/change/")
    assert approver.locator("#scheduled").count() == 0
    assert "live v2" in approver.locator("#workflow").inner_text()
    published = AuditEvent.objects.filter(event_type=AuditEvent.Type.VERSION_PUBLISH, version=review.version).get()
    assert (published.actor_label, dt.datetime.fromisoformat(published.details["go_live_at"])) == ("system", go_live)


def test_a_knowledge_admin_triages_flags_in_bulk_and_unpublishes_in_an_emergency(new_page, people, publish):
    admin = _user("erika", "knowledge admins", first_name="Erika", last_name="Wissensadmin")
    roaming = publish("roaming", title="Roaming in der EU", body=ROAMING_BODY)
    other = publish("roaming-preise", title="Roaming-Preise", body="## Preise\n\nIm Tarif S sind 12 GB im EU-Ausland enthalten.")
    flags = [services.flag_raise(article=roaming, reason=Flag.Reason.AGENT_REPORT, summary=text, raised_by=people["agent"])
             for text in ("10 GB stimmt nicht mehr", "Tarif S heißt jetzt S+")]
    contradiction = services.flag_raise(article=roaming, reason=Flag.Reason.CONTRADICTION, related_article=other,
                                        summary="Widerspricht 'roaming-preise' (Roaming-Preise): hier 10 GB, dort 12 GB.")
    page = new_page(**WIDE)
    admin_login(page, "erika")

    # an agent's report waits for confirmation; a contradiction links the other article
    page.goto(f"/admin/governance/flag/{flags[0].pk}/change/")
    page.locator("#confirm-report").wait_for()
    screenshot(page, "13-admin-flag-report-to-confirm")
    page.goto(f"/admin/governance/flag/{contradiction.pk}/change/")
    assert page.get_by_role("link", name="roaming-preise").get_attribute("href") == f"/admin/kb/article/{other.pk}/change/"

    # both reports dismissed with one reason, on an intermediate page
    page.goto("/admin/governance/flag/?reason__exact=agent_report")
    screenshot(page, "14-admin-flag-list")
    for flag in flags:
        page.locator(f'input[name=_selected_action][value="{flag.pk}"]').check()
    page.select_option("select[name=action]", "dismiss_selected")
    page.locator("button[name=index]").click()
    page.locator("#id_note").wait_for()
    screenshot(page, "15-admin-flags-dismiss-reason")
    page.fill("#id_note", "Geprüft: Tarif S hat weiterhin 10 GB.")
    page.locator("button[name=close-flags]").click()
    page.locator(".messagelist .success").wait_for()
    assert "2 Meldungen verworfen" in page.locator(".messagelist .success").inner_text()
    assert set(Flag.objects.filter(pk__in=[f.pk for f in flags]).values_list("state", flat=True)) == {Flag.State.DISMISSED}

    # the emergency unpublish asks for a reason, then takes the article out of service at once
    page.goto(f"/admin/kb/article/{roaming.pk}/change/")
    page.locator("#unpublish summary").click()
    screenshot(page, "16-admin-emergency-unpublish")
    page.fill("#unpublish-reason", "Falsche Roaming-Konditionen, rechtlich geprüft.")
    page.locator("button[name=unpublish]").click()
    page.locator("#withdrawn").wait_for()
    assert "Falsche Roaming-Konditionen" in page.locator("#withdrawn").inner_text()
    assert page.locator("#workflow .verity-badge-withdrawn").count() == 1
    assert page.locator("#workflow .verity-badge-draft").count() == 0  # the withdrawn version is no draft
    assert Article.objects.get(pk=roaming.pk).live_version_id is None
    unpublished = AuditEvent.objects.get(event_type=AuditEvent.Type.VERSION_UNPUBLISH)
    assert (unpublished.actor, unpublished.details["reason"]) == (admin, "Falsche Roaming-Konditionen, rechtlich geprüft.")
    screenshot(page, "17-admin-article-withdrawn")
