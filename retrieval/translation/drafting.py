"""Draft a translation of an article's live version with the language model, score it, hand it to review.

`translation_draft` (a service: checks, records the request, enqueues) and `translation_run` (the
model work, in a Celery worker or inline for `kb_translate`). Section by section, each section is
translated with the glossary entries it uses in the prompt, forbidden variants are replaced, the
translation is translated back, and retrieval.text.translation scores it. The result is a draft
version of the translation article (a new article linked by `translation_of`, or a new version of
the out-of-sync one) written by the person who asked: never served before another person approves
it (four-eyes). If the model is not available, nothing is created and the draft says why.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import openai
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from langchain_core.messages import HumanMessage, SystemMessage

from governance import selectors, services
from governance.models import Flag
from kb.models import LOCALE_PATTERN, Article
from retrieval import tuning
from retrieval.llm.client import (
    ModelConfigError,
    ModelEndpoint,
    chat_model,
    configured_generator,
    model_endpoint,
    model_health,
)
from retrieval.models import TranslationDraft
from retrieval.search.glossary import glossary_rules
from retrieval.text.translation import (
    GlossaryRule,
    agreement,
    forbidden_replace,
    score,
    split_sections,
    survival,
    word_differences,
)
from verity.core.errors import ApplicationError, InvalidTransitionError, PermissionDeniedError
from verity.core.i18n import written_in

logger = logging.getLogger("verity.translation")

# The languages the model is asked to write, by the name it understands.
LANGUAGE_NAMES = {"de": "German", "en": "English", "fr": "French", "it": "Italian", "es": "Spanish", "nl": "Dutch",
                  "pl": "Polish", "pt": "Portuguese", "tr": "Turkish", "cs": "Czech", "da": "Danish", "sv": "Swedish"}


TRANSLATION_TIMEOUT_SECONDS = 900.0


class ModelUnavailableError(ApplicationError):
    code = "model_unavailable"
    status = 503


def _language(locale: str) -> str:
    return LANGUAGE_NAMES[locale.split("-")[0].lower()]


# --- the service --------------------------------------------------------------------------------


def model_problem() -> str | None:
    """Why no model can draft a translation now, in words; None when one can."""
    try:
        if configured_generator() == "extractive":
            return _("Verity runs without a language model here (VERITY_GENERATOR=extractive).")
        health = model_health()
    except ModelConfigError as error:
        return str(error)
    if health == "off":
        return _("No language model is installed (python3 dev.py install).")
    if health == "down":
        return _("The language model server at VERITY_LLM_BASE_URL does not answer.")
    return None


def translation_target(article: Article, target_locale: str) -> Article | None:
    """The existing translation of `article` into `target_locale`, if there is one."""
    return article.translations.filter(locale=target_locale).select_related("latest_version", "live_version").first()


def _refusal(message: str, code: str) -> ApplicationError:
    return ApplicationError(message + " " + _("Nothing was created."), code=code)


def translation_draft(*, article: Article, target_locale: str, actor: AbstractBaseUser,
                      dispatch: Callable[[int], None] | None = None) -> TranslationDraft:
    """Ask the model for a translation of `article`'s live version into `target_locale`.

    Allowed for an article without a translation in that language, or whose translation is flagged
    out of sync; for authors (who may create articles and versions). The model work runs after
    commit through `dispatch` (default: the Celery task retrieval.tasks.translation_draft_run); its
    result is a draft version by `actor`.
    """
    if not (actor and actor.is_active and actor.has_perm("kb.add_articleversion")):
        raise PermissionDeniedError(_("You may not draft translations."), details={"permission": "kb.add_articleversion"})
    target_locale = (target_locale or "").strip().lower()
    if not re.match(LOCALE_PATTERN, target_locale) or target_locale.split("-")[0] not in LANGUAGE_NAMES:
        raise _refusal(_("“%(locale)s” is not a language the model can write; choose one of %(choices)s.")
                       % {"locale": target_locale, "choices": ", ".join(sorted(LANGUAGE_NAMES))}, "unknown_language")
    if target_locale == article.locale:
        raise _refusal(_("“%(slug)s” is already written in %(locale)s.") % {"slug": article.slug, "locale": target_locale},
                       "same_language")
    if article.translation_of_id:
        raise _refusal(_("“%(slug)s” is itself a translation of “%(source)s”: draft translations from the source.")
                       % {"slug": article.slug, "source": article.translation_of.slug}, "is_translation")
    if article.live_version_id is None:
        raise _refusal(_("“%(slug)s” has no published version: only approved content is translated.")
                       % {"slug": article.slug}, "not_published")
    target = translation_target(article, target_locale)
    if target is None:
        if not actor.has_perm("kb.add_article"):
            raise PermissionDeniedError(_("You may not create articles, and “%(slug)s” has no %(locale)s translation yet.")
                                        % {"slug": article.slug, "locale": target_locale})
    else:
        if selectors.open_review(target):
            raise _refusal(_("The translation “%(slug)s” has a version in review: decide or withdraw it first.")
                           % {"slug": target.slug}, "in_review")
        drifted = Flag.objects.filter(article=target, reason=Flag.Reason.TRANSLATION_DRIFT, state=Flag.State.OPEN).exists()
        if target.live_version_id and not drifted:
            raise _refusal(_("The translation “%(slug)s” is in sync with its source: there is nothing to translate.")
                           % {"slug": target.slug}, "in_sync")
    if problem := model_problem():
        raise ModelUnavailableError(_("The language model is not available: %(problem)s Nothing was created.")
                                    % {"problem": problem})
    running = TranslationDraft.objects.active().filter(source=article, target_locale=target_locale).first()
    if running is not None:
        raise _refusal(_("A %(locale)s translation of “%(slug)s” is already being drafted (requested by %(person)s).")
                       % {"locale": target_locale, "slug": article.slug, "person": running.requested_by}, "already_running")
    try:
        with transaction.atomic():
            draft = TranslationDraft.objects.create(
                source=article, source_version=article.live_version, target_locale=target_locale, target=target,
                requested_by=actor,
            )
    except IntegrityError:
        raise _refusal(_("A %(locale)s translation of “%(slug)s” is already being drafted.")
                       % {"locale": target_locale, "slug": article.slug}, "already_running") from None
    transaction.on_commit(lambda: (dispatch or translation_dispatch)(draft.pk))
    return draft


def translation_dispatch(draft_id: int) -> None:
    """Send a requested translation to the workers, by the task's name (the tasks module is the edge above
    this one); with eager Celery (tests, VERITY_CELERY_EAGER) it runs here."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        translation_run(draft_id)
        return
    current_app.send_task("retrieval.tasks.translation_draft_run", args=[draft_id], expires=6 * 3600)


