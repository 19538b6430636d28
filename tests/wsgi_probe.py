"""A tiny WSGI app for the tests of Verity's gunicorn settings (tests/test_deploy.py): `/sleep` takes 20 s."""

from __future__ import annotations

import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(20)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"yes"]
