"""The search index: chunks of article versions, their keyword postings and their vectors.

Only chunks of live versions have postings and vectors (publishing swaps them in one
transaction); chunk rows stay, so an old answer's citation still names its exact version.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from kb.models import Article, ArticleVersion
from verity.core.batches import LeasedBatch


class Chunk(models.Model):
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="chunks")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    heading_path = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    readable = models.TextField(blank=True, default="", db_default="", help_text="The text as the reader sees it (Markdown rendered), for snippets.")
    locale = models.CharField(max_length=12)
    length = models.PositiveIntegerField(help_text="Number of index terms (BM25 document length).")
    is_indexed = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["version", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["version", "ordinal"], name="chunk_ordinal_unique")]

    def __str__(self) -> str:
        return f"{self.version} #{self.ordinal}"


class Posting(models.Model):
    """One term of one indexed chunk: the inverted index for BM25."""

    term = models.CharField(max_length=100)
    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="+", db_index=False)
    tf = models.PositiveSmallIntegerField()
    chunk_length = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["term", "chunk"], name="posting_term_chunk")]
        constraints = [models.UniqueConstraint(fields=["chunk", "term"], name="posting_chunk_term_unique")]

    def __str__(self) -> str:
        return f"{self.term} in chunk {self.chunk_id} ({self.tf}x)"


class ChunkEmbedding(models.Model):
    """A chunk's vector in one embedding space (narrow table: vectors stay in line)."""

    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="embeddings")
    embedder_key = models.CharField(max_length=120)
    audience = models.CharField(max_length=16)
    locale = models.CharField(max_length=12)
    embedding = VectorField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chunk", "embedder_key"], name="embedding_chunk_model_unique")
        ]

    def __str__(self) -> str:
        return f"chunk {self.chunk_id} in {self.embedder_key}"


class IndexState(models.Model):
    """Which embedding space the served vectors are in (a single row)."""

    embedder_key = models.CharField(max_length=120)
    dimension = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.embedder_key} ({self.dimension} dimensions)"


class IndexJob(models.Model):
    """Progress of a bulk indexing run (reindex), advanced by Celery tasks."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=30)
    embedder_key = models.CharField(_("embedding model"), max_length=120)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("index job")
        verbose_name_plural = _("index jobs")

    def __str__(self) -> str:
        return f"{self.kind} {self.done}/{self.total} ({self.status})"


class IndexJobBatch(LeasedBatch):
    """Live versions of a job indexed together by one task; sent again when its worker is lost."""

    job = models.ForeignKey(IndexJob, on_delete=models.CASCADE, related_name="batches")
    version_ids = ArrayField(models.BigIntegerField())

    class Meta:
        ordering = ["job", "pk"]

    def __str__(self) -> str:
        return f"batch {self.pk} of job {self.job_id}: {len(self.version_ids)} version(s)"


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A client's key: stored hashed; its audience decides what it may see."""

    class Scope(models.TextChoices):
        CHANGES = "changes", _("Announce changes")

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True, help_text=_("First characters, to recognise a key."))
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Article.Audience.choices)
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices), default=list, blank=True,
                        verbose_name=_("scopes"))
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=120)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.audience})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate() -> str:
        return "vk_" + secrets.token_urlsafe(30)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_key(raw)


