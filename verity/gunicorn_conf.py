"""gunicorn's settings for Verity: `gunicorn -c python:verity.gunicorn_conf verity.wsgi` (README "Deployment").

Sync workers, because only they enforce `timeout` as a limit on each request: a worker busy with one
request for longer is ended and replaced. Each worker loads the embedding model at start (VERITY_WARM_UP).
The access log has the path without its query string (search terms are what people typed) and no referrer.
"""

from __future__ import annotations

import os

import gunicorn.http.message as _message

bind = os.environ.get("VERITY_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("VERITY_WEB_WORKERS", "3"))
worker_class = "sync"
timeout = int(os.environ.get("VERITY_WEB_TIMEOUT", "120"))  # seconds per request, then the worker is replaced
graceful_timeout = 30
# The longest GET the API documents is a search: q 1,000 characters, space 300, tags 500, kind 100, locale 12.
# Percent-encoded, a four-byte character (an emoji) takes 12 bytes: about 23,000 bytes. gunicorn caps the
# request line at its built-in 8,190 bytes (or none at all with 0), so a documented query of ~680 emoji
# got an HTML 414. The cap is raised to 32 KiB here, still a bound; the API's own limits then answer
# with a JSON 400 naming the parameter.
limit_request_line = 32768
_message.MAX_REQUEST_LINE = max(_message.MAX_REQUEST_LINE, limit_request_line)
http_parser = "python"  # the optional C parser keeps its own 8,190-byte cap
accesslog = os.environ.get("VERITY_ACCESS_LOG", "-")
errorlog = "-"
# host, time, method, path WITHOUT the query string, protocol, status, bytes, duration in ms, user agent
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "verity-web"
control_socket_disable = True  # one fixed path per user by default: several servers on a machine would collide

os.environ.setdefault("VERITY_WARM_UP", "1")  # the workers load the embedding model before the first question
