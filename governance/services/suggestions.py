"""Suggested drafts: Verity rewrites what an open change flag says is wrong, or drafts a new article from
past tickets the knowledge base could not answer; a person edits, accepts or rejects.

The drafting itself (the language model, the checks) runs on the serving side, asked through
governance.ports after commit; these services hold the suggestion's states and their audit events.
An accepted suggestion becomes an ordinary draft version by the person who accepted it (a new
article's first version, in the chosen space, owned by them), reviewed like any other (its author
cannot approve it); a change flag stays open until a version is published.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports
from governance.models import AuditEvent, Flag, Suggestion
from governance.services.articles import article_create, version_create
from governance.services.base import KNOWLEDGE_ADMIN_PERMISSION, audit_record
from kb.models import SLUG_PATTERN, Article, Space
from kb.slugs import slug_from_title
from verity.core.errors import ApplicationError, ConcurrentEditError, InvalidTransitionError, PermissionDeniedError

ADD_ARTICLE_PERMISSION = "kb.add_article"
OPEN = (Suggestion.Status.DRAFTING, Suggestion.Status.READY)


def suggestion_may_act(actor: AbstractBaseUser, article) -> bool:
    """The article's owner and knowledge admins may ask for, accept and reject suggested drafts."""
    return bool(actor and actor.is_active and (actor.pk == article.owner_id or actor.has_perm(KNOWLEDGE_ADMIN_PERMISSION)))


def _require_may_act(actor: AbstractBaseUser, article) -> None:
    if not suggestion_may_act(actor, article):
        raise PermissionDeniedError(
            _("Only the article's owner or a knowledge admin may work with suggested drafts."),
            details={"permission": "owner or " + KNOWLEDGE_ADMIN_PERMISSION},
        )


def suggestion_may_draft_article(actor: AbstractBaseUser) -> bool:
    """Whoever may add articles may ask Verity to draft one from past tickets."""
    return bool(actor and actor.is_active and actor.has_perm(ADD_ARTICLE_PERMISSION))


def suggestion_may_decide(actor: AbstractBaseUser, suggestion: Suggestion) -> bool:
    """A revision: the article's owner or a knowledge admin. A new article: who asked for it, or a knowledge
    admin, as long as they may add articles (accepting creates one)."""
    if not suggestion.is_new_article:
        return suggestion_may_act(actor, suggestion.article)
    return suggestion_may_draft_article(actor) and (
        actor.pk == suggestion.requested_by_id or actor.has_perm(KNOWLEDGE_ADMIN_PERMISSION))


def _require_may_decide(actor: AbstractBaseUser, suggestion: Suggestion) -> None:
    if suggestion.is_new_article:
        if not suggestion_may_decide(actor, suggestion):
            raise PermissionDeniedError(
                _("Only the person who asked for this suggested article or a knowledge admin may decide on it, "
                  "and only if they may create articles."),
                details={"permission": f"requester or {KNOWLEDGE_ADMIN_PERMISSION}, and {ADD_ARTICLE_PERMISSION}"},
            )
    else:
        _require_may_act(actor, suggestion.article)


@transaction.atomic
def suggestion_request(*, actor: AbstractBaseUser, flag: Flag) -> Suggestion:
    """Ask Verity to draft a corrected version from an open change flag (drafted in the background)."""
    flag = Flag.objects.select_for_update(of=("self",)).select_related("article", "change_event").get(pk=flag.pk)
    article = flag.article
    _require_may_act(actor, article)
    if flag.state != Flag.State.OPEN or flag.change_event_id is None:
        raise InvalidTransitionError(_("A draft can only be suggested for an open flag raised by an announced change."),
                                     code="not_open_change_flag")
    live = article.live_version
    if live is None:
        raise InvalidTransitionError(_("The article has no live version to rewrite."), code="no_live_version")
    if Suggestion.objects.filter(flag=flag, status__in=[Suggestion.Status.DRAFTING, Suggestion.Status.READY]).exists():
        raise InvalidTransitionError(_("A suggested draft for this flag is already being drafted or awaits its owner."),
                                     code="suggestion_open")
    event = flag.change_event
    sources = [
        {"kind": "announcement", "title": event.title, "text": event.description,
         "effective_date": f"{event.effective_date:%Y-%m-%d}", "url": event.source_url},
        {"kind": "evidence", "title": live.title, "text": flag.evidence},
    ]
    suggestion = Suggestion.objects.create(
        article=article, flag=flag, change_event=event, base_version=live, title=live.title,
        sources=sources, requested_by=actor,
    )
    audit_record(event_type=AuditEvent.Type.SUGGESTION_CREATE, actor=actor, article=article, version=live,
                 details={"suggestion": suggestion.pk, "flag": flag.pk, "change_event": event.pk})
    transaction.on_commit(lambda: ports.serving().suggestion_draft(suggestion_id=suggestion.pk))
    return suggestion


