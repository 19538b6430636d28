"""kb_connect folder: a folder of HTML and Markdown pages (tests/fixtures/connectors/website)."""

from __future__ import annotations

from governance.models import Flag, ImportRun, Review, SourceLink
from kb.models import Article
from tests.governance.conftest import OWNERS

PAGES = {
    "faq/esim.md": "esim-einrichten",
    "faq/hotline.md": "hotline-und-erreichbarkeit",
    "hilfe/ruecksendung.html": "ruecksendung",
    "hilfe/tarife/tarifwechsel.html": "tarif-wechseln",
}


def test_first_run_imports_html_and_markdown_pages(connect, export_copy):
    result = connect("folder", export_copy("website"), "--space", "website", "--owners", str(OWNERS), "--audience", "public")

    assert result.error is None, result.err
    assert "Synced Folder of HTML or Markdown pages: website into the space 'website': 4 created" in result.out
    assert dict(SourceLink.objects.values_list("external_id", "article__slug")) == PAGES
    rows = {a.slug: (a.title, a.audience, a.owner.email, a.tags) for a in Article.objects.select_related("owner")}
    assert rows == {
        "esim-einrichten": ("eSIM einrichten", "public", "wissen@alpenfunk.example", ["esim", "sim"]),
        "hotline-und-erreichbarkeit": ("Hotline und Erreichbarkeit", "public", "wissen@alpenfunk.example", []),
        "ruecksendung": ("Rücksendung", "public", "wissen@alpenfunk.example", []),
        "tarif-wechseln": ("Tarif wechseln", "public", "vertrag@alpenfunk.example", []),  # by its sub-folder
    }
    # the page's own text only: no navigation, header, footer, form, script or event handler
    assert Article.objects.get(slug="ruecksendung").live_version.body == (
        "Sie können ein bei Alpenfunk gekauftes Gerät innerhalb von **14 Tagen** nach Erhalt zurückschicken.\n\n"
        "## Schritt für Schritt\n\n"
        "1.  Retourenlabel in [Mein Alpenfunk](https://mein.alpenfunk.example/bestellungen) erstellen.\n"
        "2.  Gerät mit Zubehör sicher verpacken.\n"
        "3.  Paket in einer Filiale abgeben.\n\n"
        "Die Rücksendung ist kostenlos.\n"
    )
    # a relative link leads nowhere outside the folder: its text stays
    assert Article.objects.get(slug="tarif-wechseln").live_version.body.endswith(
        "Mehr dazu: Rücksendung (relativer Link) und [alle Tarife](https://hilfe.alpenfunk.example/tarife).\n")
    assert Article.objects.get(slug="hotline-und-erreichbarkeit").live_version.body.startswith(
        "Unsere Hotline erreichen Sie unter **0800 123 45 67**")


def test_rerun_unchanged_then_changed_then_deleted(connect, export_copy):
    export = export_copy("website")
    connect("folder", export, "--space", "website", "--owners", str(OWNERS))

    # unchanged: nothing happens
    assert "0 created, 0 updated, 4 unchanged, 0 flagged as deleted at the source, 0 failed." in connect("folder", export).out

    # a changed page becomes a pending version
    page = export / "faq" / "hotline.md"
    page.write_text(page.read_text(encoding="utf-8").replace("9 bis 16 Uhr", "9 bis 14 Uhr"), encoding="utf-8")
    assert "0 created, 1 updated, 3 unchanged" in connect("folder", export).out
    hotline = Article.objects.get(slug="hotline-und-erreichbarkeit")
    assert (hotline.live_version.number, hotline.latest_version.number) == (1, 2)
    assert Review.objects.get(status=Review.Status.IN_REVIEW).article == hotline

    # a deleted file is flagged, the article stays
    (export / "faq" / "esim.md").unlink()
    result = connect("folder", export)
    assert "0 created, 0 updated, 3 unchanged, 1 flagged as deleted at the source, 0 failed." in result.out
    flag = Flag.objects.get()
    assert (flag.article.slug, flag.reason, flag.state) == ("esim-einrichten", Flag.Reason.SOURCE_DELETED, Flag.State.OPEN)
    assert Article.objects.count() == 4
    assert ImportRun.objects.count() == 4


def test_a_broken_file_is_named_and_the_others_land(connect, export_copy):
    export = export_copy("website")
    (export / "faq" / "kaputt.md").write_bytes("Rückgabe in 14 Tagen".encode("latin-1"))
    (export / "hilfe" / "leer.html").write_text("<html><head><title>Leer</title></head><body><nav>Menü</nav></body></html>",
                                                encoding="utf-8")

    result = connect("folder", export, "--space", "website", "--owners", str(OWNERS))

    assert result.error == "2 page(s) were not synced; nothing of them was stored."
    assert result.err.splitlines() == [
        "error: faq/kaputt.md: expected UTF-8 text",
        "error: hilfe/leer.html: 'body': the page has no text",
    ]
    assert sorted(SourceLink.objects.values_list("external_id", flat=True)) == sorted(PAGES)


def test_a_batch_lost_with_its_worker_is_sent_again_and_the_sync_finishes(export_copy, db, monkeypatch, settings):
    """Connector batches are leased like kb_import's (verity.core.batches): a killed worker does not stall the run."""
    from governance import imports
    from governance.connectors import sync
    from governance.connectors.folder import read_folder
    from governance.connectors.owners import read_owner_map
    from governance.models import ImportRunBatch

    # given workers that lose the first batch sent to them (taken from the broker by one that was killed)
    settings.VERITY_BATCH_LEASE_SECONDS = 0.2
    monkeypatch.setattr(imports, "RECOVER_EVERY_SECONDS", 0)
    monkeypatch.setattr(sync, "CONNECT_BATCH_SIZE", 2)
    sent: list[int] = []
    deliver = sync.connect_run_batch.apply_async

    def lossy(args, **options):
        sent.append(args[0])
        return None if len(sent) == 1 else deliver(args=args, **options)

    monkeypatch.setattr(sync.connect_run_batch, "apply_async", lossy)
    folder = export_copy("website")

    # when the sync waits for its workers
    report = sync.connector_sync(export=read_folder(folder, locale="de"), location=str(folder), space="website",
                                 owners=read_owner_map(OWNERS), audience="public", dispatch=True, timeout=30)

    # then the lost batch is sent again and every page lands
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE, run.error
    assert sorted(report.created) == sorted(PAGES.values())
    lost = ImportRunBatch.objects.order_by("pk").first()
    assert (lost.dispatches, lost.claims, lost.finished_at is not None) == (2, 1, True)
    assert sent.count(lost.pk) == 2
