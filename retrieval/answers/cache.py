"""The answer cache: a question asked again over the same passages costs no model call.

The key is the sha256 of the redacted question (case and spacing folded), its locale, the audience,
the generator, the chunks the model reads (a chunk belongs to exactly one article version) and the
active guardrail rules. Publishing a version gives its article new chunks, so every cached reply
that read the old version is missed from then on; a changed guardrail rule changes every key. The
cache is the answer log itself (AnswerRecord.cache_key), so it is shared by all web processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from django.utils import timezone

from retrieval import tuning
from retrieval.models import AnswerRecord, GuardrailRule

CACHE_HOURS = tuning.ANSWER_CACHE_HOURS  # a reply is served again for a day at most, even if nothing it read changed


def guardrails_digest() -> str:
    rules = GuardrailRule.objects.filter(active=True).order_by("pk").values_list(
        "pk", "kind", "audience", "phrases", "message", "space_id")
    return hashlib.sha256(json.dumps(list(rules), default=str).encode()).hexdigest()


def answer_cache_key(*, question: str, locale: str, audience: str, generator: str, chunk_ids: list[int]) -> str:
    folded = re.sub(r"\s+", " ", question).strip().casefold()
    material = json.dumps([folded, locale, audience, generator, sorted(chunk_ids), guardrails_digest()])
    return hashlib.sha256(material.encode()).hexdigest()


def cached_reply(key: str) -> AnswerRecord | None:
    """The latest fresh reply written (not itself served from the cache) for this key."""
    return (
        AnswerRecord.objects.filter(
            cache_key=key, cached=False, simulated=False,
            status__in=[AnswerRecord.Status.ANSWERED, AnswerRecord.Status.REFUSED],
            created_at__gte=timezone.now() - dt.timedelta(hours=CACHE_HOURS),
        )
        .prefetch_related("cited__version__article")
        .order_by("-created_at")
        .first()
    )