@transaction.atomic
def suggestion_request_article(*, actor: AbstractBaseUser, space: Space, locale: str, title: str,
                               tickets: list[dict], dispatch: Callable[[int], None] | None = None) -> Suggestion:
    """Ask Verity to draft a new article for `space` from past tickets the knowledge base could not answer.

    `tickets`: the sources, one per ticket, as the serving side read them (redacted, as stored):
    {"kind": "ticket", "ticket": its id, "subject", "question", "text": the agent's reply, ...}.
    `title` is the topic's name, the working title until the model proposes one. After commit the
    suggestion is sent to be drafted (`dispatch(pk)`, by default the serving side's worker task).
    """
    if not suggestion_may_draft_article(actor):
        raise PermissionDeniedError(_("You may not create articles, so you cannot ask for a suggested article."),
                                    details={"permission": ADD_ARTICLE_PERMISSION})
    space = Space.objects.select_for_update().get(pk=space.pk)  # one request per space at a time: no twin drafts
    ids = [source["ticket"] for source in tickets if source.get("kind") == "ticket" and source.get("text", "").strip()]
    if not ids:
        raise ApplicationError(_("None of these tickets has an agent's reply to draft from."), code="no_agent_reply")
    open_twin = Suggestion.objects.filter(kind=Suggestion.Kind.TICKETS, status__in=OPEN, source_tickets__overlap=ids).first()
    if open_twin is not None:
        raise InvalidTransitionError(
            _("A suggested article from these tickets is already being drafted or awaits a decision: “%(title)s”.")
            % {"title": open_twin.title}, code="suggestion_open", details={"suggestion": open_twin.pk})
    suggestion = Suggestion.objects.create(
        kind=Suggestion.Kind.TICKETS, space=space, locale=locale, title=title.strip()[:300],
        slug=slug_from_title(title, max_length=60), sources=[source for source in tickets if source["ticket"] in ids],
        source_tickets=ids, requested_by=actor,
    )
    audit_record(event_type=AuditEvent.Type.SUGGESTION_CREATE, actor=actor, target_label=suggestion.title,
                 details={"suggestion": suggestion.pk, "space": space.slug, "tickets": ids})
    send = dispatch or (lambda pk: ports.serving().suggestion_draft(suggestion_id=pk))
    transaction.on_commit(lambda: send(suggestion.pk))
    return suggestion


@transaction.atomic
def suggestion_record(*, suggestion_id: int, body: str, generator: str, paragraphs: list[dict] | None = None,
                      sentences: list[dict] | None = None, title: str | None = None) -> Suggestion:
    """The drafting's result, written at once (a suggestion no longer being drafted is left alone)."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.DRAFTING:
        return suggestion
    suggestion.body, suggestion.generator = body, generator
    suggestion.paragraphs, suggestion.sentences = paragraphs or [], sentences or []
    if title and title.strip():
        suggestion.title = title.strip()[:300]
        if suggestion.is_new_article:
            suggestion.slug = slug_from_title(suggestion.title, max_length=60) or suggestion.slug
    suggestion.status, suggestion.drafted_at = Suggestion.Status.READY, timezone.now()
    suggestion.save(update_fields=["body", "paragraphs", "sentences", "title", "slug", "generator", "status",
                                   "drafted_at"])
    return suggestion


@transaction.atomic
def suggestion_fail(*, suggestion_id: int, error: str, sentences: list[dict] | None = None) -> Suggestion:
    """Drafting failed (no model, model down, nothing verified): nothing is drafted; the owner sees why
    (and what the model wrote that failed the check) and may ask again."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.DRAFTING:
        return suggestion
    suggestion.status, suggestion.error, suggestion.drafted_at = Suggestion.Status.FAILED, error, timezone.now()
    suggestion.sentences = sentences or []
    suggestion.save(update_fields=["status", "error", "drafted_at", "sentences"])
    return suggestion


def _lock_ready(suggestion: Suggestion, actor: AbstractBaseUser) -> Suggestion:
    suggestion = Suggestion.objects.select_for_update(of=("self",)).select_related("article", "space").get(pk=suggestion.pk)
    _require_may_decide(actor, suggestion)
    if suggestion.status != Suggestion.Status.READY:
        raise InvalidTransitionError(
            _("This suggested draft cannot be decided any more (%(status)s).") % {"status": suggestion.get_status_display()},
            code="suggestion_not_ready")
    return suggestion


