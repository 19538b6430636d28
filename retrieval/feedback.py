"""Feedback on answers: redacted like questions, attached to the answer's provenance record."""

from __future__ import annotations

import uuid

from django.db import transaction

from retrieval import guardrails
from retrieval.models import AnswerRecord, ApiKey, Feedback
from retrieval.redaction import redact
from verity.errors import NotFoundError


@transaction.atomic
def feedback_create(*, query_id: uuid.UUID, helpful: bool, comment: str = "", api_key: ApiKey | None = None,
                    user=None) -> Feedback:
    answer = AnswerRecord.objects.filter(pk=query_id).first()
    if answer is None or (api_key is not None and answer.api_key_id not in (None, api_key.pk)):
        raise NotFoundError(f"No answer with query_id {query_id} for this key.")
    return Feedback.objects.create(
        answer=answer, helpful=helpful, comment=redact(comment, guardrails.redaction_patterns()).text,
        api_key=api_key, user=user if getattr(user, "pk", None) else None,
    )
