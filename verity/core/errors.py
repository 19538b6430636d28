"""Typed application errors: raised by services, turned into messages or JSON by the edges."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refused operation. `code` is stable (used by APIs); `message` is for people."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status = 403


class InvalidTransitionError(ApplicationError):
    code = "invalid_transition"
    status = 409


class ConcurrentEditError(ApplicationError):
    code = "concurrent_edit"
    status = 409


class NotFoundError(ApplicationError):
    code = "not_found"
    status = 404
