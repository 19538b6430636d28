"""Django settings, read from the environment (see README "Configuration")."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from verity.core import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = embedded.data_dir()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    SECRET_KEY = "verity-development-only-secret-key-change-me"  # noqa: S105 - development default, warned about
    if not DEBUG:
        warnings.warn("DJANGO_SECRET_KEY is not set: using the development key.", stacklevel=1)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

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
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
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
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "review-cycle-daily": {
        "task": "governance.tasks.review_cycle_run",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "contradictions-nightly": {
        "task": "retrieval.tasks.contradictions_scan_all",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * 3600},
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

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "verity@localhost")
VERITY_BASE_URL = os.environ.get("VERITY_BASE_URL", "http://127.0.0.1:8000")

# --- Retrieval ------------------------------------------------------------------------------
VERITY_EMBEDDER = os.environ.get("VERITY_EMBEDDER", "use+en")
VERITY_SEMANTIC_WEIGHT = float(os.environ.get("VERITY_SEMANTIC_WEIGHT", "0.5"))

# --- Answers: who writes them (retrieval/answers/llm.py) -------------------------------------
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
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"verity": {"level": "INFO"}, "governance": {"level": "INFO"}},
}
