"""What agents see of governance on the desktop: an agent's report shows as "reported" at once, and the
article does not turn red (state `flagged`) for anyone until its owner confirms it; a version approved
to go live later is announced with its date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from governance import services
from governance.models import Flag
from retrieval.answers.serving import flag_warnings
from retrieval.apikeys import apikey_create
from tests.e2e.conftest import RETURN_BODY

pytestmark = pytest.mark.django_db
FRAGMENT = {"HTTP_X_VERITY_FRAGMENT": "1"}


def _badges(html: str) -> str:
    start = html.index('class="article-badges"')
    return html[start:html.index("</p>", start)]


def test_a_report_shows_as_reported_not_flagged_until_the_owner_confirms(client, people, publish):
    publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    client.force_login(people["agent"])
    _, key = apikey_create(name="helpcenter", audience="public")

    client.post("/desktop/articles/rueckgabe/report/", {"text": "Frist ist jetzt 60 Tage.", "version": "1"})

    page = client.get("/desktop/articles/rueckgabe/").content.decode()
    assert 'badge-current' in _badges(page) and 'badge-reported' in _badges(page) and "badge-flagged" not in _badges(page)
    assert "gemeldet, unbestätigt" in _badges(page)
    results = client.get(reverse("desktop:results"), {"q": "Geräte zurückgeben"}, **FRAGMENT).content.decode()
    assert 'class="badge badge-current"' in results and 'class="badge badge-reported"' in results
    api = client.get("/api/v1/search", {"q": "Geräte zurückgeben"}, HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert [(item["slug"], item["state"]) for item in api["results"]] == [("rueckgabe", "current")]

    services.flag_confirm(actor=people["author"], flag=Flag.objects.get(reason=Flag.Reason.AGENT_REPORT))

    page = client.get("/desktop/articles/rueckgabe/").content.decode()
    assert "badge-flagged" in _badges(page) and "badge-reported" not in _badges(page)
    api = client.get("/api/v1/search", {"q": "Geräte zurückgeben"}, HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert [(item["slug"], item["state"]) for item in api["results"]] == [("rueckgabe", "flagged")]


def test_internal_answers_warn_of_an_unconfirmed_report_as_such(people, publish):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    flag = services.flag_raise(article=article, reason=Flag.Reason.AGENT_REPORT, summary="Frist ist jetzt 60 Tage.",
                               raised_by=people["agent"])

    unconfirmed = flag_warnings({article.pk})[article.pk]
    services.flag_confirm(actor=people["author"], flag=flag)
    confirmed = flag_warnings({article.pk})[article.pk]

    assert unconfirmed == [_("Reported by an agent, not yet confirmed by the owner: %(summary)s")
                           % {"summary": "Frist ist jetzt 60 Tage."}]
    assert confirmed == [f"{flag.get_reason_display()}: Frist ist jetzt 60 Tage."]


def test_agents_see_when_an_approved_version_goes_live(client, people, publish):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    version = services.version_create(actor=people["author"], article=article, title=article.title,
                                      body=RETURN_BODY.replace("14 Tagen", "30 Tagen"), base_version=1)
    go_live = timezone.now() + dt.timedelta(days=3)
    services.version_approve(actor=people["approver"], review=services.version_submit(actor=people["author"], version=version),
                             go_live_at=go_live)
    client.force_login(people["agent"])

    page = client.get("/desktop/articles/rueckgabe/").content.decode()

    expected = _("new version from %(when)s") % {"when": date_format(timezone.localtime(go_live), "SHORT_DATETIME_FORMAT")}
    assert 'class="badge badge-scheduled"' in _badges(page) and expected in _badges(page)
    assert "14 Tagen" in page and "30 Tagen" not in page
