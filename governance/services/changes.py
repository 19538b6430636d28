"""Change events (policy memos, release notes) and the flags their assessment raises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports
from governance.models import AuditEvent, ChangeEvent, Flag
from governance.services.base import article_language, audit_record
from governance.services.flags import flag_raise
from kb.models import Article
from verity.core.errors import (
    ApplicationError,
)


@transaction.atomic
def change_event_create(
    *, kind: str, title: str, description: str, effective_date: dt.date, source_url: str = "",
    author: AbstractBaseUser | None = None, author_label: str = "", assess: bool = True,
    announcing_key_id: int | None = None,
) -> ChangeEvent:
    """Record a policy change or release; its impact is assessed in a Celery task after commit."""
    event = ChangeEvent(
        kind=kind, title=title.strip(), description=description.strip(), effective_date=effective_date,
        source_url=source_url, author=author if author and author.pk else None,
        author_label=author_label or (author.get_username() if author and author.pk else ""),
        announcing_key_id=announcing_key_id,
    )
    try:
        event.full_clean()
    except ValidationError as error:
        raise ApplicationError(
            "; ".join(f"{ChangeEvent._meta.get_field(field).verbose_name if field != '__all__' else ''}: {' '.join(messages)}"
                      for field, messages in error.message_dict.items()),
            code="invalid_change",
        ) from None
    event.save()
    audit_record(event_type=AuditEvent.Type.CHANGE_CREATE, actor=author, target_label=event.title,
                 details={"change": event.pk, "kind": kind, "effective_date": effective_date.isoformat()})
    if assess:
        transaction.on_commit(lambda: ports.serving().change_assess(event_id=event.pk))
    return event


@dataclass(frozen=True)
class ImpactReason:
    """Why a change makes an article wrong, in parts, so that every flag states it in its own article's language.

    `stated` is the article's value in its own words; the change either sets `new` from `date`, or, naming no
    new value, changes what `clause` (the change's words) says; `path`: both are menu paths.
    """

    stated: str
    date: dt.date
    new: str = ""
    clause: str = ""
    path: bool = False

    def text(self) -> str:
        """In the active language."""
        values = {"stated": self.stated, "new": self.new, "clause": self.clause, "date": self.date.isoformat()}
        if self.path:
            return _("states the menu path “%(stated)s”; from %(date)s the item is under “%(new)s”") % values
        if not self.new:
            return _("states %(stated)s; this changes from %(date)s: “%(clause)s”") % values
        return _("states %(stated)s; the change sets %(new)s from %(date)s") % values


class ImpactFinding:
    """An affected article: `cause` states the reason in parts (written in each flag's language), or
    `reason` is a reason already written in the article's language (change-impact reading)."""

    def __init__(self, *, article: Article, score: float, evidence: str, cause: ImpactReason | None = None,
                 reason: str = "") -> None:
        self.article, self.score, self.evidence, self.cause, self.written = article, score, evidence, cause, reason

    def __repr__(self) -> str:
        return f"ImpactFinding({self.article.slug!r}, score={self.score}, reason={self.reason!r})"

    @property
    def reason(self) -> str:
        """The reason in the article's language."""
        with article_language(self.article):
            return self.reason_text()

    def reason_text(self) -> str:
        """The reason in the active language (a written reason stays as written)."""
        return self.cause.text() if self.cause is not None else self.written


@transaction.atomic
def change_event_record(*, event: ChangeEvent, findings: list[ImpactFinding], elapsed_ms: int) -> list[Flag]:
    """Flag every affected article (and its translations) for its owner; mark the event done. Idempotent."""
    event = ChangeEvent.objects.select_for_update().get(pk=event.pk)
    due = timezone.make_aware(dt.datetime.combine(event.effective_date, dt.time(0, 0)))
    flags: list[Flag] = []
    flagged: set[int] = set()
    for finding in sorted(findings, key=lambda f: f.score, reverse=True):
        flag = flag_raise(article=finding.article, reason=Flag.Reason.CHANGE_EVENT, summary=finding.reason,
                          evidence=finding.evidence, due_at=due, change_event=event, score=round(finding.score, 3))
        flagged.add(finding.article.pk)
        if flag:
            flags.append(flag)
    for finding in findings:
        article = finding.article
        related = list(article.translations.filter(live_version__isnull=False))
        if article.translation_of_id and article.translation_of.live_version_id:
            related.append(article.translation_of)
        # a translation flagged only because its source is follows the decision on the source's flag
        source_flag = Flag.objects.filter(article=article, change_event=event, state=Flag.State.OPEN).first()
        for other in related:
            if other.pk in flagged:
                continue
            flagged.add(other.pk)
            with article_language(other):
                summary = _("Translation of “%(slug)s” (%(locale)s), which this change affects: %(reason)s") % {
                    "slug": article.slug, "locale": article.locale, "reason": finding.reason_text()}
            flag = flag_raise(
                article=other, reason=Flag.Reason.CHANGE_EVENT, due_at=due, change_event=event, score=round(finding.score, 3),
                summary=summary, evidence=finding.evidence,
                follows=source_flag if other.translation_of_id == article.pk else None,
            )
            if flag:
                flags.append(flag)
    event.status = ChangeEvent.Status.DONE
    event.assessed_at = timezone.now()
    event.assessment_ms = elapsed_ms
    event.error = ""
    event.save(update_fields=["status", "assessed_at", "assessment_ms", "error"])
    audit_record(event_type=AuditEvent.Type.CHANGE_ASSESS, actor=None, target_label=event.title,
                 details={"change": event.pk, "flagged": sorted(flagged), "ms": elapsed_ms})
    return flags


@transaction.atomic
def change_event_fail(*, event: ChangeEvent, error: str) -> None:
    """Record that assessing a change failed, with the error, and audit it in the same transaction."""
    event = ChangeEvent.objects.select_for_update().get(pk=event.pk)
    event.status = ChangeEvent.Status.FAILED
    event.error = error[:5000]
    event.save(update_fields=["status", "error"])
    audit_record(event_type=AuditEvent.Type.CHANGE_ASSESS, actor=None, target_label=event.title,
                 details={"change": event.pk, "status": "failed", "error": error[:500]})
