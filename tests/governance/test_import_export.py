"""Import and export of knowledge-base folders (shared/kb-format.md), through the commands and the services."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance import services
from governance.imports import IMPORTER_USERNAME, kb_export, kb_import
from governance.models import AuditEvent, Flag, Review
from kb.kbformat import parse_article_file
from kb.models import Article, ArticleVersion, Space

T = AuditEvent.Type

TARIFWECHSEL = """---
slug: tarifwechsel
title: Tarif wechseln
locale: de
kind: article
space: vertrag
audience: public
owner: jonas.berger@example.com
review_interval_days: 30
last_reviewed: 2026-08-14
valid_from: 2026-01-01
valid_until: 2027-12-31
tags: [tarif, vertrag]
source_ticket: KB-1234
---
# Tarif wechseln

Sie können einmal pro Monat in einen anderen Tarif wechseln.
"""

PLAN_CHANGE = """---
slug: plan-change
title: "Changing your plan: how it works"
locale: en
space: vertrag
audience: public
owner: jonas.berger@example.com
last_reviewed: 2026-08-20
tags: ["plans, pricing", tariff]
translation_of: tarifwechsel
reviewers: [legal, "support, 2nd level"]
contact: {team: billing, channels: [mail, chat]}
---
You can change your plan once a month.
"""

MAKRO = """---
slug: makro-tarifwechsel
title: Makro Tarifwechsel
locale: de
kind: macro
space: vertrag
owner: jonas.berger@example.com
---
Hallo {{name}}, Ihr Tarifwechsel ist vorgemerkt.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def kb_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    _write(folder, "tarifwechsel.md", TARIFWECHSEL)
    _write(folder, "en/plan-change.md", PLAN_CHANGE)  # sorted before its source: placed after it on import
    _write(folder, "makro-tarifwechsel.md", MAKRO)
    _write(folder, ".drafts/ignored.md", "---\nslug: ignored\ntitle: Ignored\nlocale: de\n---\nHidden folder.\n")
    return folder


