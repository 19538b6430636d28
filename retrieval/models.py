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


class IndexState(models.Model):
    """Which embedding space the served vectors are in (a single row)."""

    embedder_key = models.CharField(max_length=120)
    dimension = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)


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