class ApiKeyUsage(models.Model):
    """Requests per key and minute (fixed window), for the rate limit."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "window_start"], name="apikey_usage_window_unique")]

    def __str__(self) -> str:
        return f"{self.api_key_id} at {self.window_start:%H:%M}: {self.count}"


class GuardrailRule(models.Model):
    """A guardrail that knowledge admins maintain as data (edited in the admin, audited)."""

    class Kind(models.TextChoices):
        GUARDED_PHRASE = "guarded_phrase", _("Promise allowed only where the cited source says it")
        REQUIRED_CLAUSE = "required_clause", _("Clause required in answers citing a space")
        BLOCKED_TOPIC = "blocked_topic", _("Blocked topic: hand over to a person")
        HANDOFF_TRIGGER = "handoff_trigger", _("Hand-over trigger")
        REDACTION = "redaction", _("Personal data pattern to redact")

    class Audience(models.TextChoices):
        ALL = "all", _("All audiences")
        PUBLIC = "public", _("Public only")
        INTERNAL = "internal", _("Internal only")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    phrases = models.TextField(
        _("phrases"), blank=True,
        help_text=_("One per line. Words match in order, inflections included, up to two other words between them; "
                    "a line written /like this/ is a regular expression. For a redaction rule: the regular expression(s)."),
    )
    message = models.TextField(
        _("message"), blank=True,
        help_text=_("Hand-over: the message the end user sees. Required clause: the clause appended to the answer. "
                    "Redaction: the placeholder label (e.g. CUSTOMER_NO)."),
    )
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices, default=Audience.ALL)
    space = models.ForeignKey("kb.Space", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("space"),
                              help_text=_("Required clauses: the space whose articles need the clause."))
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("guardrail rule")
        verbose_name_plural = _("guardrail rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def lines(self) -> list[str]:
        return [line.strip() for line in self.phrases.splitlines() if line.strip()]


class AnswerRecord(models.Model):
    """Provenance of one answer: what was asked (redacted), retrieved, cited and said."""

    class Status(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        REFUSED = "refused", _("Refused")
        HANDOFF = "handoff", _("Handed over")

    # Why an answer was refused or handed over: codes of the API's `reason` (stable), named for people.
    REASON_LABELS = {
        "no_supporting_evidence": _("no approved source supports an answer"),
        "answer_not_supported": _("the draft was not supported by its sources"),
        "blocked_topic": _("blocked topic"),
        "handoff_requested": _("hand-over requested"),
        "injection_attempt": _("attempt to change the rules"),
    }

    id = models.UUIDField(primary_key=True, editable=False)
    created_at = models.DateTimeField(_("asked"), default=timezone.now, db_index=True)
    question = models.TextField(_("question"), help_text=_("Redacted before storage."))
    locale = models.CharField(_("language"), max_length=12)
    audience = models.CharField(_("audience"), max_length=16, choices=Article.Audience.choices)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("API key"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("user"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, db_index=True)
    reason = models.CharField(_("reason"), max_length=60, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    citations = models.JSONField(_("citations"), default=list)
    retrieved = models.JSONField(_("retrieved"), default=list, help_text=_("Chunks and versions retrieved, with scores."))
    generator = models.CharField(_("generator"), max_length=80)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    simulated = models.BooleanField(_("simulated"), default=False)
    cache_key = models.CharField(
        _("cache key"), max_length=64, blank=True, db_index=True,
        help_text=_("sha256 of (question, locale, audience, generator, the read passages' versions, guardrails); "
                    "a model-written reply with the same key is served again without the model."),
    )
    cached = models.BooleanField(_("cached"), default=False, help_text=_("Served from an earlier reply with the same cache key."))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_status_display()}: {self.question[:60]}"

    def get_reason_display(self) -> str:
        return str(self.REASON_LABELS.get(self.reason, self.reason))


class AnswerCitation(models.Model):
    answer = models.ForeignKey(AnswerRecord, on_delete=models.CASCADE, related_name="cited", verbose_name=_("answer"))
    n = models.PositiveSmallIntegerField(_("number"))
    version = models.ForeignKey(ArticleVersion, on_delete=models.PROTECT, related_name="answer_citations",
                                verbose_name=_("version"))
    chunk = models.ForeignKey(Chunk, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("passage"))
    quote = models.TextField(_("quote"))

    class Meta:
        ordering = ["answer", "n"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        constraints = [models.UniqueConstraint(fields=["answer", "n"], name="citation_number_unique")]

    def __str__(self) -> str:
        return f"[{self.n}] {self.version}"


class Feedback(models.Model):
    class Reason(models.TextChoices):
        WRONG = "wrong", _("wrong")
        OUTDATED = "outdated", _("outdated")
        INCOMPLETE = "incomplete", _("incomplete")
        NOT_ASKED = "not_asked", _("not what was asked")
        MISSING = "missing", _("knowledge missing")  # an agent reports the gap behind a refusal

    answer = models.ForeignKey(AnswerRecord, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("answer"))
    helpful = models.BooleanField(_("helpful"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True, help_text=_("Redacted before storage."))
    created_at = models.DateTimeField(_("given"), default=timezone.now)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("API key"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("user"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self) -> str:
        verdict = _("helpful") if self.helpful else _("not helpful")
        return f"{verdict}: {self.comment[:60]}"


class TicketImport(models.Model):
    """One `kb_tickets import FILE`: all of the file's tickets are stored, or none (one transaction)."""

    class Status(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed: nothing stored"

    file = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    total = models.PositiveIntegerField(default=0, help_text="Tickets in the file.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    redactions = models.JSONField(default=dict, help_text="Personal data replaced before storage, per kind.")
    error = models.TextField(blank=True, help_text="The file, line or record and field that stopped the import.")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Tickets from {self.file} ({self.get_status_display()})"


class Ticket(models.Model):
    """A resolved support ticket from the ticketing system, redacted before storage.

    Its id in the source system is the key: importing the same ticket again updates it, never duplicates it.
    """

    class Sender(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"

    external_id = models.CharField(max_length=100, unique=True, help_text="The ticket's id in the ticketing system.")
    subject = models.CharField(max_length=500, help_text="Redacted before storage.")
    messages = models.JSONField(default=list, help_text='[{"from": "customer" | "agent", "text": ...}], redacted before storage.')
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    locale = models.CharField(max_length=12)
    resolved_at = models.DateTimeField(db_index=True)
    content_hash = models.CharField(max_length=64, help_text="sha256 of the stored (redacted) content: unchanged on re-import.")
    imported_by = models.ForeignKey(TicketImport, null=True, on_delete=models.SET_NULL, related_name="tickets",
                                    help_text="The import that stored this content.")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-resolved_at", "external_id"]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.subject[:60]}"


class TicketSimulation(models.Model):
    """What Verity answered to a ticket's first customer question, the last time it was simulated
    (`kb_eval --tickets`), and whether the agent's actual reply agreed."""

    class Agreement(models.TextChoices):
        AGREES = "agrees", "Agrees with the agent"
        DISAGREES = "disagrees", "Disagrees with the agent"
        NOT_COMPARED = "", "Not compared"

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="simulation")
    simulated_at = models.DateTimeField(default=timezone.now)
    audience = models.CharField(max_length=16)
    question = models.TextField(help_text="The first customer message without greeting and signature (redacted).")
    status = models.CharField(max_length=10, choices=AnswerRecord.Status.choices, db_index=True)
    reason = models.CharField(max_length=60, blank=True)
    answer = models.TextField(blank=True)
    citations = models.JSONField(default=list, help_text="[{slug, locale, version}] of the answer.")
    generator = models.CharField(max_length=80)
    agreement = models.CharField(max_length=10, choices=Agreement.choices, blank=True, db_index=True)
    similarity = models.FloatField(null=True, blank=True, help_text="Cosine of the agent's reply and the answer (active embedder).")
    differences = models.JSONField(default=list, help_text="Facts of the agent's reply the answer lacks or contradicts.")

    class Meta:
        ordering = ["-simulated_at"]

    def __str__(self) -> str:
        return f"{self.ticket.external_id}: {self.status} {self.agreement}".strip()


class TranslationDraftQuerySet(models.QuerySet):
    def active(self) -> TranslationDraftQuerySet:
        return self.filter(status__in=(TranslationDraft.Status.QUEUED, TranslationDraft.Status.RUNNING))


class TranslationDraft(models.Model):
    """A translation the model drafts of an article's live version, with its score and the spans a
    reviewer should read. Done, it has created a draft version of the translation article (never
    served before approval); failed, it has created nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Translating")
        DONE = "done", _("Drafted")
        FAILED = "failed", _("Failed: nothing created")

    source = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translation_drafts",
                               verbose_name=_("source article"))
    source_version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="+",
                                       verbose_name=_("source version"))
    target_locale = models.CharField(_("target language"), max_length=12)
    target = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafted_translations",
                               verbose_name=_("translation article"))
    version = models.ForeignKey(ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="translation_drafts",
                                verbose_name=_("drafted version"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    sections_total = models.PositiveIntegerField(_("sections"), default=0)
    sections_done = models.PositiveIntegerField(_("sections done"), default=0)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True, help_text=_("0-100"))
    parts = models.JSONField(_("score parts"), default=dict, blank=True)
    spans = models.JSONField(_("differing spans"), default=list, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = TranslationDraftQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("translation draft")
        verbose_name_plural = _("translation drafts")
        constraints = [
            models.UniqueConstraint(fields=["source", "target_locale"], condition=models.Q(status__in=["queued", "running"]),
                                    name="one_active_translation_draft_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.source.slug} → {self.target_locale} ({self.get_status_display()})"
