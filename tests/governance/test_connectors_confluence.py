"""kb_connect confluence: a space export in storage format (tests/fixtures/connectors/confluence)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from governance.models import ConnectorSource, Flag, ImportRun, ImportRunFile, Review, SourceLink
from kb.models import Article, ArticleVersion
from tests.governance.conftest import OWNERS

PAGES = {
    "65538": "kundenservice-wissen",
    "65541": "stoerungen-im-mobilfunknetz",
    "65544": "ruecksendungen-bearbeiten",
    "65547": "retourenlabel-manuell-erstellen",
}


def _edit(export: Path, old: str, new: str) -> None:
    path = export / "entities.xml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_first_run_imports_the_current_pages_with_their_tree(connect, export_copy):
    result = connect("confluence", export_copy("confluence"), "--space", "kundenservice", "--owners", str(OWNERS))

    assert result.error is None, result.err
    assert "Synced Confluence space: KS into the space 'kundenservice': 4 created, 0 updated, 0 unchanged" in result.out
    # current pages only: not the historical version, the deleted page or the blog post
    assert dict(SourceLink.objects.values_list("external_id", "article__slug")) == PAGES
    rows = {a.slug: (a.locale, a.audience, a.owner.email, a.tags, a.metadata["confluence_path"])
            for a in Article.objects.select_related("owner")}
    assert rows == {
        "kundenservice-wissen": ("de", "internal", "wissen@alpenfunk.example", [], "Kundenservice-Wissen"),
        # owner by creator (t.brandl)
        "stoerungen-im-mobilfunknetz": ("de", "internal", "netz@alpenfunk.example", ["stoerung"],
                                        "Kundenservice-Wissen / Störungen im Mobilfunknetz"),
        "ruecksendungen-bearbeiten": ("de", "internal", "wissen@alpenfunk.example", ["ruecksendung"],
                                      "Kundenservice-Wissen / Rücksendungen bearbeiten"),
        # owner by its ancestor page, which is more specific than its creator
        "retourenlabel-manuell-erstellen": ("de", "internal", "logistik@alpenfunk.example", ["ruecksendung"],
                                            "Kundenservice-Wissen / Rücksendungen bearbeiten / Retourenlabel manuell erstellen"),
    }
    assert all(article.live_version_id for article in Article.objects.all())
    # storage format became Markdown: the current text (14 days, not the historical 7), panels as quotes, tables
    body = Article.objects.get(slug="ruecksendungen-bearbeiten").live_version.body
    assert body == (
        "Geräte können innerhalb von **14 Tagen** nach Erhalt ohne Angabe von Gründen zurückgegeben werden. "
        "Danach gilt die Gewährleistung.\n\n"
        "| Fall | Vorgehen |\n| --- | --- |\n"
        "| Widerruf innerhalb der Frist | Retourenlabel senden, Erstattung nach Wareneingang |\n"
        "| Defekt nach Ablauf der Frist | Reparaturauftrag anlegen |\n\n"
        "> **Achtung:**\n>\n> Versprechen Sie keine Erstattung vor Eingang des Geräts.\n\n"
        "Das Label erstellen Sie wie unter Retourenlabel manuell erstellen beschrieben.\n"
    )
    stoerung = Article.objects.get(slug="stoerungen-im-mobilfunknetz").live_version.body
    assert "> **Info: Großstörung**" in stoerung
    assert "```\nOrt (PLZ): \nSeit wann: \nGerät und Betriebssystem: \nNeustart gemacht: ja / nein\n```" in stoerung
    # attachments and what could not be converted are skipped with a note, on the run's row of the page
    notes = dict(ImportRunFile.objects.values_list("path", "note"))
    assert notes["entities.xml: page 65547 'Retourenlabel manuell erstellen'"] == (
        "1 attachment(s) not imported: Retourenlabel-Vorlage.pdf")
    assert notes["entities.xml: page 65541 'Störungen im Mobilfunknetz'"] == (
        "1 attachment(s) not imported: Router-Reset.png; macro 'jira' not imported; "
        "image 'Router-Reset.png' not imported (an attachment)")
    assert "note: 1 blog post(s) not imported: only pages are" in result.out
    assert "note: 2 attachment file(s) not imported (attachments/): each page notes its own" in result.out


def test_the_zip_confluence_writes_reads_the_same(connect, export_copy, tmp_path):
    folder = export_copy("confluence")
    archive = tmp_path / "Confluence-space-export-KS.xml.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(folder).as_posix())

    result = connect("confluence", archive, "--space", "kundenservice", "--owners", str(OWNERS))

    assert result.error is None, result.err
    assert dict(SourceLink.objects.values_list("external_id", "article__slug")) == PAGES


def test_rerun_unchanged_changes_nothing(connect, export_copy):
    export = export_copy("confluence")
    connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))
    versions = list(ArticleVersion.objects.order_by("pk").values_list("pk", "number"))

    result = connect("confluence", export)

    assert "0 created, 0 updated, 4 unchanged, 0 flagged as deleted at the source, 0 failed." in result.out
    assert list(ArticleVersion.objects.order_by("pk").values_list("pk", "number")) == versions
    assert not Review.objects.exists() and not Flag.objects.exists()


def test_a_changed_page_becomes_a_pending_version(connect, export_copy):
    export = export_copy("confluence")
    connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))

    _edit(export, "innerhalb von <strong>14 Tagen</strong> nach Erhalt", "innerhalb von <strong>30 Tagen</strong> nach Erhalt")
    result = connect("confluence", export)

    assert "0 created, 1 updated, 3 unchanged" in result.out
    article = Article.objects.get(slug="ruecksendungen-bearbeiten")
    assert (article.live_version.number, article.latest_version.number) == (1, 2)
    assert "**30 Tagen**" in article.latest_version.body and "**14 Tagen**" in article.live_version.body
    assert Review.objects.get(status=Review.Status.IN_REVIEW).version_id == article.latest_version_id

    # a further change at the source replaces the earlier sync's pending version
    _edit(export, "innerhalb von <strong>30 Tagen</strong> nach Erhalt", "innerhalb von <strong>31 Tagen</strong> nach Erhalt")
    connect("confluence", export)
    article.refresh_from_db()
    assert article.latest_version.number == 3 and "**31 Tagen**" in article.latest_version.body
    assert sorted(Review.objects.filter(article=article).values_list("version__number", "status")) == [
        (2, Review.Status.WITHDRAWN), (3, Review.Status.IN_REVIEW)]


def test_a_version_in_review_by_a_person_is_left_alone(connect, export_copy, author):
    from governance import services

    export = export_copy("confluence")
    connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))
    article = Article.objects.get(slug="ruecksendungen-bearbeiten")
    edit = services.version_create(actor=author, article=article, title=article.title, body="Eigene Fassung.",
                                   base_version=1)
    services.version_submit(actor=author, version=edit)

    _edit(export, "innerhalb von <strong>14 Tagen</strong> nach Erhalt", "innerhalb von <strong>30 Tagen</strong> nach Erhalt")
    result = connect("confluence", export)

    assert result.err.splitlines() == [
        "error: entities.xml: page 65544 'Rücksendungen bearbeiten': 'ruecksendungen-bearbeiten' has version 2 in review "
        "(submitted by anna); decide or withdraw it, then sync again"]
    article.refresh_from_db()
    assert article.latest_version.number == 2 and article.latest_version.author == author


def test_a_page_deleted_in_confluence_is_flagged(connect, export_copy):
    export = export_copy("confluence")
    connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))

    # the page was moved to the trash: its status in the next export
    _edit(export, '<property name="title"><![CDATA[Retourenlabel manuell erstellen]]></property>\n'
                  '<property name="lowerTitle"><![CDATA[retourenlabel manuell erstellen]]></property>',
          '<property name="title"><![CDATA[Retourenlabel manuell erstellen]]></property>\n'
          '<property name="contentStatus"><![CDATA[deleted]]></property>')
    _edit(export, '<property name="creationDate">2024-03-12 08:05:00.000</property>\n'
                  '<property name="lastModificationDate">2026-06-22 11:31:09.000</property>\n'
                  '<property name="originalVersionId"/>\n<property name="contentStatus"><![CDATA[current]]></property>',
          '<property name="creationDate">2024-03-12 08:05:00.000</property>\n<property name="originalVersionId"/>')
    result = connect("confluence", export)

    assert "0 created, 0 updated, 3 unchanged, 1 flagged as deleted at the source, 0 failed." in result.out
    flag = Flag.objects.get()
    assert (flag.article.slug, flag.reason, flag.owner.email) == (
        "retourenlabel-manuell-erstellen", Flag.Reason.SOURCE_DELETED, "logistik@alpenfunk.example")
    assert flag.article.live_version_id is not None
    row = ImportRunFile.objects.get(outcome=ImportRunFile.Outcome.FLAGGED)
    assert row.path == "Confluence space: page 65547 (no longer in the export)"


def test_a_broken_page_is_named_and_the_others_land(connect, export_copy):
    export = export_copy("confluence")
    # a body still in Confluence 3 wiki markup
    _edit(export, '<property name="content" class="Page" package="com.atlassian.confluence.pages"><id name="id">65541</id>\n'
                  '</property>\n<property name="bodyType">2</property>',
          '<property name="content" class="Page" package="com.atlassian.confluence.pages"><id name="id">65541</id>\n'
          '</property>\n<property name="bodyType">0</property>')

    result = connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))

    assert result.error == "1 page(s) were not synced; nothing of them was stored."
    assert result.err.splitlines() == [
        "error: entities.xml: page 65541 'Störungen im Mobilfunknetz': 'bodyType': BodyContent 65542 is not in "
        "storage format (bodyType 0)"]
    assert sorted(SourceLink.objects.values_list("external_id", flat=True)) == ["65538", "65544", "65547"]
    assert not Article.objects.filter(title="Störungen im Mobilfunknetz").exists()


def test_malformed_xml_stops_the_run_before_anything_is_written(connect, export_copy):
    export = export_copy("confluence")
    text = (export / "entities.xml").read_text(encoding="utf-8")
    (export / "entities.xml").write_text(text[: len(text) // 2], encoding="utf-8")

    result = connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))

    assert result.error.startswith("entities.xml: not well-formed XML (line ")
    assert result.error.endswith(") (nothing was synced)")
    assert (Article.objects.count(), ImportRun.objects.count(), ConnectorSource.objects.count()) == (0, 0, 0)


def test_an_entity_declaration_is_refused(connect, export_copy):
    export = export_copy("confluence")
    text = (export / "entities.xml").read_text(encoding="utf-8")
    bomb = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE hibernate-generic [<!ENTITY a "aaaaaaaaaa">]>'
    (export / "entities.xml").write_text(text.replace('<?xml version="1.0" encoding="UTF-8"?>', bomb, 1), encoding="utf-8")

    result = connect("confluence", export, "--space", "kundenservice", "--owners", str(OWNERS))

    assert result.error.startswith("entities.xml: refused: ")
    assert Article.objects.count() == 0
