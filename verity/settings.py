"""Django settings, read from the environment (see README "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from verity.core import embedded, local_secret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = embedded.data_dir()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("DJANGO_DEBUG", False)
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()

# The secret key: DJANGO_SECRET_KEY; on a single-machine installation (the embedded database in the
# data dir) a random key generated once into VERITY_DATA_DIR/secret_key. A deployment on its own
# database (several web processes need one key) with DEBUG off refuses to start without it.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY:
    if DATABASE_URL and not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. A deployment (DATABASE_URL is set, DJANGO_DEBUG is off) needs a secret key "
            "shared by all its web processes: generate one with `python -c \"import secrets; "
            "print(secrets.token_urlsafe(48))\"` and set DJANGO_SECRET_KEY. (Without DATABASE_URL Verity keeps a "
            "generated key in VERITY_DATA_DIR/secret_key.)"
        )
    SECRET_KEY = local_secret.local_secret_key(DATA_DIR)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

CSRF_TRUSTED_ORIGINS = [
    origin.strip() for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin.strip()
]

# --- Behind a TLS-terminating proxy (README "Deployment") -------------------------------------
# VERITY_BEHIND_TLS_PROXY=1: the proxy terminates HTTPS and sets X-Forwarded-Proto (and appends the
# client's address to X-Forwarded-For); Verity then redirects http to https, sends HSTS and marks its
# cookies Secure. Off (the default), a local demo over http://127.0.0.1 keeps working with logins.
BEHIND_TLS_PROXY = _env_bool("VERITY_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("VERITY_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("VERITY_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("VERITY_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS binds the whole domain for months and cannot be taken back quickly: the
# operator's decision (VERITY_HSTS_PRELOAD=1), so check --deploy does not insist on it.
SILENCED_SYSTEM_CHECKS = [] if BEHIND_TLS_PROXY and SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (verity/security.py): scripts and styles only from Verity's own static files.
CONTENT_SECURITY_POLICY = os.environ.get("VERITY_CSP", (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
))

# Sign-in throttling (verity/throttle.py): failed sign-ins per user and client address, failed API keys
# per client address, counted in the database so every web process shares the count.
VERITY_LOGIN_MAX_FAILURES = int(os.environ.get("VERITY_LOGIN_MAX_FAILURES", "5"))
VERITY_API_AUTH_MAX_FAILURES = int(os.environ.get("VERITY_API_AUTH_MAX_FAILURES", "50"))
VERITY_AUTH_FAILURE_WINDOW_SECONDS = int(os.environ.get("VERITY_AUTH_FAILURE_WINDOW_SECONDS", str(15 * 60)))

INSTALLED_APPS = [
    "verity.admin_site.VerityAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "verity",
    "kb",
    "governance",
    "retrieval",
]

MIDDLEWARE = [
    "verity.request_limits.ApiRequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "verity.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "verity.urls"
WSGI_APPLICATION = "verity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or the embedded PostgreSQL with pgvector ------------------------
if DATABASE_URL:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=60)
    _database["ENGINE"] = "verity.core.db"
    _database["EMBEDDED"] = False
else:
    _location = embedded.postgres_location(DATA_DIR)
    _database = {
        "ENGINE": "verity.core.db",
        "NAME": _location.database,
        "USER": _location.user,
        "HOST": str(_location.socket_dir),
        "PORT": str(_location.port),
        "CONN_MAX_AGE": 60,
        "EMBEDDED": True,
    }
_database.setdefault("TEST", {})
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery: CELERY_BROKER_URL, or the embedded Valkey on a unix socket ----------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "").strip()
CELERY_BROKER_EMBEDDED = not CELERY_BROKER_URL
if CELERY_BROKER_EMBEDDED:
    CELERY_BROKER_URL = embedded.broker_url(DATA_DIR)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = _env_bool("VERITY_CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/Berlin"
# A worker holds a batch of bulk work (import, reindex) under a lease it renews while the batch runs;
# a batch whose worker was lost is sent again once the lease ran out (verity/core/batches.py).
VERITY_BATCH_LEASE_SECONDS = float(os.environ.get("VERITY_BATCH_LEASE_SECONDS", "60"))
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "review-cycle-daily": {
        "task": "governance.tasks.review_cycle_run",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "index-batches-recover": {
        "task": "retrieval.tasks.index_jobs_recover",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "contradictions-nightly": {
        "task": "retrieval.tasks.contradictions_scan_all",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "notifications-digest-hourly": {
        "task": "governance.tasks.notifications_send_digest",
        "schedule": crontab(minute=5),
        "options": {"expires": 3600},
    },
    "publications-due-every-minute": {
        "task": "governance.tasks.publications_publish_due",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
}

# --- Auth, i18n, static --------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desktop:search"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: a URL typed without a scheme is https

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["verity.formats"]  # English dates without the US order (verity/formats/en)
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files are served by WhiteNoise from the web processes themselves, with DEBUG off too:
# `collectstatic` (run by `up`; part of a deployment) writes compressed files with hashed names that
# browsers may cache for a year. Without it, pages still work: files are found where they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "verity.security.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "verity@localhost")
VERITY_BASE_URL = os.environ.get("VERITY_BASE_URL", "http://127.0.0.1:8000")

# --- Retrieval ------------------------------------------------------------------------------
# "default": EmbeddingGemma-300M where `dev.py install` put it into .models/, else "use+en" (logged).
# Measured with both on the development sets (README "EmbeddingGemma-300M, the default"): answers and
# change impact find more with Gemma at the thresholds chosen on USE. See retrieval/index/embeddings.py.
# A different model than the index's means a full reindex (workers queue it at start; `manage.py
# kb_reindex` does it by hand).
VERITY_EMBEDDER = os.environ.get("VERITY_EMBEDDER", "default")
# The fusion weight of hybrid search and answers (one weight for both): unset means the one tuned for
# the active embedder (its `fusion_weight`, see retrieval.index.embeddings).
VERITY_SEMANTIC_WEIGHT = float(os.environ["VERITY_SEMANTIC_WEIGHT"]) if os.environ.get("VERITY_SEMANTIC_WEIGHT") else None

# --- Answers: who writes them (retrieval/llm/client.py) -------------------------------------
# "llm": a language model writes and a reader's checks verify (the embedded llama.cpp server with
# VERITY_LLM_MODEL_PATH or the installed default model, or any OpenAI-compatible server at
# VERITY_LLM_BASE_URL); "extractive": the passages themselves, no model. Without a usable model the
# "llm" setting answers extractively and says so in the reply's "generator".
VERITY_GENERATOR = os.environ.get("VERITY_GENERATOR", "llm").strip().lower()
VERITY_LLM_MODEL_PATH = os.environ.get("VERITY_LLM_MODEL_PATH", "").strip()
VERITY_LLM_BASE_URL = os.environ.get("VERITY_LLM_BASE_URL", "").strip()
VERITY_LLM_MODEL = os.environ.get("VERITY_LLM_MODEL", "").strip()
VERITY_LLM_API_KEY = os.environ.get("VERITY_LLM_API_KEY", "").strip()
VERITY_LLM_TIMEOUT = float(os.environ.get("VERITY_LLM_TIMEOUT", "120"))
# Change impact and contradictions: the language model also reads each plausible section (retrieval/impact/reading.py).
# Off by default: the installed 1.5B model did not tell affected sections from their neighbours (AUC 0.45 on the
# demo's development changes, README "Change impact"); turn it on with a stronger model (VERITY_LLM_BASE_URL).
VERITY_IMPACT_READING = os.environ.get("VERITY_IMPACT_READING", "").strip().lower() in {"1", "true", "yes"}
# ... and writes each flag's reason (else it is built from the article's sentence and the announcement's clause).
VERITY_IMPACT_MODEL_REASONS = os.environ.get("VERITY_IMPACT_MODEL_REASONS", "").strip().lower() in {"1", "true", "yes"}
# what a change ends (retrieval.impact.ended): on unless turned off
VERITY_IMPACT_ENDED = os.environ.get("VERITY_IMPACT_ENDED", "1").strip().lower() not in {"0", "false", "no", "off"}

# Bounded work per request (README "Limits"): larger API bodies are refused with a JSON 413.
VERITY_API_MAX_BODY_BYTES = int(os.environ.get("VERITY_API_MAX_BODY_BYTES", str(256 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "verity.request_limits.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "retrieval.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Verity retrieval API",
    "DESCRIPTION": "Search and cited answers from approved, current knowledge. Authenticate with "
                   "`Authorization: Bearer <api key>` (create one with `manage.py kb_apikey create`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # requests are JSON (shared/interfaces.md): the schema documents that body type alone
    "PARSER_WHITELIST": ["verity.request_limits.BoundedJSONParser"],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"without_query_strings": {"()": "verity.access_log.WithoutQueryStrings"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "verity": {"level": "INFO"}, "governance": {"level": "INFO"},
        # the development server's access log, as Django configures it, without query strings (searches)
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False,
                          "filters": ["without_query_strings"]},
    },
}
