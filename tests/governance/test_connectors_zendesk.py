"""kb_connect zendesk: a Help Center API export (tests/fixtures/connectors/zendesk) synced into a space."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from django.urls import reverse

from governance import services
from governance.imports import IMPORTER_USERNAME
from governance.models import AuditEvent, ConnectorSource, Flag, ImportRun, ImportRunFile, Review, SourceLink
from kb.models import Article, ArticleVersion, Space
from retrieval.models import Chunk
from tests.governance.conftest import OWNERS

SLUGS = {
    "360012345601": "handy-zurueckschicken-widerruf-und-ruecksendung",
    "360012345612": "tarif-wechseln",
    "360012345612/en": "changing-your-plan",
    "360012345623": "rechnung-verstehen",
    "360012345634": "kulanz-bei-mahngebuehren-intern",
}


def _edit(export: Path, change) -> None:
    path = export / "articles.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data["articles"])
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _article(articles: list[dict], article_id: int) -> dict:
    return next(article for article in articles if article["id"] == article_id)


def _snapshot() -> dict:
    return {
        "articles": sorted(Article.objects.values_list("slug", "live_version_id", "latest_version_id", "tags")),
        "versions": ArticleVersion.objects.count(),
        "reviews": sorted(Review.objects.values_list("pk", "status")),
        "flags": Flag.objects.count(),
        "links": sorted(SourceLink.objects.values_list("external_id", "source_hash", "deleted_at")),
        "audit": Counter(AuditEvent.objects.values_list("event_type", flat=True)),
    }


def test_first_run_imports_articles_sections_labels_and_the_translation(connect, export_copy):
    # when the export is synced into a new space for the first time
    result = connect("zendesk", export_copy("zendesk"), "--space", "hilfe", "--owners", str(OWNERS))

    # then every article and its English translation became a published article of the space
    assert result.error is None, result.err
    assert result.out.splitlines()[0] == (
        "Synced Zendesk Guide: alpenfunk.zendesk.com into the space 'hilfe': 5 created, 0 updated, 0 unchanged, "
        "0 flagged as deleted at the source, 0 failed."
    )
    links = dict(SourceLink.objects.values_list("external_id", "article__slug"))
    assert links == SLUGS
    rows = {
        article.slug: (article.locale, article.audience, article.owner.email, sorted(article.tags), article.live_version.number)
        for article in Article.objects.select_related("owner", "live_version")
    }
    assert rows == {
        "handy-zurueckschicken-widerruf-und-ruecksendung": ("de", "public", "wissen@alpenfunk.example",
                                                            ["gerät", "rücksendung", "widerruf"], 1),
        "tarif-wechseln": ("de", "public", "vertrag@alpenfunk.example", ["tarif", "vertrag"], 1),
        "changing-your-plan": ("en", "public", "vertrag@alpenfunk.example", ["tarif", "vertrag"], 1),
        "rechnung-verstehen": ("de", "public", "wissen@alpenfunk.example", ["rechnung"], 1),
        # restricted to a user segment in Zendesk: internal here; owner named for the page in owners.yaml
        "kulanz-bei-mahngebuehren-intern": ("de", "internal", "forderung@alpenfunk.example", ["kulanz", "mahnung"], 1),
    }
    assert Article.objects.get(slug="changing-your-plan").translation_of.slug == "tarif-wechseln"
    assert set(Article.objects.values_list("space__slug", flat=True)) == {"hilfe"}
    # the HTML became clean Markdown: the script is gone, relative links and images are absolute
    body = Article.objects.get(slug=SLUGS["360012345601"]).live_version.body
    assert body == (
        "Sie haben ein Gerät bei Alpenfunk gekauft und möchten es zurückgeben? Innerhalb von **14 Tagen** nach Erhalt "
        "können Sie den Kauf ohne Angabe von Gründen widerrufen.\n\n"
        "## So funktioniert die Rücksendung\n\n"
        "1.  Melden Sie sich in [Mein Alpenfunk](https://hilfe.alpenfunk.example/hc/de/articles/360012345640) an.\n"
        "2.  Wählen Sie *Bestellungen > Gerät zurücksenden*.\n"
        "3.  Drucken Sie das Retourenlabel aus und kleben Sie es auf das Paket.\n\n"
        "Die Rücksendung ist für Sie kostenlos. Den Kaufpreis erstatten wir innerhalb von 14 Tagen nach Eingang des Geräts.\n\n"
        "![Retourenlabel in Mein Alpenfunk](https://hilfe.alpenfunk.example/hc/article_attachments/360099887766/retourenlabel.png)\n"
    )
    assert "| in einen größeren Tarif | kostenlos | sofort |" in Article.objects.get(slug="tarif-wechseln").live_version.body
    # and the source id, address and time are kept on the article
    metadata = Article.objects.get(slug="tarif-wechseln").metadata
    assert metadata["source"] == {
        "kind": "zendesk", "name": "alpenfunk.zendesk.com", "id": "360012345612",
        "url": "https://hilfe.alpenfunk.example/hc/de/articles/360012345612-Tarif-wechseln", "updated_at": "2026-10-02T08:15:31Z",
    }
    assert metadata["section"] == "Vertrag & Tarife"
    # published as the import identity, audited as kb_import does, searchable when the command returns
    versions = ArticleVersion.objects.select_related("author")
    assert {version.author.username for version in versions} == {IMPORTER_USERNAME}
    imports = AuditEvent.objects.filter(event_type=AuditEvent.Type.ARTICLE_IMPORT)
    assert sorted((event.details["page"], event.details["approved_by"]) for event in imports) == sorted(
        (page, "import") for page in SLUGS)
    assert all(Chunk.objects.filter(version_id=article.live_version_id, is_indexed=True).exists()
               for article in Article.objects.all())
    # and the run is recorded for the source's admin page
    run = ImportRun.objects.get()
    assert (run.source.kind, run.source.space.slug, run.status, run.total) == ("zendesk", "hilfe", ImportRun.Status.DONE, 5)
    assert run.files.filter(outcome=ImportRunFile.Outcome.CREATED).count() == 5


def test_rerun_of_an_unchanged_export_changes_nothing(connect, export_copy):
    export = export_copy("zendesk")
    assert connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS)).error is None
    before = _snapshot()

    # when the same export is synced again (the space is remembered)
    result = connect("zendesk", export)

    # then nothing changed but a second run, all unchanged
    assert result.error is None, result.err
    assert "0 created, 0 updated, 5 unchanged, 0 flagged as deleted at the source, 0 failed." in result.out
    assert _snapshot() == before
    run = ImportRun.objects.order_by("-started_at").first()
    assert list(run.files.values_list("outcome", flat=True)) == ["unchanged"] * 5


def test_a_changed_article_becomes_a_pending_version_with_its_diff(connect, export_copy, client, approver):
    export = export_copy("zendesk")
    connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))
    tarif = Article.objects.get(slug="tarif-wechseln")

    # given Zendesk now says "zweimal pro Monat"
    def twice(articles):
        article = _article(articles, 360012345612)
        article["body"] = article["body"].replace("einmal pro Monat", "zweimal pro Monat")
        article["updated_at"] = "2026-11-20T07:00:00Z"

    _edit(export, twice)

    # when the export is synced again
    result = connect("zendesk", export)

    # then the change is a new version in review, by the import identity; the live version is still served
    assert result.error is None, result.err
    assert "0 created, 1 updated, 4 unchanged, 0 flagged as deleted at the source, 0 failed." in result.out
    assert "awaiting review: tarif-wechseln" in result.out
    tarif.refresh_from_db()
    assert (tarif.live_version.number, tarif.latest_version.number) == (1, 2)
    assert "zweimal pro Monat" in tarif.latest_version.body and "einmal pro Monat" in tarif.live_version.body
    review = Review.objects.get(article=tarif, status=Review.Status.IN_REVIEW)
    assert (review.version_id, review.submitted_by.username) == (tarif.latest_version_id, IMPORTER_USERNAME)
    assert tarif.latest_version.change_note == "Changed in Zendesk Guide: alpenfunk.zendesk.com (updated 2026-11-20T07:00:00Z)"
    # and the admin's compare view shows the diff
    client.force_login(approver)
    diff = client.get(reverse("admin:kb_article_diff", args=[tarif.pk]), {"from": 1, "to": 2})
    assert diff.status_code == 200
    rows = [row for row in diff.context["rows"] if row.kind != "same"]
    assert [row.kind for row in rows] == ["changed"]
    assert '<del class="verity-del">einmal</del> <ins class="verity-ins">zweimal</ins> pro Monat' in rows[0].inline
    # and an approver publishes it like any other version (four-eyes: the import identity wrote it)
    services.version_approve(actor=approver, review=review)
    tarif.refresh_from_db()
    assert tarif.live_version.number == 2


def test_a_deleted_article_is_flagged_for_its_owner_never_removed(connect, export_copy):
    export = export_copy("zendesk")
    connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))
    rechnung = Article.objects.get(slug="rechnung-verstehen")

    # when the article is no longer in the export
    _edit(export, lambda articles: articles.remove(_article(articles, 360012345623)))
    result = connect("zendesk", export)

    # then it is flagged with a reason, for its owner, and still served as it was
    assert result.error is None, result.err
    assert "0 created, 0 updated, 4 unchanged, 1 flagged as deleted at the source, 0 failed." in result.out
    assert "flagged: rechnung-verstehen" in result.out
    flag = Flag.objects.get()
    assert (flag.article_id, flag.reason, flag.state, flag.owner.email) == (
        rechnung.pk, Flag.Reason.SOURCE_DELETED, Flag.State.OPEN, "wissen@alpenfunk.example")
    assert flag.summary.startswith("No longer in Zendesk Guide: alpenfunk.zendesk.com (page 360012345623, sync of ")
    assert flag.evidence == "https://hilfe.alpenfunk.example/hc/de/articles/360012345623-Rechnung-verstehen"
    rechnung.refresh_from_db()
    assert rechnung.live_version.number == 1 and Article.objects.count() == 5
    assert SourceLink.objects.get(article=rechnung).deleted_at is not None

    # when synced again: no second flag
    assert "0 flagged as deleted" in connect("zendesk", export).out
    assert Flag.objects.count() == 1

    # when the article is back at the source, the flag is resolved
    export_original = json.loads((Path(__file__).parents[1] / "fixtures/connectors/zendesk/articles.json").read_text())
    (export / "articles.json").write_text(json.dumps(export_original, ensure_ascii=False), encoding="utf-8")
    result = connect("zendesk", export)
    assert "1 updated, 4 unchanged" in result.out
    flag.refresh_from_db()
    assert flag.state == Flag.State.RESOLVED and flag.resolution_note.startswith("Back in Zendesk Guide")
    assert SourceLink.objects.get(article=rechnung).deleted_at is None


def test_a_broken_record_is_named_and_nothing_of_it_is_stored(connect, export_copy):
    export = export_copy("zendesk")

    # given one article without a title and one with a body that is not a string
    def break_two(articles):
        _article(articles, 360012345623)["title"] = ""
        _article(articles, 360012345601)["body"] = None

    _edit(export, break_two)

    # when
    result = connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))

    # then the command fails naming file, record and field; the good articles landed, nothing of the broken ones
    assert result.error == "2 page(s) were not synced; nothing of them was stored."
    assert result.err.splitlines() == [
        "error: articles.json: article 360012345601: 'body': the body is missing or empty",
        "error: articles.json: article 360012345623: 'title': the title is missing or empty",
    ]
    assert sorted(Article.objects.values_list("slug", flat=True)) == [
        "changing-your-plan", "kulanz-bei-mahngebuehren-intern", "tarif-wechseln"]
    assert set(SourceLink.objects.values_list("external_id", flat=True)) == {"360012345612", "360012345612/en", "360012345634"}
    failed = ImportRunFile.objects.filter(outcome=ImportRunFile.Outcome.FAILED).order_by("path")
    assert [(row.path, row.error_key) for row in failed] == [
        ("articles.json: article 360012345601", "body"), ("articles.json: article 360012345623", "title")]


def test_an_unreadable_file_stops_the_run_before_anything_is_written(connect, export_copy):
    export = export_copy("zendesk")
    (export / "translations" / "360012345612.json").write_text('{"translations": [', encoding="utf-8")

    result = connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))

    assert result.error == (
        "translations/360012345612.json: not valid JSON (line 1, column 19: Expecting value) (nothing was synced)"
    )
    assert (Article.objects.count(), ImportRun.objects.count(), ConnectorSource.objects.count(), Space.objects.count()) == (0, 0, 0, 0)


def test_new_pages_without_an_owner_stop_the_run_before_anything_is_written(connect, export_copy):
    result = connect("zendesk", export_copy("zendesk"), "--space", "hilfe")

    assert result.error.startswith("5 new page(s) have no owner (first: articles.json: article 360012345601).")
    assert (Article.objects.count(), ImportRun.objects.count(), ConnectorSource.objects.count()) == (0, 0, 0)


def test_the_space_default_owner_owns_what_the_mapping_does_not_name(connect, export_copy, approver):
    Space.objects.create(slug="hilfe", name="Hilfe", default_owner=approver)

    result = connect("zendesk", export_copy("zendesk"), "--space", "hilfe")

    assert result.error is None, result.err
    assert set(Article.objects.values_list("owner__username", flat=True)) == {approver.username}


def test_a_source_stays_with_its_space(connect, export_copy):
    export = export_copy("zendesk")
    connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))

    result = connect("zendesk", export, "--space", "vertrag")

    assert result.error == "Zendesk Guide: alpenfunk.zendesk.com syncs into the space 'hilfe', not 'vertrag'. Nothing was synced."
    assert ImportRun.objects.count() == 1


def test_in_a_space_that_requires_extra_approval_nothing_is_served_before_approval(connect, export_copy, approver, approver2):
    # given the target space is a sensitive one
    Space.objects.create(slug="hilfe", name="Hilfe", requires_extra_approval=True)

    result = connect("zendesk", export_copy("zendesk"), "--space", "hilfe", "--owners", str(OWNERS))

    # then every imported article waits for two approvals, nothing is live or indexed
    assert result.error is None, result.err
    assert not Article.objects.filter(live_version__isnull=False).exists()
    assert not Chunk.objects.exists()
    reviews = Review.objects.filter(status=Review.Status.IN_REVIEW)
    assert (reviews.count(), set(reviews.values_list("required_approvals", flat=True))) == (5, {2})
    assert sorted(result.out.split("awaiting review: ")[1].splitlines()[0].split(", ")) == sorted(SLUGS.values())
    review = reviews.get(article__slug="tarif-wechseln")
    services.version_approve(actor=approver, review=review)
    services.version_approve(actor=approver2, review=review)
    assert Article.objects.get(slug="tarif-wechseln").live_version.number == 1


def test_a_draft_at_the_source_is_imported_for_review(connect, export_copy):
    export = export_copy("zendesk")
    _edit(export, lambda articles: _article(articles, 360012345623).update(draft=True))

    connect("zendesk", export, "--space", "hilfe", "--owners", str(OWNERS))

    draft = Article.objects.get(slug="rechnung-verstehen")
    assert draft.live_version_id is None
    assert Review.objects.get(article=draft).status == Review.Status.IN_REVIEW
    assert Article.objects.filter(live_version__isnull=False).count() == 4


def test_as_a_person_everything_is_submitted_for_review_by_them(connect, export_copy, author):
    result = connect("zendesk", export_copy("zendesk"), "--space", "hilfe", "--owners", str(OWNERS), "--user", author.username)

    assert result.error is None, result.err
    assert not Article.objects.filter(live_version__isnull=False).exists()
    assert set(Review.objects.values_list("submitted_by__username", "status")) == {(author.username, Review.Status.IN_REVIEW)}
