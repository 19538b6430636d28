"""DRF authentication by API key (`Authorization: Bearer <key>`) and the per-key rate limit."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from retrieval.apikeys import apikey_lookup, rate_limit_hit
from retrieval.models import ApiKey
from verity import throttle


@dataclass
class ApiClient:
    """The authenticated caller of the API: a key, never a person."""

    key: ApiKey
    is_authenticated: bool = True

    @property
    def audiences(self) -> tuple[str, ...]:
        return ("public",) if self.key.audience == "public" else ("public", "internal")


class KeyRevoked(exceptions.PermissionDenied):
    default_code = "api_key_revoked"


class RateLimited(exceptions.Throttled):
    default_code = "rate_limited"


class TooManyFailedKeys(exceptions.Throttled):
    default_code = "too_many_failed_attempts"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword or len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <api key>'.", code="bad_authorization_header")
        retry_after = throttle.api_key_retry_after(request)
        if retry_after:
            raise TooManyFailedKeys(wait=retry_after, detail="Too many unknown API keys from your address.")
        key = apikey_lookup(header[1].decode(errors="replace"))
        if key is None:
            throttle.api_key_failed(request)
            raise exceptions.AuthenticationFailed("Unknown API key.", code="invalid_api_key")
        if key.revoked_at is not None:
            raise KeyRevoked(f"The API key '{key.name}' was revoked on {key.revoked_at:%Y-%m-%d}.")
        allowed, retry_after = rate_limit_hit(key)
        if not allowed:
            raise RateLimited(wait=retry_after, detail=f"Rate limit of {key.rate_limit_per_minute} requests per minute exceeded.")
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return ApiClient(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="verity"'


class HasApiKey(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, ApiClient)


class HasScope(BasePermission):
    scope = ""

    def has_permission(self, request, view) -> bool:
        scope = getattr(view, "required_scope", self.scope)
        return isinstance(request.user, ApiClient) and scope in request.user.key.scopes
