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
from kb import blocks
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
                 reason: str = "", used_by: list[str] | None = None, block: Article | None = None) -> None:
        self.article, self.score, self.evidence, self.cause, self.written = article, score, evidence, cause, reason
        self.used_by = used_by  # for a content block: the slugs of the articles using it
        self.block = block  # for an article: the content block the wrong passage comes from

    def __repr__(self) -> str:
        return f"ImpactFinding({self.article.slug!r}, score={self.score}, reason={self.reason!r})"

    @property
    def reason(self) -> str:
        """The reason in the article's language."""
        with article_language(self.article):
            return self.reason_text()

    def reason_text(self) -> str:
        """The reason in the active language (a written reason stays as written)."""
        reason = self.cause.text() if self.cause is not None else self.written
        if self.used_by is not None:
            return _("Content block used in %(slugs)s: %(reason)s") % {
                "slugs": ", ".join(self.used_by) or _("no article"), "reason": reason}
        if self.block is not None:
            return _("Through the content block “%(slug)s”: %(reason)s") % {"slug": self.block.slug, "reason": reason}
        return reason


def _plain_words(text: str) -> str:
    return " ".join(text.split())


def _from_block(finding: ImpactFinding, block_text: str) -> bool:
    """Whether the passage a finding quotes is wrong because of a block's text: the block's text stands in
    the passage and holds the value the change ends (or, without a value, the passage is the block's text)."""
    text, evidence = _plain_words(block_text), _plain_words(finding.evidence)
    if not text or not evidence:
        return False
    if finding.cause is not None:
        return _plain_words(finding.cause.stated) in text and (text in evidence or evidence in text)
    return evidence in text


def block_findings(findings: list[ImpactFinding]) -> list[ImpactFinding]:
    """Findings whose wrong passage comes from a content block: each such article finding is marked
    with its block, and each block becomes a finding of its own, naming every article using it."""
    by_block: dict[int, ImpactFinding] = {}
    for finding in findings:
        if finding.article.is_block or finding.article.live_version_id is None:
            continue
        for block in blocks.blocks_of(finding.article.live_version):
            if block.live_version_id is None or not _from_block(finding, block.live_version.body):
                continue
            finding.block = block
            known = by_block.get(block.pk)
            if known is None or finding.score > known.score:
                users = list(blocks.articles_using(block, live_only=True).values_list("slug", flat=True))
                by_block[block.pk] = ImpactFinding(
                    article=block, score=finding.score, evidence=block.live_version.body.strip(),
                    cause=finding.cause, reason=finding.written, used_by=users,
                )
            break
    return list(by_block.values())


@transaction.atomic
def change_event_record(*, event: ChangeEvent, findings: list[ImpactFinding], elapsed_ms: int) -> list[Flag]:
    """Flag every affected article (and its translations) for its owner; mark the event done. Idempotent."""
    event = ChangeEvent.objects.select_for_update().get(pk=event.pk)
    due = timezone.make_aware(dt.datetime.combine(event.effective_date, dt.time(0, 0)))
    flags: list[Flag] = []
    flagged: set[int] = set()
    # a block the change makes wrong is flagged first; the articles wrong through it follow its flag
    from_blocks = block_findings(findings)
    findings = [*from_blocks, *findings]
    block_flags: dict[int, Flag | None] = {}
    for finding in sorted(findings, key=lambda f: (f.used_by is None, -f.score)):
        follows = None
        if finding.block is not None:
            follows = block_flags.get(finding.block.pk) or Flag.objects.filter(
                article=finding.block, change_event=event, state=Flag.State.OPEN).first()
        flag = flag_raise(article=finding.article, reason=Flag.Reason.CHANGE_EVENT, summary=finding.reason,
                          evidence=finding.evidence, due_at=due, change_event=event, score=round(finding.score, 3),
                          follows=follows)
        if finding.used_by is not None:
            block_flags[finding.article.pk] = flag
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