@transaction.atomic
def suggestion_accept(*, actor: AbstractBaseUser, suggestion: Suggestion, body: str | None = None,
                      title: str | None = None, slug: str | None = None) -> Suggestion:
    """Accept the suggestion (as edited by the owner): a new draft version by `actor`, for the normal review.

    A suggested article becomes a new article in its space, owned by `actor`, whose first version is a
    draft. A revision is refused when the article got a version after the one the suggestion rewrote:
    accepting it would silently undo that edit.
    """
    suggestion = _lock_ready(suggestion, actor)
    body = (suggestion.body if body is None else body).replace("\r\n", "\n")
    title = (suggestion.title if title is None else title).strip()
    if suggestion.is_new_article:
        return _accept_article(actor=actor, suggestion=suggestion, body=body, title=title, slug=slug)
    article = Article.objects.select_for_update().get(pk=suggestion.article_id)
    base = suggestion.base_version
    latest = article.latest_version
    if latest is not None and (base is None or latest.pk != base.pk):
        raise ConcurrentEditError(
            _("Version %(latest)s of this article was saved after the version this suggestion rewrote (version "
              "%(base)s): accepting it would undo that edit. Nothing was saved. Reject this suggestion and ask for "
              "a new one, or carry its change over into the current version yourself.") % {
                "latest": latest.number, "base": base.number if base else "?"},
            code="suggestion_stale", details={"base_version": base.number if base else None,
                                              "latest_version": latest.number})
    if base is not None and body.strip() == base.body.strip() and title == base.title:
        raise ApplicationError(_("The text is the same as the live version: there is nothing to accept. "
                                 "Edit it, or reject the suggestion."), code="suggestion_unchanged")
    event = suggestion.change_event
    note = _("Suggested by Verity from the change “%(change)s”, accepted by %(user)s.") % {
        "change": event.title if event else "", "user": actor.get_username()}
    version = version_create(actor=actor, article=article, title=title, body=body,
                             base_version=latest.number if latest else 0, change_note=note)
    suggestion.status, suggestion.version = Suggestion.Status.ACCEPTED, version
    suggestion.decided_by, suggestion.decided_at = actor, timezone.now()
    suggestion.body, suggestion.title = version.body, version.title
    suggestion.save(update_fields=["status", "version", "decided_by", "decided_at", "body", "title"])
    audit_record(event_type=AuditEvent.Type.SUGGESTION_ACCEPT, actor=actor, article=article, version=version,
                 details={"suggestion": suggestion.pk, "flag": suggestion.flag_id})
    return suggestion


def _accept_article(*, actor: AbstractBaseUser, suggestion: Suggestion, body: str, title: str,
                    slug: str | None) -> Suggestion:
    slug = (slug if slug is not None else suggestion.slug).strip() or slug_from_title(title)
    if not re.fullmatch(SLUG_PATTERN, slug) or len(slug) > 120:
        raise ApplicationError(_("“%(slug)s” cannot be a slug: use lowercase letters a-z, digits 0-9 and '-' "
                                 "(at most 120 characters).") % {"slug": slug}, code="bad_slug")
    note = _("Drafted by Verity from the past tickets %(tickets)s, accepted by %(user)s.") % {
        "tickets": ", ".join(suggestion.source_tickets), "user": actor.get_username()}
    space = suggestion.space
    article = article_create(actor=actor, slug=slug, title=title, body=body, locale=suggestion.locale, space=space,
                             owner=actor, audience=space.default_audience, change_note=note)
    version = article.latest_version
    suggestion.status, suggestion.article, suggestion.version = Suggestion.Status.ACCEPTED, article, version
    suggestion.decided_by, suggestion.decided_at = actor, timezone.now()
    suggestion.body, suggestion.title, suggestion.slug = version.body, version.title, article.slug
    suggestion.save(update_fields=["status", "article", "version", "decided_by", "decided_at", "body", "title", "slug"])
    audit_record(event_type=AuditEvent.Type.SUGGESTION_ACCEPT, actor=actor, article=article, version=version,
                 details={"suggestion": suggestion.pk, "tickets": suggestion.source_tickets})
    return suggestion


@transaction.atomic
def suggestion_reject(*, actor: AbstractBaseUser, suggestion: Suggestion, reason: str) -> Suggestion:
    """Reject the suggestion with a written reason; the flag stays open."""
    if not reason.strip():
        raise ApplicationError(_("Rejecting a suggested draft needs a written reason."), code="reason_required")
    suggestion = _lock_ready(suggestion, actor)
    suggestion.status, suggestion.decision_note = Suggestion.Status.REJECTED, reason.strip()
    suggestion.decided_by, suggestion.decided_at = actor, timezone.now()
    suggestion.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    audit_record(event_type=AuditEvent.Type.SUGGESTION_REJECT, actor=actor, article=suggestion.article,
                 version=suggestion.base_version, details={"suggestion": suggestion.pk, "reason": reason.strip()},
                 target_label=suggestion.title if suggestion.is_new_article else None)
    return suggestion
