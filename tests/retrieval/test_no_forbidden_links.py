"""Nobody sees a link that answers 403 (issue #16 item 8), and no page a link leads to fails.

Each role signs in and follows every link of the admin and the desktop it is shown (same site, GET
only, breadth first, up to a bound), on a knowledge base with what owners meet in a working day:
public and internal articles, a content block, a version in review, a change with its flags, answers
with feedback and a refusal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest

from governance import services
from governance.models import Flag
from kb.models import Article
from retrieval.answers.feedback import feedback_create
from retrieval.answers.pipeline import answer_question
from retrieval.impact.assessment import change_event_run

MAX_PAGES = 160
HREF = re.compile(r'href="([^"]+)"')
SKIPPED = ("/admin/logout/", "/accounts/logout/", "/static/", "/api/", "/admin/jsi18n/")


@pytest.fixture
def working_day(publish, author, approver):
    roaming = publish("roaming", title="Roaming in der EU",
                      body="## Roaming\n\nIn der EU surfen Sie zu Inlandskonditionen. Das Datenvolumen ist auf 10 GB begrenzt.")
    publish("kulanz", title="Kulanzrichtlinie", audience=Article.Audience.INTERNAL,
            body="## Kulanz\n\nAgents dürfen bis 20 € Kulanz gewähren.")
    publish("hotline", title="Hotline", body="0800 222 3611", kind=Article.Kind.BLOCK)
    publish("sperren", title="Karte sperren", body="## Sperren\n\nRufen Sie {{ block:hotline }} an.")
    version = services.version_create(actor=author, article=roaming, title=roaming.title, base_version=1,
                                      body=roaming.latest_version.body.replace("10 GB", "25 GB"), change_note="25 GB")
    services.version_submit(actor=author, version=version)
    event = services.change_event_create(
        kind="policy", title="Roaming-Volumen 25 GB", effective_date=dt.date(2027, 3, 1), author=approver, assess=False,
        description="Ab dem 1. März 2027 gilt im EU-Ausland ein Datenvolumen von 25 GB statt 10 GB.")
    change_event_run(event.pk)
    answered = answer_question(question="Wie viel Datenvolumen habe ich im EU-Ausland?", audience="public", locale="de")
    feedback_create(query_id=answered.query_id, helpful=False, reason="outdated", comment="Stimmt ab März nicht mehr")
    answer_question(question="Wie steht der Aktienkurs heute?", audience="public", locale="de")
    assert Flag.objects.exists()


def _crawl(client, start: list[str]) -> dict[str, tuple[int, str]]:
    """Each page reached: its status and the page that linked to it."""
    seen: dict[str, tuple[int, str]] = {}
    queue = deque((url, "") for url in start)
    while queue and len(seen) < MAX_PAGES:
        url, referrer = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = (response.status_code, referrer)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            link, _ = urldefrag(unescape(href))
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/") or link.startswith(SKIPPED):
                continue
            if link not in seen:
                queue.append((link, url))
    return seen


@pytest.mark.parametrize(("username", "start"), [
    ("anna", ["/admin/"]), ("clara", ["/admin/"]), ("erika", ["/admin/"]), ("felix", ["/desktop/", "/desktop/?q=Datenvolumen+EU-Ausland", "/desktop/?q=Kulanz", "/desktop/articles/roaming/"]),
])
def test_no_link_shown_to_a_role_answers_403_or_fails(client, working_day, admin_user_role, agent, username, start):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    if username == "felix":  # agents use the desktop only (`manage.py up` makes them no staff)
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    client.force_login(user)

    pages = _crawl(client, start)

    assert len(pages) > len(start)
    refused = {url: (status, referrer) for url, (status, referrer) in pages.items() if status == 403 or status >= 500}
    assert refused == {}
