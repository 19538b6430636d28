"""Error pages (JSON under /api/, the usual pages elsewhere), sign-in and the language switch, health."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views import defaults
from django.views import i18n as i18n_views
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from governance import services
from retrieval.llm.client import model_health
from verity.celery import NO_WORKER_WARNING, app, workers_answering_recently


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": f"No such endpoint: {request.path}"}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "server_error", "message": "Internal error; it was logged."}}, status=500)
    return defaults.server_error(request)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "down"


def _broker() -> str:
    if app.conf.task_always_eager:
        return "ok"  # tasks run in the web process itself
    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:  # noqa: BLE001 - any failure to reach the broker is "down"
        return "down"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and operators: each part's state, no data, no key needed; 503 names what is down.
    No worker is not a 503 (search and answers are served): a `warning` says that queued work waits."""
    parts = {"database": _database(), "broker": _broker(), "workers": workers_answering_recently(), "model": model_health()}
    if parts["workers"] == 0 and not app.conf.task_always_eager:
        parts["warning"] = NO_WORKER_WARNING
    failing = [name for name in ("database", "broker", "model") if parts[name] == "down"]
    if failing:
        return JsonResponse({**parts, "error": {"code": "unhealthy", "message": f"down: {', '.join(failing)}"}},
                            status=503)
    return JsonResponse(parts)


class LoginView(auth_views.LoginView):
    """Django's sign-in, remembering the language the person uses Verity in (their e-mails follow it)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_language_remember(user=form.get_user(), language=translation.get_language())
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a cookie); for a signed-in person also their remembered language."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and translation.check_for_language(language):
        services.user_language_remember(user=request.user, language=language)
    return response
