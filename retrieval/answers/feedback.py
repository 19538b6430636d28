"""Feedback on answers: redacted like questions, attached to the answer's provenance record."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import Flag
from governance.services import flag_raise
from retrieval.answers import guardrails
from retrieval.answers.redaction import redact
from retrieval.models import AnswerCitation, AnswerRecord, ApiKey, Feedback
from verity.core.errors import NotFoundError
from verity.core.i18n import written_in


@transaction.atomic
def feedback_create(*, query_id: uuid.UUID, helpful: bool, comment: str = "", reason: str = "",
                    api_key: ApiKey | None = None, user=None) -> Feedback:
    """Store a rating (a thumbs down may say why: `Feedback.Reason`); a thumbs down flags the cited articles."""
    answer = AnswerRecord.objects.filter(pk=query_id).first()
    if answer is None or (api_key is not None and answer.api_key_id not in (None, api_key.pk)):
        raise NotFoundError(f"No answer with query_id {query_id} for this key.")
    feedback = Feedback.objects.create(
        answer=answer, helpful=helpful, reason="" if helpful else reason,
        comment=redact(comment, guardrails.redaction_patterns()).text,
        api_key=api_key, user=user if getattr(user, "pk", None) else None,
    )
    if not helpful:
        _flag_cited_articles(feedback)
    return feedback


def _flag_cited_articles(feedback: Feedback) -> None:
    """Negative feedback puts the cited articles in front of their owners: one open flag per article and
    reason given (an answer rated "outdated" still reaches the owner while one rated "wrong" waits)."""
    for citation in AnswerCitation.objects.filter(answer=feedback.answer).select_related("version__article"):
        article = citation.version.article
        with written_in(article.locale):  # stored text about an article is in its language
            reason = str(Feedback.Reason(feedback.reason).label) if feedback.reason else ""
            reason_line = _("Reason: %(reason)s") % {"reason": reason} + "\n" if reason else ""
            values = {"number": citation.version.number, "comment": feedback.comment[:300], "reason": reason}
            if reason:
                summary = (_("An answer citing v%(number)s was rated “%(reason)s”: %(comment)s") if feedback.comment
                           else _("An answer citing v%(number)s was rated “%(reason)s”.")) % values
            else:
                summary = (_("An answer citing v%(number)s was rated unhelpful: %(comment)s") if feedback.comment
                           else _("An answer citing v%(number)s was rated unhelpful.")) % values
            evidence = reason_line + _("Question: %(question)s\nCited: %(quote)s") % {
                "question": feedback.answer.question[:500], "quote": citation.quote[:500]}
        open_flags = Flag.objects.filter(article=article, reason=Flag.Reason.FEEDBACK, state=Flag.State.OPEN)
        if reason_line:  # the reason opens the evidence: one open flag per reason
            open_flags = open_flags.filter(evidence__startswith=reason_line)
        if open_flags.exists():
            continue
        flag_raise(article=article, reason=Flag.Reason.FEEDBACK, summary=summary, evidence=evidence)
