"""The knowledge: spaces, articles and their immutable versions."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
slug_validator = RegexValidator(SLUG_PATTERN, _("Use lowercase letters a-z, digits 0-9 and '-'."))


class Audience(models.TextChoices):
    """Who may be served an article: a space's default for new articles, each article's own setting."""

    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")


class Space(models.Model):
    """A collection of articles with its own review interval and approval rules."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    default_review_interval_days = models.PositiveIntegerField(
        _("default review interval (days)"), default=90, validators=[MinValueValidator(1)]
    )
    requires_extra_approval = models.BooleanField(
        _("requires extra approval"),
        default=False,
        help_text=_("Publishing needs a second approval by a different approver (e.g. legal, refunds)."),
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("default owner"),
        help_text=_("Owner of articles brought in from a connected source when its owner mapping names nobody."),
    )
    default_audience = models.CharField(
        _("default audience"), max_length=16, choices=Audience.choices, default=Audience.INTERNAL,
        help_text=_("Proposed as the audience of a new article in this space (its author can change it)."),
    )
    withhold_flagged_from_public = models.BooleanField(
        _("withhold flagged articles from public answers"),
        default=True,
        help_text=_("From a change's effective date on, public answers stop citing articles still flagged by it "
                    "(internal answers cite them with a warning)."),
    )
    greeting = models.TextField(
        _("greeting (German replies)"), blank=True,
        help_text=_("Opens a German reply an agent copies from the desktop. Empty: no greeting."),
    )
    closing = models.TextField(
        _("closing (German replies)"), blank=True,
        help_text=_("Ends a German reply an agent copies from the desktop, with the signature. Empty: no closing."),
    )
    greeting_en = models.TextField(
        _("greeting (English replies)"), blank=True, help_text=_("The same for replies in English."),
    )
    closing_en = models.TextField(
        _("closing (English replies)"), blank=True,
        help_text=_("The same for replies in English."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("space")
        verbose_name_plural = _("spaces")

    def __str__(self) -> str:
        return self.name

    def reply_frame(self, locale: str) -> tuple[str, str]:
        """The greeting and closing that wrap a reply in this language ("" where none is set), with \n line ends."""
        greeting, closing = (self.greeting_en, self.closing_en) if locale.split("-")[0].lower() == "en" else (self.greeting, self.closing)
        return tuple(text.replace("\r\n", "\n").strip() for text in (greeting, closing))


class ArticleQuerySet(models.QuerySet):
    def servable(self, audiences: tuple[str, ...] | list[str], *, on: dt.date) -> ArticleQuerySet:
        """THE servable rule: articles with a live version, of one of these audiences, valid on `on`
        (from `valid_from` inclusive to `valid_until` exclusive). Content blocks are never served on
        their own: their live text is served inside the articles that use them (kb.blocks). Search SQL, evidence and
        contradictions all take it from here (see `servable_sql`)."""
        return self.exclude(kind=Article.Kind.BLOCK).filter(
            models.Q(live_version__isnull=False, audience__in=list(audiences))
            & (models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=on))
            & (models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=on))
        )

    def servable_sql(self, audiences: tuple[str, ...] | list[str], *, on: dt.date) -> tuple[str, list]:
        """The servable rule as an SQL condition on the table `kb_article` (no alias), with its
        parameters, for raw queries that join chunks with their articles."""
        query = self.servable(audiences, on=on).query
        compiler = query.get_compiler(using=self.db)
        sql, params = query.where.as_sql(compiler, compiler.connection)
        return sql, list(params)


