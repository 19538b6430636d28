"""API keys: created, looked up by hash, revoked, rate-limited per key (in PostgreSQL, so every
web process shares one count)."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from kb.models import Article
from retrieval.models import ApiKey
from verity.core.errors import ApplicationError


@transaction.atomic
def apikey_create(*, name: str, audience: str, scopes: list[str] | None = None, rate_limit_per_minute: int = 120,
                  created_by=None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key (shown once, stored only as a hash)."""
    name = name.strip()
    if not name:
        raise ApplicationError("A key needs a name.", code="name_required")
    if audience not in Article.Audience.values:
        raise ApplicationError(f"audience must be one of {', '.join(Article.Audience.values)}, not '{audience}'.", code="bad_audience")
    scopes = sorted(set(scopes or []))
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if unknown:
        raise ApplicationError(f"unknown scope(s): {', '.join(sorted(unknown))}; known: {', '.join(ApiKey.Scope.values)}.", code="bad_scope")
    if rate_limit_per_minute < 1:
        raise ApplicationError("The rate limit must be at least 1 request per minute.", code="bad_rate_limit")
    if ApiKey.objects.filter(name=name).exists():
        raise ApplicationError(f"A key named '{name}' already exists.", code="name_taken")
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        name=name, prefix=raw[:10], key_hash=ApiKey.hash(raw), audience=audience, scopes=scopes,
        rate_limit_per_minute=rate_limit_per_minute, created_by=created_by,
    )
    return key, raw


@transaction.atomic
def apikey_revoke(*, name: str) -> ApiKey:
    key = ApiKey.objects.select_for_update().filter(name=name).first()
    if key is None:
        raise ApplicationError(f"No key named '{name}'.", code="not_found")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


@transaction.atomic
def apikey_rotate(*, name: str) -> tuple[ApiKey, str]:
    """A new secret for the key (same name, audience, scopes, limit); the old one stops working at once.
    Returns the row and the new raw key (shown once)."""
    key = ApiKey.objects.select_for_update().filter(name=name).first()
    if key is None:
        raise ApplicationError(f"No key named '{name}'.", code="not_found")
    if key.revoked_at is not None:
        raise ApplicationError(f"The key '{name}' is revoked; create a new one instead.", code="revoked")
    raw = ApiKey.generate()
    key.prefix, key.key_hash = raw[:10], ApiKey.hash(raw)
    key.save(update_fields=["prefix", "key_hash"])
    return key, raw


def apikey_lookup(raw: str) -> ApiKey | None:
    return ApiKey.objects.filter(key_hash=ApiKey.hash(raw)).first()


def rate_limit_hit(key: ApiKey, *, now: dt.datetime | None = None) -> tuple[bool, int]:
    """Count one request in the key's current minute; returns (allowed, seconds until the window resets)."""
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO retrieval_apikeyusage (api_key_id, window_start, count) VALUES (%s, %s, 1)
            ON CONFLICT (api_key_id, window_start) DO UPDATE SET count = retrieval_apikeyusage.count + 1
            RETURNING count
            """,
            [key.pk, window],
        )
        count = cursor.fetchone()[0]
    retry_after = 60 - now.second
    return count <= key.rate_limit_per_minute, retry_after
