"""`manage.py kb_translate SLUG --to en`: draft a translation with the language model, in this process.

The result is a draft version of the translation article (written by --user, default the source's
owner), scored, never served before another person approves it. Exit 1 with the reason when the
model is not available or the article cannot be translated; nothing is created then.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kb.models import Article
from retrieval.models import TranslationDraft
from retrieval.translation.drafting import translation_draft, translation_run
from verity.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Draft a translation of an article's live version with the language model, scored, for review."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--to", required=True, dest="target_locale", help="the language to translate into, e.g. en")
        parser.add_argument("--user", help="who asks and is the draft's author (default: the source article's owner)")

    def handle(self, *args, slug: str, target_locale: str, user: str | None, **options) -> None:
        article = Article.objects.select_related("owner", "live_version").filter(slug=slug).first()
        if article is None:
            raise CommandError(f"No article with the slug '{slug}'.")
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"--user: no user '{user}'.")
        else:
            actor = article.owner
        try:  # run here, not by a worker: the draft is recorded, then translated in this process
            draft = translation_draft(article=article, target_locale=target_locale, actor=actor, dispatch=lambda pk: None)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Translating {slug} ({article.locale}) into {target_locale} as {actor.get_username()} ...")

        def report(done: int, total: int) -> None:
            self.stdout.write(f"  section {done} of {total} translated and translated back")

        draft = translation_run(draft.pk, progress=report)
        if draft.status != TranslationDraft.Status.DONE:
            raise CommandError(draft.error)
        parts = draft.parts
        self.stdout.write(
            f"Score {draft.score}/100: back-translation agreement {parts['agreement']}/100, "
            f"{parts['kept']} of {parts['facts']} numbers, amounts, dates, menu paths and glossary terms kept "
            f"({parts['survival']}/100), {parts['replaced']} forbidden glossary variants replaced, {parts['seconds']} s."
        )
        for section in draft.spans:
            for item in section["missing"]:
                expected = f" (should be '{item['expected']}')" if item["expected"] else ""
                self.stdout.write(f"  missing in section {section['section']}: {item['kind']} '{item['text']}'{expected}")
        self.stdout.write(self.style.SUCCESS(
            f"Draft version v{draft.version.number} of {draft.target.slug} ({draft.target_locale}) by "
            f"{actor.get_username()}: submit it for review; another person approves it."
        ))
