"""Limits on article files and bodies (issue #14 item 4): named errors at import and save, safe rendering."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance import services
from governance.imports import kb_import
from kb.kbformat import KbFormatError, parse_article_text
from kb.models import Article, ArticleVersion
from kb.rendering import render_markdown
from verity.core.errors import ApplicationError

HEADER = "---\nslug: tarif\ntitle: Tarif\nlocale: de\n---\n"
DEEP_LIST = "- " * 1000 + "Ebene\n"  # a list in a list ... 1,000 deep: RecursionError (a 500) before
NESTED_120KB = ("[a](" * 100 + "\n\n") * 300  # 120 KB of unclosed links: minutes per page view before


def _file(body: str, header: str = HEADER) -> str:
    return header + body


def _problem(text: str) -> tuple[str | None, str]:
    with pytest.raises(KbFormatError) as caught:
        parse_article_text(text, "kb/tarif.md")
    return caught.value.key, caught.value.problem


# --- front matter -------------------------------------------------------------------------------------


def test_yaml_aliases_are_refused_by_name():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nslug: tarif\ntitle: Tarif\nlocale: de\n---\nText.\n"

    assert _problem(bomb) == (None, "front matter uses a YAML anchor or alias ('&a'); write each value out")


def test_a_single_anchor_is_refused_too():
    assert _problem("---\nslug: &s tarif\ntitle: Tarif\nlocale: de\n---\nText.\n") == (
        None, "front matter uses a YAML anchor or alias ('&s'); write each value out")


def test_an_ampersand_or_asterisk_inside_a_value_is_not_an_alias():
    article = parse_article_text("---\nslug: tarif\ntitle: Strom & Gas *neu*\nlocale: de\n---\nText.\n", "kb/tarif.md")

    assert article.title == "Strom & Gas *neu*"


def test_a_nul_byte_in_the_front_matter_is_refused_by_name():
    assert _problem("---\nslug: tarif\ntitle: Ta\x00rif\nlocale: de\n---\nText.\n") == (
        None, "the file contains a NUL character (line 3)")


def test_a_nul_byte_in_the_body_is_refused_by_name():
    assert _problem(_file("Text\x00mit Null.\n")) == (None, "the file contains a NUL character (line 6)")


# --- body limits --------------------------------------------------------------------------------------


def test_a_deeply_nested_list_is_refused_at_import():
    assert _problem(_file(DEEP_LIST)) == (
        "body", "lists, quotes or indentation are nested more than 16 levels deep (line 1 outside code blocks)")


def test_a_body_over_the_size_limit_is_refused_at_import():
    assert _problem(_file("Absatz.\n\n" * 12_000)) == (
        "body", "the body has 107999 characters; at most 100000 are allowed")


def test_a_120kb_nested_body_is_refused_at_import():
    key, problem = _problem(_file(NESTED_120KB))

    assert key == "body"
    assert problem.startswith("the body has 12")


def test_too_many_links_in_one_paragraph_are_refused_at_import():
    assert _problem(_file("[a](" * 101 + "\n")) == (
        "body", "a paragraph has 101 '[' and '<' characters; at most 100 are allowed between two blank lines")


def test_nesting_inside_a_fenced_code_block_is_allowed():
    code = "```yaml\n" + "".join("  " * level + "- x\n" for level in range(40)) + "```\n"

    assert parse_article_text(_file(code), "kb/tarif.md").body == code


def test_an_ordinary_article_is_within_the_limits():
    body = "# Tarif\n\n- eins\n    - zwei\n        - drei\n\n> Zitat [Link](https://example.com) <br>\n"

    assert parse_article_text(_file(body), "kb/tarif.md").body == body


# --- kb_import: symlinks -----------------------------------------------------------------------------


def test_kb_import_does_not_follow_a_symlink_out_of_the_folder(tmp_path, db):
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("---\nslug: geheim\ntitle: Geheim\nlocale: de\n---\nInterne Zugangsdaten.\n", encoding="utf-8")
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "tarif.md").write_text(_file("Text.\n"), encoding="utf-8")
    (folder / "geheim.md").symlink_to(secret)
    (folder / "linked").symlink_to(secret.parent, target_is_directory=True)

    report = kb_import(folder=folder)

    assert report.created == ["tarif"]
    assert [(error.path, error.problem) for error in report.errors] == [
        (str(folder / "geheim.md"), "a symbolic link to a file outside the import folder; not followed"),
    ]
    assert not Article.objects.filter(slug="geheim").exists()


def test_kb_import_reads_a_symlink_inside_the_folder(tmp_path, db):
    folder = tmp_path / "kb"
    (folder / ".archiv").mkdir(parents=True)  # hidden folders are not imported themselves
    (folder / ".archiv" / "tarif-2026.md").write_text(_file("Text.\n"), encoding="utf-8")
    (folder / "tarif.md").symlink_to(folder / ".archiv" / "tarif-2026.md")

    report = kb_import(folder=folder)

    assert (report.created, report.errors) == (["tarif"], [])


# --- saving through the services and the admin ------------------------------------------------------


def test_saving_a_deeply_nested_body_is_refused_and_stores_nothing(author, published_article):
    with pytest.raises(ApplicationError) as caught:
        services.version_create(actor=author, article=published_article, title="Tarif", body=DEEP_LIST,
                                base_version=1)

    assert caught.value.code == "body_over_limits"
    assert caught.value.message == (  # in the server's default language, German
        "Der Text kann nicht gespeichert werden: Listen, Zitate oder Einrückungen sind tiefer als 16 Ebenen "
        "verschachtelt (Zeile 1 außerhalb von Codeblöcken).")
    assert ArticleVersion.objects.filter(article=published_article).count() == 1


def test_the_admin_form_names_the_problem_and_stores_nothing(client, author, published_article):
    client.force_login(author)
    data = {
        "content_title": "Tarif wechseln", "content_body": NESTED_120KB, "change_note": "edit", "base_version": 1,
        "owner": published_article.owner_id, "space": published_article.space_id, "locale": "de",
        "kind": published_article.kind, "audience": published_article.audience, "review_interval_days": "",
        "valid_from": "", "valid_until": "", "tags": "", "translation_of": "",
    }

    response = client.post(reverse("admin:kb_article_change", args=[published_article.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["content_body"] == [
        "Der Text kann nicht gespeichert werden: der Text hat 120599 Zeichen; erlaubt sind höchstens 100000."]
    assert ArticleVersion.objects.filter(article=published_article).count() == 1


# --- rendering a body stored before the limits -------------------------------------------------------


def _store_body_unchecked(article: Article, body: str) -> None:
    """As a body saved and published before the limits existed: written past the services on purpose."""
    live = article.live_version
    version = ArticleVersion.objects.create(article=article, number=live.number + 1, title=live.title, body=body,
                                            author=live.author, content_hash="stored-before-the-limits")
    Article.objects.filter(pk=article.pk).update(live_version=version, latest_version=version)


def test_a_deeply_nested_body_renders_as_escaped_text():
    html = render_markdown(DEEP_LIST + "<script>alert(1)</script>\n")

    assert html.startswith('<pre class="verity-plain-body">- - - - ')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_a_120kb_nested_body_renders_as_escaped_text():
    assert render_markdown(NESTED_120KB).startswith('<pre class="verity-plain-body">[a]([a](')


def test_the_desktop_and_admin_pages_show_a_stored_deeply_nested_body(client, approver, published_article):
    _store_body_unchecked(published_article, DEEP_LIST)
    client.force_login(approver)

    desktop = client.get(reverse("desktop:article", args=[published_article.slug]))
    admin = client.get(reverse("admin:kb_article_change", args=[published_article.pk]))

    assert (desktop.status_code, admin.status_code) == (200, 200)
    assert '<pre class="verity-plain-body">- - - - ' in desktop.content.decode()
    assert '<pre class="verity-plain-body">- - - - ' in admin.content.decode()
