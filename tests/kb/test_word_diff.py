"""The reviewer's diff: rendered text, only the changed words marked, safe HTML."""

from __future__ import annotations

import re

from kb.word_diff import word_diff, word_diff_text

PRICE_OLD = "## Preise\n\nDer Ersatz der SIM-Karte kostet 6,82 € pro Karte. Bestellen Sie ihn unter Mein Konto.\n\nAbsatz ohne Änderung."
PRICE_NEW = PRICE_OLD.replace("6,82 €", "4,99 €")


def _marked(html: str, tag: str) -> list[str]:
    return re.findall(rf'<{tag} class="verity-{tag}">(.*?)</{tag}>', html)


def test_a_changed_price_marks_only_the_amount_not_the_paragraph():
    rows = word_diff(PRICE_OLD, PRICE_NEW)

    assert [row.kind for row in rows] == ["same", "changed", "same"]
    changed = rows[1]
    assert changed.inline == ('<p>Der Ersatz der SIM-Karte kostet <del class="verity-del">6,82</del> '
                              '<ins class="verity-ins">4,99</ins> € pro Karte. Bestellen Sie ihn unter Mein Konto.</p>')
    assert (_marked(changed.old, "del"), _marked(changed.old, "ins")) == (["6,82"], [])
    assert (_marked(changed.new, "ins"), _marked(changed.new, "del")) == (["4,99"], [])
    assert rows[0].inline == "<h2>Preise</h2>\n" and "<ins" not in rows[2].inline + rows[0].inline


def test_the_diff_is_of_rendered_text_not_of_markdown():
    rows = word_diff("Das ist **wichtig**.", "Das ist **sehr wichtig**.")

    assert rows[0].inline == '<p>Das ist <strong><ins class="verity-ins">sehr</ins> wichtig</strong>.</p>'
    assert "**" not in rows[0].inline


def test_added_and_removed_paragraphs_and_list_items():
    old = "Erster Absatz.\n\n- eins\n- zwei\n\nGeht weg."
    new = "Erster Absatz.\n\nGanz neu.\n\n- eins\n- drei"

    rows = word_diff(old, new)

    assert [(row.kind, row.inline) for row in rows] == [
        ("same", "<p>Erster Absatz.</p>\n"),
        ("added", '<p><ins class="verity-ins">Ganz neu.</ins></p>'),
        ("changed", '<ul>\n<li>eins</li>\n<li><del class="verity-del">zwei</del> <ins class="verity-ins">drei</ins></li>\n</ul>'),
        ("removed", '<p><del class="verity-del">Geht weg.</del></p>'),
    ]
    assert (rows[1].old, rows[3].new) == ("", "")


def test_a_first_version_is_all_new():
    rows = word_diff(None, "Hallo **Welt**")

    assert [row.kind for row in rows] == ["added"]
    assert rows[0].old == ""
    assert rows[0].new == '<p><ins class="verity-ins">Hallo</ins> <strong><ins class="verity-ins">Welt</ins></strong></p>'


def test_identical_bodies_have_no_marks():
    rows = word_diff(PRICE_OLD, PRICE_OLD)

    assert {row.kind for row in rows} == {"same"}
    assert "<ins" not in "".join(row.inline for row in rows) and "<del" not in "".join(row.inline for row in rows)


def test_text_is_escaped_and_scripts_never_reach_the_diff():
    rows = word_diff("Preis < 5 €", 'Preis < 6 € <script>alert(1)</script><img src=x onerror="alert(2)">')

    html = "".join(row.inline + row.old + row.new for row in rows)
    assert "<script" not in html and "onerror" not in html and "alert(1)" not in html
    assert "&lt; " in html and "<ins" in html


def test_a_changed_link_target_is_marked_even_when_its_text_is_the_same():
    rows = word_diff("Siehe [Hilfe](https://a.example/x).", "Siehe [Hilfe](https://a.example/y).")

    assert 'class="verity-changed-target" href="https://a.example/y"' in rows[0].inline
    assert 'href="https://a.example/x"' in rows[0].old and "verity-changed-target" not in rows[0].old


def test_tables_keep_their_structure_and_mark_the_cell():
    table = "| Tarif | Preis |\n|---|---|\n| S | 9,99 € |\n| M | 14,99 € |"

    rows = word_diff(table, table.replace("14,99", "12,99"))

    (row,) = rows
    assert row.kind == "changed"
    assert row.inline.count("<tr>") == 3 and row.inline.count("</td>") == 4
    assert _marked(row.inline, "del") == ["14,99"] and _marked(row.inline, "ins") == ["12,99"]


def test_titles_inline():
    assert word_diff_text("Tarif wechseln", "Tarif schnell wechseln") == (
        'Tarif <ins class="verity-ins">schnell</ins> wechseln')
    assert word_diff_text("A & B", "A & C") == 'A &amp; <del class="verity-del">B</del> <ins class="verity-ins">C</ins>'


def test_a_long_rewrite_stays_fast_and_complete():
    old = "\n\n".join(f"Absatz {n} sagt etwas über Tarife und Preise." for n in range(800))
    new = "\n\n".join(f"Abschnitt {n} spricht von Verträgen und Kosten." for n in range(800))

    rows = word_diff(old, new)

    inline = "".join(row.inline for row in rows)
    assert inline.count("<p>") == 800
