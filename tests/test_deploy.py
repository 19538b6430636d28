"""Production settings (#14 item 6): DEBUG off by default, the secret key, the TLS proxy settings that make
`check --deploy` pass, the Content-Security-Policy, static files by WhiteNoise, and gunicorn's settings."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

from verity.core import local_secret

ROOT = Path(settings.BASE_DIR)
DEPLOY_KEY = "k" * 20 + "-this-is-a-test-deployment-key-0123456789abcdefghij"
SETTINGS_PROBE = (
    "import json; from django.conf import settings as s; print(json.dumps({name: getattr(s, name, None) for name in "
    "['DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', 'SECURE_REDIRECT_EXEMPT']}))"
)


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh process: none of the DJANGO_/VERITY_ settings of this one, its own data dir."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DJANGO_", "VERITY_", "DATABASE_URL", "CELERY_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "verity.settings", "VERITY_DATA_DIR": str(tmp_path / "data"), **overrides})
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_deployment_without_a_secret_key_refuses_to_start_and_says_why(tmp_path):
    env = _env(tmp_path, DATABASE_URL="postgres://verity@127.0.0.1:1/verity")

    result = _run(["manage.py", "check"], env)

    assert result.returncode == 1
    assert result.stderr.startswith("Verity cannot start: DJANGO_SECRET_KEY is not set. A deployment (DATABASE_URL is "
                                    "set, DJANGO_DEBUG is off) needs a secret key shared by all its web processes")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "secret_key").exists()


def test_the_wsgi_application_refuses_too(tmp_path):
    env = _env(tmp_path, DATABASE_URL="postgres://verity@127.0.0.1:1/verity")

    result = _run(["-c", "import verity.wsgi"], env)

    assert result.returncode == 1
    assert "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set." in result.stderr


def test_debug_is_off_by_default_and_cookies_work_over_plain_http(tmp_path):
    result = _run(["-c", SETTINGS_PROBE], _env(tmp_path, DJANGO_SECRET_KEY=DEPLOY_KEY))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False, "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_REDIRECT_EXEMPT": [],
    }


def test_behind_the_tls_proxy_cookies_are_secure_and_hsts_is_sent(tmp_path):
    env = _env(tmp_path, DJANGO_SECRET_KEY=DEPLOY_KEY, VERITY_BEHIND_TLS_PROXY="1")

    result = _run(["-c", SETTINGS_PROBE], env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"], "SECURE_REDIRECT_EXEMPT": ["^healthz$"],
    }


def test_check_deploy_passes_behind_the_tls_proxy(tmp_path):
    env = _env(tmp_path, DJANGO_SECRET_KEY=DEPLOY_KEY, VERITY_BEHIND_TLS_PROXY="1",
               DATABASE_URL="postgres://verity@127.0.0.1:1/verity")

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def test_check_deploy_names_what_is_missing_without_the_tls_proxy_setting(tmp_path):
    env = _env(tmp_path, DJANGO_SECRET_KEY=DEPLOY_KEY, DATABASE_URL="postgres://verity@127.0.0.1:1/verity")

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 1
    assert set(re.findall(r"security\.W\d+", result.stderr)) == {
        "security.W004", "security.W008", "security.W012", "security.W016"}


def test_a_single_machine_installation_generates_its_secret_key_once_and_keeps_it(tmp_path, capsys):
    # given no key file
    root = tmp_path / "data"

    # when two processes of the installation start
    first = local_secret.local_secret_key(root)
    second = local_secret.local_secret_key(root)

    # then both use the same generated key, readable by this user only, and the first one said so
    assert first == second
    assert len(first) >= 50
    path = root / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert capsys.readouterr().err == (
        f"Verity: DJANGO_SECRET_KEY is not set; generated this installation's secret key in {path} "
        "(kept there; set DJANGO_SECRET_KEY for a deployment).\n")
    assert [p.name for p in root.iterdir()] == ["secret_key"]  # no temporary file left


def test_a_damaged_key_file_is_refused_not_replaced(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "secret_key").write_text("short\n")

    with pytest.raises(local_secret.LocalSecretError, match="holds no usable secret key"):
        local_secret.local_secret_key(root)

    assert (root / "secret_key").read_text() == "short\n"


def test_without_database_url_a_process_starts_with_the_generated_key(tmp_path):
    env = _env(tmp_path)

    result = _run(["-c", "from django.conf import settings; print(settings.SECRET_KEY)"], env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (tmp_path / "data" / "secret_key").read_text().strip()
    assert "generated this installation's secret key" in result.stderr


# --- Content-Security-Policy ----------------------------------------------------------------------


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/docs/", "/api/v1/search?q=x", "/healthz"])
def test_every_response_carries_the_content_security_policy(db, path):
    response = Client().get(path)

    assert response["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/docs/"])
def test_pages_have_no_inline_script_or_style_the_policy_would_block(db, path):
    html = Client().get(path).content.decode()

    assert not INLINE_SCRIPT.findall(html)
    assert "<style" not in html
    assert " style=" not in html


def test_templates_have_no_inline_script_or_style():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if INLINE_SCRIPT.search(text) or "<style" in text or re.search(r"\sstyle=", text) or re.search(r"\son\w+=", text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


# --- static files by WhiteNoise -------------------------------------------------------------------


def test_static_files_are_served_by_whitenoise_with_debug_off(db):
    assert settings.DEBUG is False  # Django itself serves no static files now

    response = Client().get("/static/desktop/desktop.css")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (ROOT / "static" / "desktop" / "desktop.css").read_bytes()


def test_collected_static_files_have_hashed_names_are_compressed_and_cached_for_a_year(db, tmp_path):
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "verity.security.StaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path / "static", STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = static("desktop/desktop.js")
        client = Client()  # a new client: WhiteNoise reads the collected files when its first request comes

        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")

    assert re.fullmatch(r"/static/desktop/desktop\.[0-9a-f]{12}\.js", url)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"


def test_pages_render_before_collectstatic(db, tmp_path):
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "verity.security.StaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path / "never-collected", STORAGES=storages):
        response = Client().get("/accounts/login/")
        css = Client().get(static("desktop/desktop.css"))

    assert response.status_code == 200
    assert '<link rel="stylesheet" href="/static/desktop/desktop.css">' in response.content.decode()
    assert css.status_code == 200


# --- gunicorn: request time limit and access log ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn_server(tmp_path):
    """Verity's gunicorn settings serving a tiny WSGI app (tests/wsgi_probe.py) with a 2-second request limit."""
    port = _free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "VERITY_WEB_TIMEOUT": "2", "VERITY_WEB_WORKERS": "1", "VERITY_ACCESS_LOG": str(log),
           "VERITY_BIND": f"127.0.0.1:{port}"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:verity.gunicorn_conf", "tests.wsgi_probe:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/ready", timeout=1)  # noqa: S310 - our own local server
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.communicate()[1]}")
            time.sleep(0.2)
    yield base, log
    server.terminate()
    server.wait(timeout=30)


