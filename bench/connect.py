"""Connector benchmark: how long a Zendesk Guide export takes to sync and index (`kb_connect zendesk`).

    python -m bench.connect                          # 500 generated articles, 10 % with an English translation
    python -m bench.connect --articles 2000 --translated 0.2
    python -m bench.connect --generate-only /tmp/zendesk-500   # only write the export, to time the command by hand

Writes a Help Center API export (articles.json pages of 100 as Zendesk pages them, sections.json,
translations/<id>.json) of generated German service articles, then, in the bench database
(`verity_bench`, dropped and recreated, never the dev data), times `kb_connect zendesk` three
times in this process without workers: the first sync (create, publish, index every article),
a re-run of the unchanged export, and a re-run after 10 articles changed (10 new versions in
review). The embedding model is loaded before the first run is timed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

HC = "https://alpenfunk.zendesk.com"
WEB = "https://hilfe.alpenfunk.example"
SECTIONS = [
    ("Vertrag & Tarife", ["Tarif", "Vertragslaufzeit", "Kündigung", "Rufnummernmitnahme", "Zusatzoption"]),
    ("Rechnung & Zahlung", ["Rechnung", "Lastschrift", "Mahnung", "Gutschrift", "Zahlungsart"]),
    ("Geräte & Versand", ["Rücksendung", "Reparatur", "Lieferung", "Geräteversicherung", "Ersatzgerät"]),
    ("Netz & Störungen", ["Netzabdeckung", "Störung", "Router", "WLAN-Call", "Funkloch"]),
    ("SIM & eSIM", ["eSIM", "SIM-Karte", "PIN und PUK", "Multi-SIM", "SIM-Sperre"]),
    ("Roaming & Ausland", ["EU-Roaming", "Roaming außerhalb der EU", "Auslandstelefonie", "Datenpass", "Kostenairbag"]),
    ("Konto & Datenschutz", ["Kundenkonto", "Passwort", "Datenauskunft", "Einwilligung", "Zwei-Faktor-Login"]),
    ("App & Dienste", ["Alpenfunk-App", "Mailbox", "Rufumleitung", "Festnetz-Flat", "TV-Option"]),
]
ACTIONS = ["beantragen", "ändern", "prüfen", "einrichten", "kündigen", "verstehen", "freischalten", "zurücksetzen"]
CHANNELS = ["in der Alpenfunk-App", "in Mein Alpenfunk", "telefonisch unter 0800 123 45 67", "in jeder Alpenfunk-Filiale"]
MENUS = ["Vertrag > Optionen", "Rechnung > Übersicht", "Geräte > Bestellungen", "Konto > Sicherheit", "SIM > Verwaltung"]


def _article_html(rng: random.Random, topic: str, action: str, number: int) -> str:
    days, fee, hours = rng.choice([7, 14, 30, 60]), rng.choice(["kostenlos", "4,95 €", "9,95 €", "19,99 €"]), rng.choice([24, 48, 72])
    steps = rng.sample([
        f"Öffnen Sie {rng.choice(CHANNELS)}.", f"Wählen Sie <em>{rng.choice(MENUS)}</em>.",
        f"Geben Sie Ihre Kundennummer und die Vorgangsnummer {number:06d} an.", "Bestätigen Sie den Auftrag mit Ihrem Login.",
        f"Sie erhalten innerhalb von {hours} Stunden eine Bestätigung per E-Mail.",
        "Prüfen Sie die Angaben in der Zusammenfassung, bevor Sie absenden.",
    ], k=rng.randint(3, 5))
    parts = [
        f"<p>Sie möchten {topic} {action}? Das geht {rng.choice(CHANNELS)}. Für Bestandskunden ist der Vorgang {fee}; "
        f"die Änderung gilt spätestens nach {days} Tagen.</p>",
        "<h2>So gehen Sie vor</h2>", "<ol>" + "".join(f"<li>{step}</li>" for step in steps) + "</ol>",
    ]
    if rng.random() < 0.4:
        rows = "".join(f"<tr><td>{label}</td><td>{rng.choice(['sofort', f'{days} Tage', 'nächster Monat'])}</td>"
                       f"<td>{rng.choice(['kostenlos', fee])}</td></tr>" for label in ("Online", "Telefon", "Filiale"))
        parts.append(f"<table><thead><tr><th>Weg</th><th>Dauer</th><th>Preis</th></tr></thead><tbody>{rows}</tbody></table>")
    parts.append(f"<h2>Gut zu wissen</h2><p>Haben Sie {topic} in den letzten {days} Tagen schon einmal geändert, "
                 f"bearbeitet unser Kundenservice den Auftrag von Hand. Fragen zu {topic} beantworten wir "
                 f"{rng.choice(CHANNELS)}, montags bis samstags von 8 bis 20 Uhr.</p>")
    if rng.random() < 0.3:
        parts.append(f'<p><img src="/hc/article_attachments/{9000000 + number}/screenshot.png" alt="{topic} in der App"></p>')
    return "".join(parts)


def generate(out: Path, *, articles: int, translated: float, seed: int = 17) -> dict[str, int]:
    """Write a Help Center API export of `articles` German articles; `translated` of them with English."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "translations").mkdir(exist_ok=True)
    sections = [{"id": 360004100000 + index, "name": name, "locale": "de", "source_locale": "de", "category_id": 360002000001,
                 "position": index, "outdated": False, "parent_section_id": None, "theme_template": "section_page",
                 "url": f"{HC}/api/v2/help_center/de/sections/{360004100000 + index}.json",
                 "html_url": f"{WEB}/hc/de/sections/{360004100000 + index}", "description": "",
                 "created_at": "2024-03-04T09:12:44Z", "updated_at": "2026-09-01T07:40:02Z"}
                for index, (name, _) in enumerate(SECTIONS)]
    (out / "sections.json").write_text(json.dumps({"sections": sections, "next_page": None, "count": len(sections)},
                                                  ensure_ascii=False), encoding="utf-8")
    rows, translations = [], 0
    for number in range(articles):
        section_index = number % len(SECTIONS)
        topic = SECTIONS[section_index][1][(number // len(SECTIONS)) % 5]
        action = ACTIONS[(number // (len(SECTIONS) * 5)) % len(ACTIONS)]
        article_id = 360012000000 + number
        title = f"{topic} {action}" + (f" ({number // (len(SECTIONS) * 5 * len(ACTIONS)) + 1})" if number >= 320 else "")
        body = _article_html(rng, topic, action, number)
        rows.append({
            "id": article_id, "url": f"{HC}/api/v2/help_center/de/articles/{article_id}.json",
            "html_url": f"{WEB}/hc/de/articles/{article_id}", "author_id": 900100200300 + section_index,
            "comments_disabled": True, "draft": False, "promoted": False, "position": number, "vote_sum": 0, "vote_count": 0,
            "section_id": sections[section_index]["id"], "created_at": "2024-06-11T08:30:00Z",
            "updated_at": f"2026-{1 + number % 11:02d}-{1 + number % 27:02d}T08:00:00Z", "edited_at": "2026-10-01T08:00:00Z",
            "name": title, "title": title, "source_locale": "de", "locale": "de", "outdated": False, "outdated_locales": [],
            "permission_group_id": 1600001, "user_segment_id": 360000555001 if number % 9 == 0 else None,
            "label_names": [topic.lower().split()[0], SECTIONS[section_index][0].split()[0].lower()], "content_tag_ids": [],
            "body": body,
        })
        if rng.random() < translated:
            translations += 1
            english = {"source_id": article_id, "source_type": "article", "locale": "en-us", "draft": False, "outdated": False,
                       "title": f"{topic}: how to {['apply', 'change', 'check', 'set up', 'cancel'][number % 5]} ({number})",
                       "body": f"<p>You can manage {topic} in the Alpenfunk app. The change applies within {7 + number % 23} days.</p>"
                               "<ol><li>Open the app.</li><li>Choose the option.</li><li>Confirm the order.</li></ol>",
                       "html_url": f"{WEB}/hc/en-us/articles/{article_id}", "updated_at": "2026-10-02T09:00:00Z"}
            (out / "translations" / f"{article_id}.json").write_text(json.dumps({"translations": [english]}, ensure_ascii=False),
                                                                       encoding="utf-8")
    for page, start in enumerate(range(0, articles, 100), start=1):
        name = "articles.json" if page == 1 else f"articles-{page}.json"
        next_page = f"{HC}/api/v2/help_center/de/articles.json?page={page + 1}&per_page=100" if start + 100 < articles else None
        (out / name).write_text(json.dumps({"articles": rows[start:start + 100], "page": page, "per_page": 100,
                                            "next_page": next_page, "count": articles}, ensure_ascii=False), encoding="utf-8")
    return {"articles": articles, "translations": translations}


def _sync(export: Path, *args: str) -> tuple[float, str]:
    from django.core.management import call_command

    out = StringIO()
    started = time.perf_counter()
    call_command("kb_connect", "zendesk", str(export), "--inline", *args, stdout=out, stderr=StringIO())
    return time.perf_counter() - started, out.getvalue().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.connect", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--translated", type=float, default=0.1, help="share of articles with an English translation")
    parser.add_argument("--generate-only", type=Path, metavar="DIR", help="only write the export to DIR")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.generate_only:
        counts = generate(args.generate_only, articles=args.articles, translated=args.translated)
        print(f"wrote {counts['articles']} articles and {counts['translations']} translations to {args.generate_only}")
        return 0

    from bench.retrieval import django_setup

    django_setup(argparse.Namespace(embedder=None, semantic_weight=None))
    from retrieval.index.embeddings import active_embedder
    from retrieval.models import Chunk

    active_embedder().embed_documents(["Das Modell wird geladen.", "Loading the model."])  # not part of the timed sync
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "zendesk"
        counts = generate(export, articles=args.articles, translated=args.translated)
        first, summary = _sync(export, "--space", "hilfe", "--owner", "wissen@alpenfunk.example")
        chunks = Chunk.objects.filter(is_indexed=True).count()
        again, again_summary = _sync(export)
        for page in sorted(export.glob("articles*.json"))[:1]:
            data = json.loads(page.read_text(encoding="utf-8"))
            for article in data["articles"][:10]:
                article["body"] += "<p>Neu: Der Vorgang ist jetzt auch im Chat möglich.</p>"
            page.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        changed, changed_summary = _sync(export)
    records = counts["articles"] + counts["translations"]
    print(f"# kb_connect zendesk: {counts['articles']} articles + {counts['translations']} translations = {records} pages\n")
    print("| run | seconds | pages/s | result |")
    print("|---|---|---|---|")
    print(f"| first sync (create, publish, index {chunks} chunks) | {first:.1f} | {records / first:.1f} | {summary} |")
    print(f"| re-run, unchanged | {again:.1f} | {records / again:.1f} | {again_summary} |")
    print(f"| re-run, 10 articles changed | {changed:.1f} | {records / changed:.1f} | {changed_summary} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
