"""Access logs name the path, never the query string: a search (`?q=...`) may carry personal data
(issue #14 item 7). The development server logs through `django.server`; a production server's
access logger (gunicorn's `gunicorn.access`) takes the same filter."""

from __future__ import annotations

import logging
import re

# a URL or a request line's path, followed by its query string
_QUERY = re.compile(r"(?P<path>https?://[^\s?#\"']*|(?:(?<=\s)|^)/[^\s?#\"']*)\?[^\s#\"']*")


def without_query(text: str) -> str:
    return _QUERY.sub(r"\g<path>", text)


class WithoutQueryStrings(logging.Filter):
    """Drops the query string from every URL in an access-log record (request line, referer)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = without_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(without_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):  # gunicorn's atoms; "q" is the query string itself
            record.args = {key: "" if key == "q" else without_query(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        return True