def _import(folder: Path, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("kb_import", str(folder), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _versions() -> dict[str, int]:
    return dict(Counter(ArticleVersion.objects.values_list("article__slug", flat=True)))


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


# --- importing ---------------------------------------------------------------------------------------


def test_import_command_creates_the_articles_and_prints_a_summary(kb_folder, db):
    out, err = _import(kb_folder)

    assert out == (
        f"Imported {kb_folder}: 3 created, 0 updated, 0 unchanged, 0 failed.\n"
        "  created: tarifwechsel, plan-change, makro-tarifwechsel\n"
    )
    assert err == ""
    assert sorted(Article.objects.values_list("slug", flat=True)) == ["makro-tarifwechsel", "plan-change", "tarifwechsel"]
    assert _versions() == {"makro-tarifwechsel": 1, "plan-change": 1, "tarifwechsel": 1}


def test_import_service_reports_created_updated_unchanged(kb_folder, db):
    first = kb_import(folder=kb_folder)
    second = kb_import(folder=kb_folder)

    assert (first.created, first.updated, first.unchanged, first.errors) == (
        ["tarifwechsel", "plan-change", "makro-tarifwechsel"], [], [], [],
    )
    assert first.ok
    assert sorted(first.published_version_ids) == sorted(Article.objects.values_list("live_version_id", flat=True))
    assert (second.created, second.updated, second.unchanged, second.errors, second.published_version_ids) == (
        [], [], ["tarifwechsel", "plan-change", "makro-tarifwechsel"], [], [],
    )


def test_imported_article_is_live_authored_by_the_importer_and_verified_on_last_reviewed(kb_folder, db):
    kb_import(folder=kb_folder)

    article = Article.objects.select_related("live_version", "space", "owner", "translation_of").get(slug="tarifwechsel")
    version = article.live_version
    assert article.live_version_id == article.latest_version_id
    assert (version.number, version.title, version.author.username, version.change_note) == (
        1, "Tarif wechseln", IMPORTER_USERNAME, "Importiert",  # the note in the article's language
    )
    assert version.body == "# Tarif wechseln\n\nSie können einmal pro Monat in einen anderen Tarif wechseln.\n"
    assert article.last_verified_at == _noon(dt.date(2026, 8, 14))
    assert timezone.localdate(article.last_verified_at) == dt.date(2026, 8, 14)
    assert article.review_due_at == _noon(dt.date(2026, 9, 13))
    assert (article.title, article.locale, article.kind, article.audience) == ("Tarif wechseln", "de", "article", "public")
    assert (article.space.slug, article.owner.email, article.owner.username) == (
        "vertrag", "jonas.berger@example.com", "jonas.berger@example.com",
    )
    assert article.owner.groups.filter(name="authors").exists()
    assert (article.review_interval_days, article.valid_from, article.valid_until) == (
        30, dt.date(2026, 1, 1), dt.date(2027, 12, 31),
    )
    assert article.tags == ["tarif", "vertrag"]
    assert article.metadata == {"source_ticket": "KB-1234"}
    assert article.translation_of is None
    # an import is approved by the importer, not by a review
    assert Review.objects.count() == 0

    translation = Article.objects.get(slug="plan-change")
    assert translation.translation_of_id == article.pk
    assert translation.title == "Changing your plan: how it works"
    assert translation.tags == ["plans, pricing", "tariff"]
    assert translation.metadata == {
        "reviewers": ["legal", "support, 2nd level"],
        "contact": {"team": "billing", "channels": ["mail", "chat"]},
    }
    macro = Article.objects.get(slug="makro-tarifwechsel")
    assert (macro.kind, macro.audience, macro.review_interval_days) == ("macro", "internal", None)
    # no last_reviewed: verified at import time
    assert timezone.localdate(macro.last_verified_at) == timezone.localdate()
    assert macro.review_due_at == macro.last_verified_at + dt.timedelta(days=90)


def test_one_import_audit_event_per_imported_file(kb_folder, db, audit_counts):
    counts = audit_counts()

    kb_import(folder=kb_folder)

    assert audit_counts() - counts == Counter({T.ARTICLE_IMPORT: 3})
    event = AuditEvent.objects.get(event_type=T.ARTICLE_IMPORT, article__slug="tarifwechsel")
    assert event.actor_label == IMPORTER_USERNAME
    assert event.version_id == Article.objects.get(slug="tarifwechsel").live_version_id
    assert event.details == {
        "file": str(kb_folder / "tarifwechsel.md"), "outcome": "created", "approved_by": "import",
    }


def test_reimporting_the_same_folder_creates_no_versions(kb_folder, db, audit_counts):
    _import(kb_folder)
    versions = _versions()
    articles = list(Article.objects.order_by("slug").values())
    counts = audit_counts()

    out, _ = _import(kb_folder)

    assert out == f"Imported {kb_folder}: 0 created, 0 updated, 3 unchanged, 0 failed.\n"
    assert _versions() == versions
    assert list(Article.objects.order_by("slug").values()) == articles
    assert audit_counts() == counts


def test_changing_one_body_creates_one_new_live_version_for_that_file_only(kb_folder, db, audit_counts):
    _import(kb_folder)
    before = {a.slug: (a.live_version_id, a.updated_at) for a in Article.objects.all()}
    counts = audit_counts()

    # when one file's body changes
    _write(kb_folder, "tarifwechsel.md", TARIFWECHSEL.replace("einmal pro Monat", "zweimal pro Monat"))
    out, _ = _import(kb_folder)

    # then
    assert out == f"Imported {kb_folder}: 0 created, 1 updated, 2 unchanged, 0 failed.\n  updated: tarifwechsel\n"
    assert _versions() == {"makro-tarifwechsel": 1, "plan-change": 1, "tarifwechsel": 2}
    article = Article.objects.select_related("live_version").get(slug="tarifwechsel")
    assert article.live_version_id == article.latest_version_id
    assert (article.live_version.number, article.live_version.author.username) == (2, IMPORTER_USERNAME)
    assert "zweimal pro Monat" in article.live_version.body
    assert article.live_version.based_on_id == before["tarifwechsel"][0]
    assert article.last_verified_at == _noon(dt.date(2026, 8, 14))
    for slug in ("makro-tarifwechsel", "plan-change"):
        assert Article.objects.get(slug=slug).live_version_id == before[slug][0]
    # one import event, and the English translation of the changed source is flagged out of sync
    assert audit_counts() - counts == Counter({T.ARTICLE_IMPORT: 1, T.FLAG_RAISE: 1})
    drift = Flag.objects.get(article__slug="plan-change", state=Flag.State.OPEN)
    assert drift.reason == Flag.Reason.TRANSLATION_DRIFT
    assert "+Sie können zweimal pro Monat" in drift.evidence or "zweimal pro Monat" in drift.evidence
    event = AuditEvent.objects.filter(event_type=T.ARTICLE_IMPORT).order_by("-pk").first()
    assert event.details["outcome"] == "updated"
    assert event.details["new_version"] == 2


def test_changing_only_settings_updates_without_a_new_version(kb_folder, db):
    _import(kb_folder)

    _write(kb_folder, "tarifwechsel.md", TARIFWECHSEL.replace("audience: public", "audience: internal"))
    out, _ = _import(kb_folder)

    assert out.startswith(f"Imported {kb_folder}: 0 created, 1 updated, 2 unchanged, 0 failed.\n")
    assert _versions()["tarifwechsel"] == 1
    assert Article.objects.get(slug="tarifwechsel").audience == "internal"


def test_import_with_user_option_records_that_user(kb_folder, admin_user_role):
    _import(kb_folder, user="erika")

    assert set(ArticleVersion.objects.values_list("author__username", flat=True)) == {"erika"}
    # a person's import is submitted for review, never published by that person (issue #14 item 2)
    assert set(AuditEvent.objects.values_list("event_type", "actor_label")) == {
        (T.ARTICLE_IMPORT, "erika"), (T.VERSION_SUBMIT, "erika"),
    }
    assert not Article.objects.filter(live_version__isnull=False).exists()
    assert not get_user_model().objects.filter(username=IMPORTER_USERNAME).exists()


def test_import_command_refuses_a_missing_folder_or_user(tmp_path, kb_folder, db):
    with pytest.raises(CommandError, match="not a folder"):
        _import(tmp_path / "nowhere")
    with pytest.raises(CommandError, match="--user: no user named 'nobody'"):
        _import(kb_folder, user="nobody")
    assert Article.objects.count() == 0


# --- bad files -----------------------------------------------------------------------------------------

GOOD = "---\nslug: gut\ntitle: Gut\nlocale: de\n---\nGuter Text.\n"
BAD_DEFAULTS = {"slug": "kaputt", "title": "Kaputt", "locale": "de", "space": "kaputt-space", "owner": "kaputt@example.com"}


def _bad(**changes: str | None) -> str:
    keys = {**BAD_DEFAULTS, **changes}
    front = "\n".join(f"{key}: {value}" for key, value in keys.items() if value is not None)
    return f"---\n{front}\n---\nKaputter Text.\n"


BAD_FILES = [
    pytest.param(_bad(title=None), "title", "required key is missing or empty", id="missing-title"),
    pytest.param(
        _bad(last_reviewed="2026-13-01"), "last_reviewed", "expected a date YYYY-MM-DD, got '2026-13-01'", id="bad-date"
    ),
    pytest.param(
        _bad(audience="everyone"), "audience", "expected one of public | internal, got 'everyone'", id="audience"
    ),
    pytest.param(
        _bad(kind="faq"), "kind", "expected one of article | macro | runbook | policy | block, got 'faq'", id="kind"
    ),
    pytest.param(
        _bad(slug="Kaputt-Artikel"), "slug", "expected a slug of a-z, 0-9 and '-', got 'Kaputt-Artikel'", id="slug-uppercase"
    ),
    pytest.param(_bad(tags="kaputt"), "tags", "expected a list of words, e.g. [tarif, vertrag]", id="tags-not-a-list"),
    pytest.param(
        _bad(tags="{a: b}"), "tags", "expected a list of words, e.g. [tarif, vertrag]", id="tags-a-mapping"
    ),
    pytest.param(
        _bad(translation_of="gibt-es-nicht"), "translation_of", "no article with the slug 'gibt-es-nicht' exists",
        id="translation-of-nowhere",
    ),
    pytest.param(
        "# Kaputt\n\nKein Front Matter.\n", None,
        "expected YAML front matter between '---' lines at the top of the file", id="no-front-matter",
    ),
    pytest.param(
        _bad(tags="[" + "x" * 61 + "]"), "tags", "expected words of at most 60 characters, got '" + "x" * 61 + "'",
        id="tag-too-long",
    ),
    pytest.param(
        _bad(review_interval_days="99999999"), "review_interval_days",
        "expected a whole number of days from 1 to 36500, got '99999999'", id="interval-too-long",
    ),
    pytest.param(_bad(slug="k" * 121), "slug", "expected at most 120 characters", id="slug-too-long"),
    pytest.param(_bad(space="s" * 81), "space", "expected at most 80 characters", id="space-too-long"),
]


@pytest.mark.parametrize(("text", "key", "problem"), BAD_FILES)
def test_a_bad_file_is_reported_and_stores_nothing_while_good_files_are_imported(tmp_path, db, text, key, problem):
    # given a folder with one bad file between two good ones
    folder = tmp_path / "kb"
    _write(folder, "a-gut.md", GOOD)
    bad = _write(folder, "b-kaputt.md", text)
    _write(folder, "c-gut.md", GOOD.replace("gut", "auch-gut"))
    users = get_user_model().objects.count()

    # when
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("kb_import", str(folder), stdout=out, stderr=err)

    # then the error names the file, the key and what was expected
    assert str(failed.value) == "1 file(s) were not imported; nothing of them was stored."
    where = f"{bad}: key '{key}'" if key else str(bad)
    assert err.getvalue() == f"error: {where}: {problem}\n"
    assert out.getvalue() == (
        f"Imported {folder}: 2 created, 0 updated, 0 unchanged, 1 failed.\n  created: gut, auch-gut\n"
    )
    # nothing of the bad file is stored
    assert sorted(Article.objects.values_list("slug", flat=True)) == ["auch-gut", "gut"]
    assert _versions() == {"auch-gut": 1, "gut": 1}
    assert not Space.objects.filter(slug="kaputt-space").exists()
    assert not get_user_model().objects.filter(email="kaputt@example.com").exists()
    # only the importer account and the default owner of the good files were added
    assert get_user_model().objects.count() == users + 2
    assert get_user_model().objects.filter(username__in=[IMPORTER_USERNAME, "knowledge@verity.local"]).count() == 2
    assert AuditEvent.objects.filter(event_type=T.ARTICLE_IMPORT).count() == 2
    assert not AuditEvent.objects.exclude(event_type=T.ARTICLE_IMPORT).exists()


def test_a_slug_used_by_two_files_imports_only_the_first(tmp_path, db):
    folder = tmp_path / "kb"
    first = _write(folder, "a-tarif.md", "---\nslug: tarif\ntitle: Tarif A\nlocale: de\n---\nErster.\n")
    second = _write(
        folder, "b-tarif.md",
        "---\nslug: tarif\ntitle: Tarif B\nlocale: de\nspace: kaputt-space\nowner: kaputt@example.com\n---\nZweiter.\n",
    )

    report = kb_import(folder=folder)

    assert report.created == ["tarif"]
    assert [str(error) for error in report.errors] == [f"{second}: key 'slug': 'tarif' is already used by {first}"]
    assert (report.errors[0].path, report.errors[0].key) == (str(second), "slug")
    article = Article.objects.select_related("live_version").get(slug="tarif")
    assert (article.title, article.live_version.body) == ("Tarif A", "Erster.\n")
    assert ArticleVersion.objects.count() == 1
    assert not Space.objects.filter(slug="kaputt-space").exists()
    assert not get_user_model().objects.filter(email="kaputt@example.com").exists()


def test_the_command_reports_every_bad_file(tmp_path, db):
    folder = tmp_path / "kb"
    one = _write(folder, "eins.md", _bad(slug="eins", kind="faq"))
    two = _write(folder, "zwei.md", _bad(slug="zwei", audience="everyone"))

    err = StringIO()
    with pytest.raises(CommandError, match=r"^2 file\(s\) were not imported"):
        call_command("kb_import", str(folder), stdout=StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        f"error: {one}: key 'kind': expected one of article | macro | runbook | policy | block, got 'faq'",
        f"error: {two}: key 'audience': expected one of public | internal, got 'everyone'",
    ]
    assert Article.objects.count() == 0


def test_an_article_with_a_version_in_review_is_not_overwritten_by_an_import(kb_folder, author, approver):
    kb_import(folder=kb_folder)
    article = Article.objects.get(slug="tarifwechsel")
    draft = services.version_create(
        actor=author, article=article, title="Tarif wechseln", body="Entwurf.", base_version=1
    )
    services.version_submit(actor=author, version=draft)
    _write(kb_folder, "tarifwechsel.md", TARIFWECHSEL.replace("einmal pro Monat", "zweimal pro Monat"))

    report = kb_import(folder=kb_folder)

    assert [(error.path, error.key) for error in report.errors] == [(str(kb_folder / "tarifwechsel.md"), None)]
    assert "has a version in review" in str(report.errors[0])
    article.refresh_from_db()
    assert (article.live_version.number, article.latest_version_id) == (1, draft.pk)
    assert _versions()["tarifwechsel"] == 2


# --- exporting ------------------------------------------------------------------------------------------


def test_export_then_import_reports_everything_unchanged(
    kb_folder, tmp_path, make_article, author, approver, audit_counts
):
    # given imported articles, one published through the workflow and one never-published draft
    kb_import(folder=kb_folder)
    workflow = make_article("kuendigung", title="Vertrag kündigen: Fristen", tags=["vertrag", "frist, kündigung"])
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=workflow.latest_version))
    make_article("entwurf", title="Entwurf")
    versions = _versions()
    articles = list(Article.objects.order_by("slug").values())
    counts = audit_counts()
    exported = tmp_path / "export"

    # when
    out = StringIO()
    call_command("kb_export", str(exported), stdout=out)
    report = kb_import(folder=exported)

    # then
    assert out.getvalue() == f"Exported 4 article(s) to {exported}.\n  skipped (never published): entwurf\n"
    assert sorted(path.name for path in exported.iterdir()) == [
        "kuendigung.md", "makro-tarifwechsel.md", "plan-change.md", "tarifwechsel.md",
    ]
    assert (report.created, report.updated, report.errors) == ([], [], [])
    assert sorted(report.unchanged) == ["kuendigung", "makro-tarifwechsel", "plan-change", "tarifwechsel"]
    assert _versions() == versions
    assert list(Article.objects.order_by("slug").values()) == articles
    assert audit_counts() == counts


