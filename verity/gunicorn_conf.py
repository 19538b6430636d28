"""gunicorn's settings for Verity: `gunicorn -c python:verity.gunicorn_conf verity.wsgi` (README "Deployment").

Sync workers, because only they enforce `timeout` as a limit on each request: a worker busy with one
request for longer is ended and replaced. Each worker loads the embedding model at start (VERITY_WARM_UP).
The access log has the path without its query string (search terms are what people typed) and no referrer.
"""

from __future__ import annotations

import os

bind = os.environ.get("VERITY_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("VERITY_WEB_WORKERS", "3"))
worker_class = "sync"
timeout = int(os.environ.get("VERITY_WEB_TIMEOUT", "120"))  # seconds per request, then the worker is replaced
graceful_timeout = 30
# A search may be 1,000 characters; percent-encoded umlauts take 6 bytes each (gunicorn's maximum is 8190)
limit_request_line = 8190
accesslog = os.environ.get("VERITY_ACCESS_LOG", "-")
errorlog = "-"
# host, time, method, path WITHOUT the query string, protocol, status, bytes, duration in ms, user agent
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "verity-web"
control_socket_disable = True  # one fixed path per user by default: several servers on a machine would collide

os.environ.setdefault("VERITY_WARM_UP", "1")  # the workers load the embedding model before the first question
