"""Articles and their versions: create, edit, settings, rollback, verify; spaces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import ports
from governance.models import AuditEvent, Flag, Publication
from governance.services.base import (
    ARTICLE_SETTINGS_FIELDS,
    REVIEWED_SETTINGS_FIELDS,
    _lock_article,
    _open_review,
    _require_perm,
    article_language,
    audit_record,
    setting_names,
)
from governance.services.flags import _flags_resolve
from kb import blocks
from kb.models import Article, ArticleVersion, Space, content_hash
from kb.rendering import markdown_problem
from verity.core.errors import (
    ApplicationError,
    ConcurrentEditError,
    InvalidTransitionError,
)


@transaction.atomic
def article_create(
    *,
    actor: AbstractBaseUser,
    slug: str,
    title: str,
    body: str,
    locale: str,
    space: Space,
    owner: AbstractBaseUser,
    kind: str = Article.Kind.ARTICLE,
    audience: str = Article.Audience.INTERNAL,
    review_interval_days: int | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    tags: Iterable[str] = (),
    translation_of: Article | None = None,
    metadata: dict | None = None,
    change_note: str = "",
    last_verified_at: dt.datetime | None = None,
    audit: bool = True,
) -> Article:
    """Create an article with its first version, as a draft (not served until approved)."""
    _require_perm(actor, "kb.add_article", _("You may not create articles."))
    if Article.objects.filter(slug=slug).exists():
        raise ApplicationError(_("An article with the slug “%(slug)s” already exists.") % {"slug": slug}, code="slug_taken")
    article = Article(
        slug=slug, title=title, locale=locale, kind=kind, audience=audience, space=space,
        owner=owner, review_interval_days=review_interval_days, valid_from=valid_from,
        valid_until=valid_until, tags=list(tags), translation_of=translation_of,
        metadata=metadata or {}, last_verified_at=last_verified_at or timezone.now(),
    )
    article.review_due_at = article.compute_review_due_at()
    article.full_clean(exclude=["review_due_at"])
    article.save()
    version = _version_insert(article=article, author=actor, title=title, body=body, change_note=change_note)
    if audit:
        audit_record(
            event_type=AuditEvent.Type.ARTICLE_CREATE, actor=actor, article=article, version=version,
            details={"title": title, "locale": locale, "audience": audience, "kind": kind},
        )
    return article


def _version_insert(
    *, article: Article, author: AbstractBaseUser, title: str, body: str, change_note: str,
    based_on: ArticleVersion | None = None,
) -> ArticleVersion:
    if not title.strip():
        raise ApplicationError(_("A version needs a title."), code="title_required")
    if not body.strip():
        raise ApplicationError(_("A version needs a body."), code="body_required")
    if problem := markdown_problem(body.strip() + "\n"):
        raise ApplicationError(_("The body cannot be saved: %(problem)s.") % {"problem": problem}, code="body_over_limits")
    block_references_check(article=article, body=body)
    number = (article.latest_version.number + 1) if article.latest_version_id else 1
    version = ArticleVersion.objects.create(
        article=article, number=number, title=title.strip(), body=body.strip() + "\n",
        author=author, change_note=change_note, based_on=based_on,
        content_hash=content_hash(title, body),
    )
    blocks.references_record(version)
    article.latest_version = version
    if article.live_version_id is None:
        article.title = version.title
    article.save(update_fields=["latest_version", "title", "updated_at"])
    return version


def block_references_check(*, article: Article, body: str, audience: str | None = None) -> None:
    """Refuse a text whose content block references may not be used (unknown, unpublished, internal in a
    public article, a block inside a block), naming each block; `audience`: the one the article will have."""
    problems = blocks.reference_problems(body, audience=audience or article.audience, is_block=article.is_block)
    if not problems:
        return
    if audience is None:
        message = _("The text cannot be saved: %(problems)s") % {"problems": " ".join(problems)}
    else:
        message = _("The settings cannot take effect: %(problems)s Nothing was changed.") % {"problems": " ".join(problems)}
    raise ApplicationError(message, code="block_reference", details={"blocks": blocks.referenced_slugs(body)})


@transaction.atomic
def version_create(
    *,
    actor: AbstractBaseUser,
    article: Article,
    title: str,
    body: str,
    base_version: int,
    change_note: str = "",
) -> ArticleVersion:
    """Save an edit as a new draft version. Refused if the edit started from an outdated version."""
    _require_perm(actor, "kb.add_articleversion", _("You may not edit articles."))
    article = _lock_article(article)
    latest = article.latest_version
    if latest is None or latest.number != base_version:
        raise ConcurrentEditError(
            _("Your edit is based on version %(base)s, but version %(latest)s was saved in the meantime by "
              "%(author)s. Nothing was saved: reload the article, compare, and apply your change to the "
              "current version.") % {
                "base": base_version, "latest": latest.number if latest else 0,
                "author": latest.author if latest else _("someone"),
            },
            details={"base_version": base_version, "latest_version": latest.number if latest else None},
        )
    if _open_review(article):
        raise InvalidTransitionError(
            _("Version %(number)s of “%(slug)s” is in review: withdraw it from review or wait for the "
              "decision before editing.") % {"number": latest.number, "slug": article.slug}
        )
    if content_hash(title, body) == latest.content_hash:
        raise ApplicationError(_("Nothing changed: the title and body equal the current version."), code="no_change")
    version = _version_insert(
        article=article, author=actor, title=title, body=body, change_note=change_note, based_on=latest
    )
    audit_record(
        event_type=AuditEvent.Type.VERSION_CREATE, actor=actor, article=article, version=version,
        details={"based_on": latest.number, "change_note": change_note},
    )
    return version


def settings_needing_review(*, article: Article, changes: dict[str, Any]) -> set[str]:
    """Which of `changes` (settings that differ from the article's) may only take effect through review.

    None for an article never published and not in review: its first version's review covers them,
    and nothing of it is served before. Making the audience narrower (public to internal) never
    needs review: it only takes content out of public view.
    """
    if article.live_version_id is None and not _open_review(article):
        return set()
    needed = set()
    for field in REVIEWED_SETTINGS_FIELDS:
        if field not in changes or getattr(article, field) == changes[field]:
            continue
        if field == "audience" and changes[field] == Article.Audience.INTERNAL:
            continue
        needed.add(field)
    return needed


@transaction.atomic
def article_update_settings(*, actor: AbstractBaseUser, article: Article, **changes: Any) -> Article:
    """Change an article's settings that need no review (interval, tags, kind, a narrower audience, ...).

    Settings that need review (see settings_needing_review) are refused, changing nothing:
    propose them with settings_change_propose.
    """
    _require_perm(actor, "kb.change_article", _("You may not change article settings."))
    unknown = set(changes) - set(ARTICLE_SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown article settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
                               code="unknown_settings")
    article = _lock_article(article)
    if "kind" in changes and (changes["kind"] == Article.Kind.BLOCK) != article.is_block:
        raise ApplicationError(
            _("“%(slug)s” cannot become a content block or stop being one: create a new article or block. "
              "Nothing was changed.") % {"slug": article.slug},
            code="block_kind_fixed",
        )
    gated = settings_needing_review(article=article, changes=changes)
    if gated:
        raise ApplicationError(
            _("Changing %(settings)s of “%(slug)s” needs another approver: propose the change (save it in the "
              "admin) and another approver approves it. Nothing was changed.")
            % {"settings": setting_names(gated), "slug": article.slug},
            code="review_required", details={"settings": sorted(gated)},
        )
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        old = getattr(article, field)
        if old != value:
            diff[field] = [_plain(old), _plain(value)]
            setattr(article, field, value)
    if not diff:
        return article
    article.review_due_at = article.compute_review_due_at()
    article.full_clean(exclude=["review_due_at", "live_version", "latest_version"])
    article.save()
    audit_record(event_type=AuditEvent.Type.ARTICLE_EDIT, actor=actor, article=article, details={"changed": diff})
    ports.serving().article_settings_changed(article=article, changed=set(diff))
    return article


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


@transaction.atomic
def version_rollback(
    *, actor: AbstractBaseUser, article: Article, to_version: ArticleVersion, base_version: int
) -> ArticleVersion:
    """Create a new draft version with the content of an older one; it goes through review."""
    _require_perm(actor, "kb.add_articleversion", _("You may not roll back articles."))
    article = _lock_article(article)
    if to_version.article_id != article.pk:
        raise ApplicationError(_("That version belongs to another article."), code="wrong_article")
    latest = article.latest_version
    if latest.number != base_version:
        raise ConcurrentEditError(
            _("Version %(latest)s was saved after version %(base)s that you were looking at. Nothing was rolled "
              "back: reload and try again.") % {"latest": latest.number, "base": base_version}
        )
    if _open_review(article):
        raise InvalidTransitionError(
            _("“%(slug)s” has a version in review: decide or withdraw it first.") % {"slug": article.slug}
        )
    if not Publication.objects.filter(version=to_version).exists() and article.live_version_id != to_version.pk:
        # Restoring an unreviewed draft would make its text someone else's version, which its
        # author could then approve (four-eyes looks at the version's author).
        raise ApplicationError(
            _("Version %(number)s of “%(slug)s” was never published: only versions that were live can be "
              "restored. Nothing was changed.") % {"number": to_version.number, "slug": article.slug},
            code="never_published",
        )
    if to_version.content_hash == latest.content_hash:
        raise ApplicationError(
            _("Version %(latest)s already has the content of version %(number)s.")
            % {"latest": latest.number, "number": to_version.number},
            code="no_change",
        )
    with article_language(article):
        note = _("Rollback to version %(number)s") % {"number": to_version.number}
    version = _version_insert(
        article=article, author=actor, title=to_version.title, body=to_version.body,
        change_note=note, based_on=to_version,
    )
    audit_record(
        event_type=AuditEvent.Type.VERSION_ROLLBACK, actor=actor, article=article, version=version,
        details={"restored_version": to_version.number, "replaced_version": latest.number},
    )
    return version


@transaction.atomic
def article_verify(*, actor: AbstractBaseUser, article: Article, note: str = "") -> Article:
    """The owner (or an approver) confirms the live content is still correct: resets the review clock."""
    if actor.pk != article.owner_id:
        _require_perm(actor, "kb.verify_article", _("You may not verify articles you do not own."))
    article = _lock_article(article)
    if article.live_version_id is None:
        raise InvalidTransitionError(_("“%(slug)s” has no published version to verify.") % {"slug": article.slug})
    previous_due = article.review_due_at
    article.last_verified_at = timezone.now()
    article.review_due_at = article.compute_review_due_at()
    article.save(update_fields=["last_verified_at", "review_due_at", "updated_at"])
    audit_record(
        event_type=AuditEvent.Type.ARTICLE_VERIFY, actor=actor, article=article, version=article.live_version,
        details={"note": note, "previous_due": previous_due.isoformat(), "next_due": article.review_due_at.isoformat()},
    )
    with article_language(article):
        note = _("Verified as still correct by %(person)s.") % {"person": actor}
    _flags_resolve(article=article, reasons=[Flag.Reason.REVIEW_DUE], actor=actor, version=None, note=note)
    return article


@transaction.atomic
def space_save(*, actor: AbstractBaseUser, space: Space) -> Space:
    """Create or change a space; articles on the space's default interval get a new due date."""
    _require_perm(actor, "kb.change_space" if space.pk else "kb.add_space", _("You may not manage spaces."))
    space.full_clean()
    space.save()
    for article in Article.objects.select_for_update().filter(space=space, review_interval_days__isnull=True):
        due = article.compute_review_due_at()
        if due != article.review_due_at:
            article.review_due_at = due
            article.save(update_fields=["review_due_at"])
    return space
