"""Sign-in throttling: after `VERITY_LOGIN_MAX_FAILURES` failed sign-ins for one username from one client
address within `VERITY_AUTH_FAILURE_WINDOW_SECONDS`, further sign-ins for it from there are refused with a
message until the oldest failure leaves the window; likewise API keys per client address. Counted in
PostgreSQL, so every web process and machine shares the count; a successful sign-in clears its failures.

Per user *and* address, so nobody can lock a colleague out from elsewhere by typing wrong passwords for them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from verity.models import AuthFailure

PRUNE_AFTER = dt.timedelta(days=1)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind the TLS proxy the address the proxy appended last to
    X-Forwarded-For (earlier entries are whatever the client sent, and not to be trusted)."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.BEHIND_TLS_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            address = forwarded[-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"  # noqa: S104 - not a bind address: the bucket of requests without a usable address


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.VERITY_AUTH_FAILURE_WINDOW_SECONDS)


def _retry_after(kind: str, ip: str, username: str, limit: int, now: dt.datetime) -> int:
    """Seconds until fewer than `limit` failures are in the window (0: not throttled)."""
    since = now - _window()
    recent = list(
        AuthFailure.objects.filter(kind=kind, client_ip=ip, username=username, failed_at__gte=since)
        .order_by("-failed_at").values_list("failed_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return 0
    return max(1, math.ceil((recent[-1] + _window() - now).total_seconds()))


def _record(kind: str, ip: str, username: str, now: dt.datetime) -> None:
    AuthFailure.objects.create(kind=kind, client_ip=ip, username=username, failed_at=now)
    AuthFailure.objects.filter(failed_at__lt=now - PRUNE_AFTER).delete()  # by the age index: usually nothing


def login_retry_after(request: HttpRequest, username: str) -> int:
    return _retry_after(AuthFailure.Kind.LOGIN, client_ip(request), username.strip().lower(),
                        settings.VERITY_LOGIN_MAX_FAILURES, timezone.now())


def login_failed(request: HttpRequest, username: str) -> None:
    _record(AuthFailure.Kind.LOGIN, client_ip(request), username.strip().lower(), timezone.now())


def login_succeeded(request: HttpRequest, username: str) -> None:
    AuthFailure.objects.filter(kind=AuthFailure.Kind.LOGIN, client_ip=client_ip(request),
                               username=username.strip().lower()).delete()


def api_key_retry_after(request: HttpRequest) -> int:
    return _retry_after(AuthFailure.Kind.API_KEY, client_ip(request), "", settings.VERITY_API_AUTH_MAX_FAILURES,
                        timezone.now())


def api_key_failed(request: HttpRequest) -> None:
    _record(AuthFailure.Kind.API_KEY, client_ip(request), "", timezone.now())


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
