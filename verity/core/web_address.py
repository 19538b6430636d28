"""An http(s) address kept as a reference (where an announcement was published): shown as a link, never fetched.

What OpenAPI calls a `uri` with an http or https scheme. Django's URLValidator refuses host names over 253
characters (a DNS limit), which are valid URIs; the API's schema promised more than the server took."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MESSAGE = _("Enter an http:// or https:// address with a host and no spaces.")


def is_web_address(value: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def validate_web_address(value: str) -> None:
    if value and not is_web_address(value):
        raise ValidationError(MESSAGE, code="invalid")
