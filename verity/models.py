"""Models of the project package itself: what no app owns."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuthFailure(models.Model):
    """One failed sign-in (username and client address) or failed API key (client address): the throttle's count."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Sign-in"
        API_KEY = "api_key", "API key"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    username = models.CharField(max_length=150, blank=True)  # lower-cased; empty for API keys
    client_ip = models.GenericIPAddressField()
    failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "client_ip", "username", "failed_at"], name="authfailure_lookup"),
            models.Index(fields=["failed_at"], name="authfailure_age"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.username or '-'} from {self.client_ip} at {self.failed_at:%Y-%m-%d %H:%M:%S}"