class Article(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", _("Help article")
        MACRO = "macro", _("Macro")
        RUNBOOK = "runbook", _("Runbook")
        POLICY = "policy", _("Policy")
        BLOCK = "block", _("Content block")

    Audience = Audience

    slug = models.SlugField(_("slug"), max_length=120, unique=True, validators=[slug_validator])
    title = models.CharField(_("title"), max_length=300, help_text=_("Title of the latest version."))
    locale = models.CharField(
        _("language"), max_length=12,
        validators=[RegexValidator(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", _("A language code such as de or en."))],
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ARTICLE)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.INTERNAL)
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="articles", verbose_name=_("space"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_articles", verbose_name=_("owner")
    )
    review_interval_days = models.PositiveIntegerField(
        _("review interval (days)"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Empty: the space's default interval."),
    )
    last_verified_at = models.DateTimeField(_("last verified"), default=timezone.now)
    review_due_at = models.DateTimeField(_("review due"), db_index=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    tags = ArrayField(models.CharField(max_length=60), default=list, blank=True, verbose_name=_("tags"))
    translation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="translations",
        verbose_name=_("translation of"),
    )
    metadata = models.JSONField(_("metadata"), default=dict, blank=True, help_text=_("Extra front-matter keys."))
    live_version = models.ForeignKey(
        "ArticleVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("live version"),
    )
    latest_version = models.ForeignKey(
        "ArticleVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("latest version"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gt=models.F("valid_from")),
                name="article_valid_until_after_valid_from",
            ),
            models.CheckConstraint(
                condition=~models.Q(translation_of=models.F("id")),
                name="article_not_translation_of_itself",
            ),
        ]
        permissions = [
            ("approve_version", "Can approve or request changes to article versions"),
            ("verify_article", "Can verify that an article is still correct"),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.locale})"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("Must be after “valid from”.")})
        if self.translation_of_id and self.translation_of_id == self.pk:
            raise ValidationError({"translation_of": _("An article cannot translate itself.")})
        if self.kind == self.Kind.BLOCK and (self.valid_from or self.valid_until):
            raise ValidationError({"valid_from": _("A content block has no validity dates: it is served as long as "
                                                   "it is published, inside the articles that use it.")})
        if self.translation_of_id and self.translation_of_id != self.pk:
            source_is_block = Article.objects.filter(pk=self.translation_of_id, kind=self.Kind.BLOCK).exists()
            if source_is_block != (self.kind == self.Kind.BLOCK):
                raise ValidationError({"translation_of": _("A content block translates a content block, and an "
                                                           "article an article.")})

    @property
    def is_block(self) -> bool:
        return self.kind == self.Kind.BLOCK

    @property
    def effective_review_interval_days(self) -> int:
        return self.review_interval_days or self.space.default_review_interval_days

    def compute_review_due_at(self) -> dt.datetime:
        return self.last_verified_at + dt.timedelta(days=self.effective_review_interval_days)

    def is_review_due(self, now: dt.datetime | None = None) -> bool:
        return self.review_due_at <= (now or timezone.now())

    def is_expired(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.valid_until is not None and self.valid_until <= today

    def is_not_yet_valid(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.valid_from is not None and self.valid_from > today

    @property
    def has_unpublished_version(self) -> bool:
        return self.latest_version_id is not None and self.latest_version_id != self.live_version_id


def content_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title.strip()}\n\n{body.strip()}".encode()).hexdigest()


class ArticleVersion(models.Model):
    """One immutable revision of an article. A database trigger refuses UPDATEs."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions", verbose_name=_("article"))
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_versions", verbose_name=_("author")
    )
    change_note = models.CharField(_("change note"), max_length=500, blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("based on"),
        help_text=_("The version the author edited; a rollback names the version it restores."),
    )
    content_hash = models.CharField(_("content hash"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        verbose_name = _("version")
        verbose_name_plural = _("versions")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="version_number_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.article.slug} v{self.number}"


class BlockReference(models.Model):
    """A content block that a version's text uses (`{{ block:slug }}`), recorded when the version is saved.

    Versions are immutable, so are their references: "the articles using a block" are the articles
    whose live (or latest) version has a reference to it (kb.blocks).
    """

    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="block_references",
                                verbose_name=_("version"))
    block = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="block_uses",
                              verbose_name=_("content block"))

    class Meta:
        verbose_name = _("content block reference")
        verbose_name_plural = _("content block references")
        constraints = [models.UniqueConstraint(fields=["version", "block"], name="block_reference_once_per_version")]

    def __str__(self) -> str:
        return f"{self.version} -> {self.block.slug}"


LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"


class GlossaryEntry(models.Model):
    """How one product term is written in another language, for one pair of locales.

    Translations drafted by the model are given the entries whose term their source uses (prompt) and
    checked for them (the required form stands in the translation, no forbidden variant does); answers
    in the target language have forbidden variants replaced by the required form.
    """

    source_locale = models.CharField(
        _("source language"), max_length=12, validators=[RegexValidator(LOCALE_PATTERN, _("A language code such as de or en."))],
    )
    target_locale = models.CharField(
        _("target language"), max_length=12, validators=[RegexValidator(LOCALE_PATTERN, _("A language code such as de or en."))],
    )
    term = models.CharField(_("term"), max_length=200, help_text=_("As written in the source language."))
    translation = models.CharField(
        _("translation"), max_length=200, blank=True,
        help_text=_("As it must be written in the target language. Empty when the term is not translated."),
    )
    do_not_translate = models.BooleanField(
        _("do not translate"), default=False,
        help_text=_("Product and brand names: the term stays as it is in every language."),
    )
    forbidden_variants = ArrayField(
        models.CharField(max_length=200), default=list, blank=True, verbose_name=_("forbidden variants"),
        help_text=_("Wrong ways to write it in the target language, separated by commas; answers have them replaced."),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["source_locale", "target_locale", "term"]
        verbose_name = _("glossary entry")
        verbose_name_plural = _("glossary")
        constraints = [
            models.UniqueConstraint(
                Lower("term"), "source_locale", "target_locale", name="glossary_term_unique_per_pair",
                violation_error_message=_("This term is already in the glossary for this pair of languages."),
            ),
            models.CheckConstraint(condition=~models.Q(source_locale=models.F("target_locale")),
                                   name="glossary_locales_differ",
                                   violation_error_message=_("The target language must differ from the source language.")),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.source_locale}→{self.target_locale}): {self.required_form}"

    @property
    def required_form(self) -> str:
        """How the term must appear in the target language."""
        return self.term if self.do_not_translate else self.translation

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.term = (self.term or "").strip()
        self.translation = (self.translation or "").strip()
        self.forbidden_variants = [variant.strip() for variant in self.forbidden_variants or [] if variant.strip()]
        if self.source_locale and self.source_locale == self.target_locale:
            errors["target_locale"] = _("The target language must differ from the source language.")
        if self.do_not_translate:
            if self.translation and self.translation != self.term:
                errors["translation"] = _("A term that is not translated keeps its spelling: leave the translation "
                                          "empty or write the term exactly as it is.")
            self.translation = ""
        elif not self.translation:
            errors["translation"] = _("Give the translation, or tick “do not translate”.")
        required = (self.term if self.do_not_translate else self.translation).lower()
        lowered = [variant.lower() for variant in self.forbidden_variants]
        if required and required in lowered:
            errors["forbidden_variants"] = _("“%(form)s” is the required form; it cannot also be forbidden.") % {
                "form": self.required_form}
        elif len(set(lowered)) != len(lowered):
            errors["forbidden_variants"] = _("A forbidden variant is listed twice.")
        if not errors and self.term and self.source_locale and self.target_locale:
            clash = GlossaryEntry.objects.filter(
                term__iexact=self.term, source_locale=self.source_locale, target_locale=self.target_locale,
            ).exclude(pk=self.pk)
            if clash.exists():
                errors["term"] = _("“%(term)s” is already in the glossary for %(source)s→%(target)s.") % {
                    "term": self.term, "source": self.source_locale, "target": self.target_locale}
        if errors:
            raise ValidationError(errors)
