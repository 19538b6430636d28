"""The admin page of a connected source lists its runs with their progress, like import runs."""

from __future__ import annotations

from django.urls import reverse

from governance.models import ConnectorSource, ImportRun
from tests.governance.conftest import OWNERS


def test_the_source_page_lists_its_runs_with_progress(connect, export_copy, client, admin_user_role):
    # given a first sync and a re-run of the Zendesk export
    export = export_copy("zendesk")
    connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))
    connect("zendesk", export)
    source = ConnectorSource.objects.get()
    first, second = ImportRun.objects.order_by("started_at")
    client.force_login(admin_user_role)  # a knowledge admin

    # when the sources list and the source's page are opened
    listing = client.get(reverse("admin:governance_connectorsource_changelist"))
    page = client.get(reverse("admin:governance_connectorsource_change", args=[source.pk]))

    # then the source is listed with its last run, and its page lists both runs with progress and outcome
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "alpenfunk.zendesk.com" in html and "Fertig · 5/5" in html
    assert page.status_code == 200
    html = page.content.decode()
    for run in (first, second):
        assert reverse("admin:governance_importrun_change", args=[run.pk]) in html
    assert html.count("5/5") == 2
    assert "5 angelegt" in html and "5 unverändert" in html
    # and each run's page shows what happened to every article
    run_page = client.get(reverse("admin:governance_importrun_change", args=[first.pk]))
    assert run_page.status_code == 200
    assert "articles.json: article 360012345612" in run_page.content.decode()
    runs = client.get(reverse("admin:governance_importrun_changelist"), {"source__kind": "zendesk"})
    assert len(runs.context["cl"].result_list) == 2
