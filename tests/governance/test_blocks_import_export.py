"""Content blocks in the knowledge-base folder format: `blocks/<slug>.md`, imported before the articles
using them, validated naming the file and the block, exported back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from governance.imports import kb_export, kb_import
from kb import blocks
from kb.kbformat import KbFormatError, parse_article_text
from kb.models import Article
from retrieval.models import Chunk

pytestmark = pytest.mark.django_db

FEE = """---
slug: sim-ersatz-preis
title: Preis Ersatz-SIM
locale: de
space: technik
audience: public
owner: lukas.steiner@example.com
---
14,95 €
"""

FEE_EN = """---
slug: sim-replacement-fee
title: SIM replacement fee
locale: en
kind: block
space: technik
audience: public
owner: lukas.steiner@example.com
translation_of: sim-ersatz-preis
---
€14.95
"""

ARTICLE = """---
slug: a-sim-karte-ersetzen
title: SIM-Karte ersetzen
locale: de
space: technik
audience: public
owner: lukas.steiner@example.com
---
Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_blocks_import_before_the_articles_using_them_and_export_back_unchanged(tmp_path):
    # the article's file name sorts before the blocks folder: the import still brings the block first
    source = _write(tmp_path / "kb", {"blocks/sim-ersatz-preis.md": FEE, "blocks/sim-replacement-fee.md": FEE_EN,
                                      "a-sim-karte-ersetzen.md": ARTICLE})

    report = kb_import(folder=source)

    assert [str(error) for error in report.errors] == []
    assert sorted(report.created) == ["a-sim-karte-ersetzen", "sim-ersatz-preis", "sim-replacement-fee"]
    fee = Article.objects.get(slug="sim-ersatz-preis")
    assert (fee.kind, fee.live_version.body) == (Article.Kind.BLOCK, "14,95 €\n")
    assert Article.objects.get(slug="sim-replacement-fee").translation_of == fee
    article = Article.objects.get(slug="a-sim-karte-ersetzen")
    assert list(Chunk.objects.filter(article=article).values_list("text", flat=True)) == ["Eine Ersatz-SIM kostet 14,95 €."]
    assert not Chunk.objects.filter(article=fee).exists()

    # export: blocks in blocks/, the article keeps its reference; re-import changes nothing
    target = tmp_path / "export"
    exported = kb_export(folder=target)
    assert sorted(exported.written) == ["a-sim-karte-ersetzen", "sim-ersatz-preis", "sim-replacement-fee"]
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*.md")) == [
        "a-sim-karte-ersetzen.md", "blocks/sim-ersatz-preis.md", "blocks/sim-replacement-fee.md"]
    assert "Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.\n" in (target / "a-sim-karte-ersetzen.md").read_text()
    written = parse_article_text((target / "blocks" / "sim-ersatz-preis.md").read_text(), "blocks/sim-ersatz-preis.md")
    assert (written.kind, written.body) == ("block", "14,95 €\n")
    again = kb_import(folder=target)
    assert (again.errors, again.created, again.updated) == ([], [], [])
    assert sorted(again.unchanged) == ["a-sim-karte-ersetzen", "sim-ersatz-preis", "sim-replacement-fee"]


def test_a_changed_block_file_updates_the_articles_using_it(tmp_path, django_capture_on_commit_callbacks):
    source = _write(tmp_path / "kb", {"blocks/sim-ersatz-preis.md": FEE, "a-sim-karte-ersetzen.md": ARTICLE})
    kb_import(folder=source)

    _write(source, {"blocks/sim-ersatz-preis.md": FEE.replace("14,95 €", "9,95 €")})
    with django_capture_on_commit_callbacks(execute=True):  # the re-index job is sent once the block's file commits
        report = kb_import(folder=source)

    assert (report.errors, report.updated, report.unchanged) == ([], ["sim-ersatz-preis"], ["a-sim-karte-ersetzen"])
    article = Article.objects.get(slug="a-sim-karte-ersetzen")
    assert list(Chunk.objects.filter(article=article, is_indexed=True).values_list("text", flat=True)) == [
        "Eine Ersatz-SIM kostet 9,95 €."]


@pytest.mark.parametrize(("files", "path", "key", "problem"), [
    ({"a.md": ARTICLE}, "a.md", "body",
     "The text cannot be saved: There is no content block “sim-ersatz-preis”."),
    ({"blocks/sim-ersatz-preis.md": FEE.replace("audience: public", "audience: internal"), "a.md": ARTICLE}, "a.md", "body",
     "The text cannot be saved: The content block “sim-ersatz-preis” is internal and cannot be used in a public article."),
])
def test_a_bad_block_reference_fails_the_file_naming_the_block(tmp_path, files, path, key, problem):
    folder = _write(tmp_path / "kb", files)

    report = kb_import(folder=folder)

    assert [(Path(e.path).name, e.key, e.problem) for e in report.errors] == [(path, key, problem)]
    assert not Article.objects.filter(slug="a-sim-karte-ersetzen").exists()


@pytest.mark.parametrize(("text", "key", "problem"), [
    (FEE.replace("audience: public", "kind: macro\naudience: public"), "kind",
     "files in the 'blocks' folder are content blocks: expected 'block' or no kind, got 'macro'"),
    (FEE.replace("audience: public", "valid_until: 2027-01-01\naudience: public"), "valid_until",
     "a content block has no validity dates; leave the key out"),
    (FEE.replace("14,95 €", "{{ block:other }}"), "body", "a content block cannot use another content block ('other')"),
])
def test_block_files_are_checked_naming_the_key(text, key, problem):
    with pytest.raises(KbFormatError) as error:
        parse_article_text(text, "kb/blocks/sim-ersatz-preis.md")

    assert (error.value.key, error.value.problem) == (key, problem)


def test_a_file_cannot_turn_an_article_into_a_block(tmp_path):
    folder = _write(tmp_path / "kb", {"a.md": ARTICLE.replace("{{ block:sim-ersatz-preis }}", "14,95 €")})
    kb_import(folder=folder)

    _write(folder, {"a.md": ARTICLE.replace("{{ block:sim-ersatz-preis }}", "14,95 €").replace("audience:", "kind: block\naudience:")})
    report = kb_import(folder=folder)

    assert [(e.key, e.problem) for e in report.errors] == [
        ("kind", "'a-sim-karte-ersetzen' is an article in Verity; a file cannot change that (got 'block')")]
    assert Article.objects.get(slug="a-sim-karte-ersetzen").kind == Article.Kind.ARTICLE


def test_the_demo_uses_blocks_for_its_repeated_facts(db):
    from django.conf import settings

    demo = Path(settings.BASE_DIR) / "demo" / "kb"
    call_command("kb_import", str(demo), "--inline", stdout=__import__("io").StringIO())

    fee = Article.objects.get(slug="sim-ersatz-preis")
    assert fee.is_block
    assert [a.slug for a in blocks.articles_using(fee)] == ["esim-aktivieren", "makro-sim-ersatz", "sim-karte-ersetzen"]
    article = Article.objects.get(slug="sim-karte-ersetzen")
    assert "| Verlust, Diebstahl oder Wechsel des Kartenformats | 14,95 € |" in blocks.render_version(article.live_version)
