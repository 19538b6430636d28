"""Verity's admin site: Django's, plus the knowledge owners' overview pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class VerityAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Verity: knowledge governance")
    site_title = "Verity"
    index_title = gettext_lazy("Knowledge owners' workspace")

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Django's admin sign-in, remembering the language the person uses (their e-mails follow it)."""
        from governance import services

        response = super().login(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated:
            services.user_language_remember(user=request.user, language=translation.get_language())
        return response

    @property
    def login_form(self):
        """Sign-in throttled like the desktop's (imported late: this module is also the admin's AppConfig)."""
        from verity.auth_forms import ThrottledAdminAuthenticationForm

        return ThrottledAdminAuthenticationForm

    def each_context(self, request: HttpRequest) -> dict:
        """Every admin page's header counts what awaits the person: "3 to review", "2 new"."""
        from governance import selectors

        context = super().each_context(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_active and user.is_staff:
            context["verity_inbox_count"] = selectors.inbox_count(user)
            context["verity_unread_count"] = selectors.unread_notification_count(user)
        return context

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The start page begins with what awaits the person (the inbox, shortened)."""
        from governance.admin import inbox_context

        return super().index(request, {**inbox_context(request, limit=5), "verity_start_page": True, **(extra_context or {})})

    def get_urls(self):
        from governance.admin import content_health_view, inbox_view, notifications_read_view

        return [
            path("inbox/", self.admin_view(inbox_view), name="inbox"),
            path("inbox/read/", self.admin_view(notifications_read_view), name="notifications_read"),
            path("health/", self.admin_view(content_health_view), name="content_health"),
            path("insights/", self.admin_view(self.insights_view), name="insights"),
            path("insights/draft-article/", self.admin_view(self.insights_draft_article_view), name="insights_draft_article"),
            *super().get_urls(),
        ]

    def insights_view(self, request: HttpRequest) -> HttpResponse:
        """Knowledge gaps (from questions and from past tickets), most-cited and disliked articles, answer rates."""
        from governance import services
        from governance.models import Suggestion
        from kb.models import Space
        from retrieval.answers import insights
        from retrieval.answers.ticket_simulation import ticket_gaps

        if not request.user.has_perm("retrieval.view_answerrecord"):
            raise PermissionDenied
        gaps = ticket_gaps()
        # the newest suggested article drawn from each topic's tickets, shown instead of the button while open
        drafted = list(Suggestion.objects.filter(kind=Suggestion.Kind.TICKETS,
                                                 source_tickets__overlap=[i for gap in gaps for i in gap.ticket_ids])
                       .order_by("-created_at", "-id")[:200])
        ticket_gap_rows = [(gap, next((x for x in drafted if set(x.source_tickets) & set(gap.ticket_ids)), None))
                           for gap in gaps]
        days = insights.rates_by_day(days=30)
        totals = {status: sum(getattr(day, status) for day in days) for status in ("answered", "refused", "handoff")}
        total = sum(totals.values())
        return TemplateResponse(request, "admin/insights.html", {
            **self.each_context(request),
            "title": _("Insights"),
            "gaps": insights.knowledge_gaps(days=90),
            "ticket_gap_rows": ticket_gap_rows,
            "may_draft_article": services.suggestion_may_draft_article(request.user),
            "spaces": list(Space.objects.order_by("name")),
            "most_cited": insights.most_cited(days=30),
            "most_disliked": insights.most_disliked(days=90),
            "chart": insights.rate_chart(days),
            "first_day": days[0].day, "last_day": days[-1].day,
            "totals": totals,
            "shares": {status: (f"{100 * count / total:.0f} %" if total else "–") for status, count in totals.items()},
        })

    def insights_draft_article_view(self, request: HttpRequest) -> HttpResponse:
        """POST: ask Verity to draft a new article from a ticket gap topic's tickets (drafted in the worker)."""
        from django.contrib import messages
        from django.http import HttpResponseNotAllowed, HttpResponseRedirect
        from django.urls import reverse

        from kb.models import Space
        from retrieval.answers.ticket_drafting import ticket_draft_request
        from verity.core.errors import ApplicationError

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("retrieval.view_answerrecord"):
            raise PermissionDenied
        space_id = request.POST.get("space", "")
        space = Space.objects.filter(pk=int(space_id)).first() if space_id.isdigit() else None
        if space is None:
            messages.error(request, _("Choose the space for the new article."))
            return HttpResponseRedirect(reverse("admin:insights"))
        try:
            suggestion = ticket_draft_request(actor=request.user, space=space,
                                              ticket_ids=request.POST.get("tickets", "").split(","),
                                              title=request.POST.get("title", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("admin:insights"))
        messages.success(request, _("Verity is drafting an article from %(count)d ticket(s); this page shows it "
                                    "when it is ready.") % {"count": len(suggestion.source_tickets)})
        return HttpResponseRedirect(reverse("admin:governance_suggestion_change", args=[suggestion.pk]))


class VerityAdminConfig(AdminConfig):
    default_site = "verity.admin_site.VerityAdminSite"

    def ready(self) -> None:
        super().ready()
        _people_as_text()


def _people_as_text() -> None:
    """A read-only field naming a person (an owner, who submitted or decided) shows the name, not a link to
    the user admin: Django links it without asking whether the reader may open it, and only superusers may
    (every role got a 403 from it: tests/retrieval/test_no_forbidden_links.py)."""
    from django.contrib.admin import helpers
    from django.contrib.auth import get_user_model

    original = helpers.AdminReadonlyField.get_admin_url
    if getattr(original, "people_as_text", False):
        return

    def get_admin_url(self, remote_field, remote_obj):
        if remote_field.model is get_user_model():
            return remote_obj.get_full_name() or remote_obj.get_username()
        return original(self, remote_field, remote_obj)

    get_admin_url.people_as_text = True
    helpers.AdminReadonlyField.get_admin_url = get_admin_url