def test_access_log_has_the_path_without_its_query_string(gunicorn_server):
    base, log = gunicorn_server

    with urllib.request.urlopen(f"{base}/api/v1/search?q=Max+Mustermann+IBAN+DE89&locale=de") as response:  # noqa: S310
        assert response.status == 200
    time.sleep(0.5)

    lines = [line for line in log.read_text().splitlines() if "/api/v1/search" in line]
    assert len(lines) == 1
    assert re.fullmatch(r'127\.0\.0\.1 \[[^]]+\] "GET /api/v1/search HTTP/1\.1" 200 3 \d+ms "Python-urllib/3\.11"', lines[0])
    assert "Mustermann" not in log.read_text()


def test_a_request_over_the_time_limit_is_ended_by_the_server(gunicorn_server):
    base, _ = gunicorn_server
    started = time.monotonic()

    with pytest.raises((urllib.error.URLError, ConnectionError, http_client_errors())):
        urllib.request.urlopen(f"{base}/sleep", timeout=30)  # noqa: S310 - would take 20 s

    assert time.monotonic() - started < 10
    with urllib.request.urlopen(f"{base}/ready", timeout=10) as response:  # noqa: S310 - a new worker serves
        assert response.status == 200


def http_client_errors() -> type[Exception]:
    import http.client

    return http.client.HTTPException


def test_a_search_of_the_documented_maximum_length_reaches_the_application(gunicorn_server):
    """The schema allows q of 1,000 characters (and space 300, tags 500): emoji take 12 bytes each once
    percent-encoded, beyond gunicorn's built-in 8,190-byte request line (schemathesis found an HTML 414)."""
    import urllib.parse

    base, _ = gunicorn_server
    query = urllib.parse.urlencode({"q": "😀" * 1000, "space": "ä" * 300, "tags": "😀" * 500, "locale": "de"})
    assert len(query) > 8190

    with urllib.request.urlopen(f"{base}/api/v1/search?{query}", timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_a_request_line_beyond_any_documented_request_is_still_refused(gunicorn_server):
    base, _ = gunicorn_server

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/api/v1/search?q={'a' * 40000}", timeout=10)  # noqa: S310
    assert refused.value.code == 414