# --- the model work -----------------------------------------------------------------------------


@dataclass
class _Section:
    source: str
    translation: str
    back: str
    replaced: list[tuple[str, str]]


SYSTEM = (
    "You translate customer-service help articles from {source} into {target}. Translate the whole text the user "
    "sends, sentence by sentence, leaving nothing out and adding nothing. Keep the Markdown (headings, lists, tables, "
    "links) as it is. Copy every number, amount, date, time, phone number and menu path exactly; translate month "
    "and weekday names. Reply with the {target} text only.{glossary}"
)


def _glossary_lines(rules: list[GlossaryRule], text: str) -> str:
    used = [rule for rule in rules if re.search(rf"(?<!\w){re.escape(rule.term)}(?!\w)", text, re.IGNORECASE)]
    if not used:
        return ""
    lines = [f'- "{rule.term}": keep "{rule.term}" as it is' if rule.do_not_translate
             else f'- "{rule.term}" -> "{rule.required}"' for rule in used]
    return "\nGlossary (always write these terms so):\n" + "\n".join(lines)


def _clean(reply: str) -> str:
    text = reply.strip()
    fenced = re.fullmatch(r"```[\w-]*\n(.*?)\n?```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    return re.sub(r"^(?:translation|übersetzung)\s*:\s*", "", text, flags=re.IGNORECASE).strip()


def translate_text(endpoint: ModelEndpoint, text: str, *, source_locale: str, target_locale: str,
                   rules: list[GlossaryRule] = ()) -> str:
    """One model call: `text` in the target language (Markdown kept), the glossary entries it uses in the prompt."""
    system = SYSTEM.format(source=_language(source_locale), target=_language(target_locale),
                           glossary=_glossary_lines(list(rules), text))
    # a worker waits for it, not a person: a busy CPU may take minutes for a long section
    chat = chat_model(endpoint, max_tokens=min(64 + len(text) // 2, 2048),
                      timeout=max(getattr(settings, "VERITY_LLM_TIMEOUT", 120.0), TRANSLATION_TIMEOUT_SECONDS))
    reply = chat.invoke([SystemMessage(content=system), HumanMessage(content=text)])
    return _clean(str(reply.content))


def _fail(draft: TranslationDraft, message: str) -> TranslationDraft:
    draft.status = TranslationDraft.Status.FAILED
    draft.error = message
    draft.finished_at = timezone.now()
    draft.save(update_fields=["status", "error", "finished_at"])
    logger.warning("translation draft %s failed: %s", draft.pk, message)
    return draft


def translation_run(draft_id: int, *, endpoint: ModelEndpoint | None = None,
                    progress: Callable[[int, int], None] | None = None) -> TranslationDraft:
    """Translate, translate back, score, and save the draft version. Idempotent: a finished draft is left alone."""
    draft = TranslationDraft.objects.select_related("source", "source_version", "requested_by", "target").get(pk=draft_id)
    if draft.status not in (TranslationDraft.Status.QUEUED, TranslationDraft.Status.RUNNING):
        return draft
    with written_in(draft.source.locale):  # what is stored about the draft is read on the source's page
        try:
            endpoint = endpoint or model_endpoint()
        except ModelConfigError as error:
            return _fail(draft, _("The language model is not available: %(problem)s Nothing was created.") % {"problem": error})
        if endpoint is None:
            return _fail(draft, _("The language model is not available: %(problem)s Nothing was created.")
                         % {"problem": model_problem() or _("the model server did not start.")})
        source, version = draft.source, draft.source_version
        rules = glossary_rules(source_locale=source.locale, target_locale=draft.target_locale)
        parts = split_sections(version.body, max_chars=tuning.TRANSLATION_SECTION_CHARS)
        draft.status, draft.sections_total, draft.sections_done = TranslationDraft.Status.RUNNING, len(parts), 0
        draft.model = endpoint.generator_name
        draft.save(update_fields=["status", "sections_total", "sections_done", "model"])
        started = time.monotonic()
        sections: list[_Section] = []
        try:
            title = translate_text(endpoint, version.title, source_locale=source.locale, target_locale=draft.target_locale,
                                   rules=rules).splitlines()[0].lstrip("# ").strip()
            for text in parts:
                translated = translate_text(endpoint, text, source_locale=source.locale,
                                            target_locale=draft.target_locale, rules=rules)
                translated, replaced = forbidden_replace(translated, rules)
                back = translate_text(endpoint, translated, source_locale=draft.target_locale, target_locale=source.locale)
                sections.append(_Section(text, translated, back, replaced))
                draft.sections_done += 1
                draft.save(update_fields=["sections_done"])
                if progress is not None:
                    progress(draft.sections_done, draft.sections_total)
        except (openai.OpenAIError, OSError) as error:
            return _fail(draft, _("The language model stopped answering (%(error)s) after %(done)s of %(total)s "
                                  "sections. Nothing was created; try again later.")
                         % {"error": type(error).__name__, "done": draft.sections_done, "total": draft.sections_total})
        if not title or any(not section.translation for section in sections):
            return _fail(draft, _("The model returned an empty translation. Nothing was created."))
        draft.score, draft.parts, draft.spans = _scored(sections, source_locale=source.locale,
                                                        target_locale=draft.target_locale, rules=rules)
        draft.parts["seconds"] = round(time.monotonic() - started)
        body = "\n\n".join(section.translation for section in sections)
        try:
            with transaction.atomic():
                saved = _save_version(draft, title=title, body=body)
        except ApplicationError as error:
            return _fail(draft, _("The translation could not be saved: %(reason)s Nothing was created.") % {"reason": error.message})
        draft.target, draft.version = saved.article, saved
        draft.status, draft.finished_at = TranslationDraft.Status.DONE, timezone.now()
        draft.save(update_fields=["target", "version", "status", "finished_at", "score", "parts", "spans"])
        return draft


def _scored(sections: list[_Section], *, source_locale: str, target_locale: str,
            rules: list[GlossaryRule]) -> tuple[int, dict, list[dict]]:
    spans: list[dict] = []
    kept = total = 0
    weighted = 0.0
    length = sum(len(section.source) for section in sections) or 1
    for number, section in enumerate(sections, start=1):
        items = survival(section.source, section.translation, source_locale=source_locale, target_locale=target_locale,
                         glossary=rules)
        total += len(items)
        kept += sum(item.kept for item in items)
        share = agreement(section.source, section.back)
        weighted += share * len(section.source) / length
        spans.append({
            "section": number, "agreement": round(100 * share),
            "missing": [{"kind": item.kind, "text": item.text, "context": item.context, "expected": item.expected}
                        for item in items if not item.kept],
            "replaced": [list(pair) for pair in section.replaced],
            "diff": [list(run) for run in word_differences(section.source, section.back)],
            "source": section.source, "translation": section.translation, "back": section.back,
        })
    overall, agreement_points, survival_points = score(agreement_share=weighted, kept=kept, total=total,
                                                       agreement_weight=tuning.TRANSLATION_AGREEMENT_WEIGHT)
    parts = {"agreement": agreement_points, "survival": survival_points, "facts": total, "kept": kept,
             "sections": len(sections), "replaced": sum(len(section.replaced) for section in sections)}
    return overall, parts, spans


def _free_slug(base: str) -> str:
    slug = base
    for suffix in range(2, 100):
        if not Article.objects.filter(slug=slug).exists():
            return slug
        slug = f"{base}-{suffix}"
    raise InvalidTransitionError(_("No free slug for the translation near “%(slug)s”.") % {"slug": base})


def _save_version(draft: TranslationDraft, *, title: str, body: str):
    source, actor = draft.source, draft.requested_by
    with written_in(draft.target_locale):  # a change note is written in its article's language
        note = _("Machine translation of “%(slug)s” v%(number)s (score %(score)s/100): read it against the source before "
                 "submitting.") % {"slug": source.slug, "number": draft.source_version.number, "score": draft.score}
    target = translation_target(source, draft.target_locale)
    if target is None:
        created = services.article_create(
            actor=actor, slug=_free_slug(f"{source.slug}-{draft.target_locale}"), title=title, body=body,
            locale=draft.target_locale, space=source.space, owner=source.owner, kind=source.kind,
            audience=source.audience, review_interval_days=source.review_interval_days, valid_from=source.valid_from,
            valid_until=source.valid_until, tags=source.tags, translation_of=source, change_note=note,
        )
        return created.latest_version
    return services.version_create(actor=actor, article=target, title=title, body=body,
                                   base_version=target.latest_version.number, change_note=note)
