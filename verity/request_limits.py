"""Bounds on what one API request may make the server do (issue #14 items 4 and 5).

Under /api/ a body larger than `VERITY_API_MAX_BODY_BYTES` is refused before it is read (413), JSON
nested deeper than `JSON_MAX_DEPTH` is refused before it is parsed (400), and a database outage is
a 503 with `Retry-After` instead of a 500: each in the API's error format.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
JSON_MAX_DEPTH = 32
DATABASE_RETRY_AFTER_SECONDS = 30
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group(0) in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing JSON nested deeper than JSON_MAX_DEPTH (deep nesting was a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if json_depth(text) > JSON_MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels")
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _too_large(limit: int) -> JsonResponse:
    return _api_error(413, "request_too_large", f"The request body is larger than {limit} bytes.")


class ApiRequestLimitsMiddleware:
    """Refuses oversized API bodies before they are read; turns a database outage into a JSON 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _api_error(400, "parse_error", "The Content-Length header is not a number.")
            if length > settings.VERITY_API_MAX_BODY_BYTES:
                return _too_large(settings.VERITY_API_MAX_BODY_BYTES)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return _too_large(min(settings.VERITY_API_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error("database unavailable while serving %s: %s", request.path, exception)
            response = _api_error(503, "database_unavailable", "The database is not reachable; try again shortly.")
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
            return response
        return None