def test_export_round_trips_every_front_matter_key(kb_folder, tmp_path, db):
    kb_import(folder=kb_folder)

    kb_export(folder=tmp_path / "export")

    for name in ("tarifwechsel.md", "en/plan-change.md"):
        original = dataclasses.replace(parse_article_file(kb_folder / name), path="")
        exported = dataclasses.replace(parse_article_file(tmp_path / "export" / Path(name).name), path="")
        assert exported == original
    plan_change = parse_article_file(tmp_path / "export" / "plan-change.md")
    assert plan_change.translation_of == "tarifwechsel"
    assert plan_change.metadata == {
        "reviewers": ["legal", "support, 2nd level"],
        "contact": {"team": "billing", "channels": ["mail", "chat"]},
    }
    assert plan_change.tags == ["plans, pricing", "tariff"]
    assert parse_article_file(tmp_path / "export" / "tarifwechsel.md").metadata == {"source_ticket": "KB-1234"}


def test_export_writes_the_live_version_not_a_newer_draft(kb_folder, tmp_path, author):
    kb_import(folder=kb_folder)
    article = Article.objects.get(slug="tarifwechsel")
    services.version_create(actor=author, article=article, title="Tarif wechseln", body="Entwurf.", base_version=1)

    kb_export(folder=tmp_path / "export")

    exported = parse_article_file(tmp_path / "export" / "tarifwechsel.md")
    assert exported.body == "# Tarif wechseln\n\nSie können einmal pro Monat in einen anderen Tarif wechseln.\n"


def test_export_command_refuses_a_file_as_target(tmp_path, db):
    target = tmp_path / "file.md"
    target.write_text("x")

    with pytest.raises(CommandError, match="exists and is not a folder"):
        call_command("kb_export", str(target), stdout=StringIO())


# --- the demo knowledge base -------------------------------------------------------------------------------

DEMO_KB = Path(settings.BASE_DIR) / "demo" / "kb"


@pytest.mark.skipif(not DEMO_KB.is_dir() or not any(DEMO_KB.rglob("*.md")), reason="no demo knowledge base")
def test_the_demo_knowledge_base_imports_without_errors(db):
    files = [path for path in DEMO_KB.rglob("*.md") if not any(p.startswith(".") for p in path.relative_to(DEMO_KB).parts)]

    report = kb_import(folder=DEMO_KB)

    assert [str(error) for error in report.errors] == []
    assert (len(report.created), report.updated, report.unchanged) == (len(files), [], [])
    assert Article.objects.filter(live_version__isnull=False).count() == len(files)
