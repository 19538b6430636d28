"""HTTP hardening that Django 5.2 does not ship: a Content-Security-Policy header, and a static files
storage that never turns a missing `collectstatic` into a server error."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from whitenoise.storage import CompressedManifestStaticFilesStorage

CSP_HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    """Adds `settings.CONTENT_SECURITY_POLICY` to every response that does not set its own.

    Verity's pages, the admin and the API docs load scripts and styles from static files only (no inline
    script, style block or style attribute), so the policy needs neither 'unsafe-inline' nor 'unsafe-eval'.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and CSP_HEADER not in response:
            response[CSP_HEADER] = self.policy
        return response


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, hashed names after `collectstatic`; before it (no manifest yet: a test run,
    a bare `runserver`) the plain names, which WhiteNoise finds in the source folders, instead of a 500."""

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: no manifest, or no entry for this file
            return name
