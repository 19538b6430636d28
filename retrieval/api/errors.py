"""One exception handler: every API error is {"error": {"code", "message"}} with a fitting 4xx."""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from verity.core.errors import ApplicationError


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            message = _first_message(value)
            parts.append(message if field == "non_field_errors" else f"{field}: {message}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_first_message(item) for item in detail)
    return str(detail)


def api_exception_handler(exc, context):
    """Every API error is {"error": {"code", "message"}} with a fitting 4xx status."""
    if isinstance(exc, ApplicationError):
        body = {"error": {"code": exc.code, "message": exc.message}}
        if exc.details:
            body["error"]["details"] = exc.details
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = "invalid"
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid_parameters"
        details = exc.detail
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        details = None
    if isinstance(exc, exceptions.NotAuthenticated):
        code = "not_authenticated"
        response.data = {"detail": "Send an API key as 'Authorization: Bearer <api key>'."}
    body = {"error": {"code": code, "message": _first_message(details if details is not None else response.data.get("detail", response.data))}}
    if details is not None:
        body["error"]["details"] = details
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and code != "too_many_failed_attempts":
        body["error"]["code"] = "rate_limited"
    response.data = body
    return response
