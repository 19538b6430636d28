"""Settings for the test suite: the real PostgreSQL, Celery tasks run in-process (eager)."""

import os

from verity.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The fast USE embedder (+ MiniLM for English), whatever the default: EmbeddingGemma indexes ~10x
# slower; the tests that need it say so (tests/retrieval/index/test_gemma.py).
VERITY_EMBEDDER = os.environ.get("VERITY_TEST_EMBEDDER", "use+en")
# ... and the servers, workers and commands the tests start as processes use the same one
os.environ["VERITY_EMBEDDER"] = VERITY_EMBEDDER

# Answer tests choose their generator; the real model is started only by the tests that use it.
VERITY_GENERATOR = os.environ.get("VERITY_TEST_GENERATOR", "extractive")

# Plain static names: a manifest that `up` left in the data dir may be older than the files under test.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
