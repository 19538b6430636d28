"""An agent's report on the desktop: agents see "reported" at once, the article does not turn red
(state `flagged`) for anyone until its owner confirms the report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance import services
from governance.models import Flag
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
