"""Where an article is read: its public link, the same for the API, answers and the desktop."""

from __future__ import annotations

from django.conf import settings


def article_url(slug: str) -> str:
    return f"{settings.VERITY_BASE_URL.rstrip('/')}/articles/{slug}/"
