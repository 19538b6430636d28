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
from pgvector.django import VectorField

from kb.models import Article, ArticleVersion
from verity.core.batches import LeasedBatch


class Chunk(models.Model):
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="chunks")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    heading_path = models.CharField(max_length=500, blank=True)
    text = models.TextField()
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
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=30)
    embedder_key = models.CharField(max_length=120)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

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
        CHANGES = "changes", "Announce changes"

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12, unique=True, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    audience = models.CharField(max_length=16, choices=Article.Audience.choices)
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices), default=list, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

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
        GUARDED_PHRASE = "guarded_phrase", "Promise allowed only where the cited source says it"
        REQUIRED_CLAUSE = "required_clause", "Clause required in answers citing a space"
        BLOCKED_TOPIC = "blocked_topic", "Blocked topic: hand over to a person"
        HANDOFF_TRIGGER = "handoff_trigger", "Hand-over trigger"
        REDACTION = "redaction", "Personal data pattern to redact"

    class Audience(models.TextChoices):
        ALL = "all", "All audiences"
        PUBLIC = "public", "Public only"
        INTERNAL = "internal", "Internal only"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    phrases = models.TextField(
        blank=True,
        help_text="One per line. Words match in order, inflections included, up to two other words between them; "
                  "a line written /like this/ is a regular expression. For a redaction rule: the regular expression(s).",
    )
    message = models.TextField(
        blank=True,
        help_text="Hand-over: the message the end user sees. Required clause: the clause appended to the answer. "
                  "Redaction: the placeholder label (e.g. CUSTOMER_NO).",
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ALL)
    space = models.ForeignKey("kb.Space", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              help_text="Required clauses: the space whose articles need the clause.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def lines(self) -> list[str]:
        return [line.strip() for line in self.phrases.splitlines() if line.strip()]


class AnswerRecord(models.Model):
    """Provenance of one answer: what was asked (redacted), retrieved, cited and said."""

    class Status(models.TextChoices):
        ANSWERED = "answered", "Answered"
        REFUSED = "refused", "Refused"
        HANDOFF = "handoff", "Handed over"

    id = models.UUIDField(primary_key=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    question = models.TextField(help_text="Redacted before storage.")
    locale = models.CharField(max_length=12)
    audience = models.CharField(max_length=16)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    reason = models.CharField(max_length=60, blank=True)
    answer = models.TextField(blank=True)
    citations = models.JSONField(default=list)
    retrieved = models.JSONField(default=list, help_text="Chunks and versions retrieved, with scores.")
    generator = models.CharField(max_length=80)
    latency_ms = models.PositiveIntegerField()
    simulated = models.BooleanField(default=False)
    cache_key = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="sha256 of (question, locale, audience, generator, the read passages' versions, guardrails); "
                  "a model-written reply with the same key is served again without the model.",
    )
    cached = models.BooleanField(default=False, help_text="Served from an earlier reply with the same cache key.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.status}: {self.question[:60]}"


class AnswerCitation(models.Model):
    answer = models.ForeignKey(AnswerRecord, on_delete=models.CASCADE, related_name="cited")
    n = models.PositiveSmallIntegerField()
    version = models.ForeignKey(ArticleVersion, on_delete=models.PROTECT, related_name="answer_citations")
    chunk = models.ForeignKey(Chunk, null=True, on_delete=models.SET_NULL, related_name="+")
    quote = models.TextField()

    class Meta:
        ordering = ["answer", "n"]
        constraints = [models.UniqueConstraint(fields=["answer", "n"], name="citation_number_unique")]

    def __str__(self) -> str:
        return f"[{self.n}] {self.version}"


class Feedback(models.Model):
    answer = models.ForeignKey(AnswerRecord, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, help_text="Redacted before storage.")
    created_at = models.DateTimeField(default=timezone.now)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{'helpful' if self.helpful else 'not helpful'}: {self.comment[:60]}"


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
