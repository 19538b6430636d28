"""Backups restore (#14 item 6, README "Backups"): `pg_dump` of a database with published knowledge, restored
into a fresh database, serves the same knowledge: the same rows, the same search index, the same `kb_export`."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from governance import services
from kb.models import Article
from verity.core import embedded

pytestmark = pytest.mark.django_db(transaction=True)

COUNTED = ["kb_article", "kb_articleversion", "governance_auditevent", "retrieval_chunk", "retrieval_chunkembedding",
           "retrieval_posting"]


def _publish(actor, approver, article):
    review = services.version_submit(actor=actor, version=article.latest_version)
    services.version_approve(actor=approver, review=review)


def _counts(cursor) -> dict[str, int]:
    counts = {}
    for table in COUNTED:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
        counts[table] = cursor.fetchone()[0]
    return counts


def _libpq_args(database: str) -> list[str]:
    config = settings.DATABASES["default"]
    return ["-h", config["HOST"], "-p", str(config["PORT"]), "-U", config["USER"], "-d", database]


def test_a_dump_restored_into_a_fresh_database_serves_the_same_knowledge(make_article, author, approver, tmp_path):
    # given published knowledge: a public article with two versions, an internal one, one never published
    first = make_article("tarifwechsel", body="Sie können einmal pro Monat wechseln.")
    _publish(author, approver, first)
    first.refresh_from_db()
    second = services.version_create(actor=author, article=first, title=first.title,
                                     body="Sie können jederzeit wechseln.", base_version=1)
    _publish(author, approver, Article.objects.get(pk=first.pk))
    assert second.number == 2
    _publish(author, approver, make_article("kulanz", title="Kulanz", body="Gutschriften bis 25 Euro.",
                                            audience=Article.Audience.INTERNAL))
    make_article("entwurf", title="Entwurf", body="Noch nicht freigegeben.")
    source = settings.DATABASES["default"]["NAME"]
    restored = f"{source}_restored"
    dump = tmp_path / "verity.dump"

    # when it is dumped (as README "Backups" says) and restored into a fresh database
    subprocess.run([str(embedded._pg_bin("pg_dump")), "--format=custom", "--file", str(dump), *_libpq_args(source)],
                   check=True)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        cursor.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run([str(embedded._pg_bin("pg_restore")), "--no-owner", "--exit-on-error",
                        *_libpq_args(restored), str(dump)], check=True)

        # then the restored database has every row and the search index
        with connection.cursor() as cursor:
            expected = _counts(cursor)
        config = settings.DATABASES["default"]
        with psycopg.connect(host=config["HOST"], port=config["PORT"], user=config["USER"], dbname=restored) as other, \
                other.cursor() as cursor:
            assert _counts(cursor) == expected
            cursor.execute("SELECT a.slug, v.number, v.body FROM kb_article a "
                           "JOIN kb_articleversion v ON v.id = a.live_version_id ORDER BY a.slug")
            assert cursor.fetchall() == [("kulanz", 1, "Gutschriften bis 25 Euro.\n"),
                                         ("tarifwechsel", 2, "Sie können jederzeit wechseln.\n")]
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexdef ILIKE '%USING hnsw%'")
            assert cursor.fetchone()[0] >= 1
        assert expected["kb_article"] == 3 and expected["retrieval_chunk"] >= 2

        # and Verity pointed at it (DATABASE_URL) exports the same knowledge base as the original
        call_command("kb_export", str(tmp_path / "original"))
        url = f"postgres://{config['USER']}@{quote(config['HOST'], safe='')}:{config['PORT']}/{restored}"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SECRET_KEY": "restore-test-" + "x" * 50}
        export = subprocess.run([sys.executable, "manage.py", "kb_export", str(tmp_path / "restored")],
                                cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
        assert export.returncode == 0, export.stderr
        assert export.stdout.startswith("Exported 2 article(s) to ")
        written = sorted(path.name for path in (tmp_path / "original").iterdir())
        assert written == ["kulanz.md", "tarifwechsel.md"]
        match, mismatch, errors = filecmp.cmpfiles(tmp_path / "original", tmp_path / "restored", written, shallow=False)
        assert (match, mismatch, errors) == (written, [], [])
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')


def test_pg_tools_of_the_embedded_server_are_found():
    assert Path(embedded._pg_bin("pg_dump")).is_file()
    assert Path(embedded._pg_bin("pg_restore")).is_file()
