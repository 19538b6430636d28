"""Verity's admin site: Django's, plus the knowledge owners' overview pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path


class VerityAdminSite(admin.AdminSite):
    site_header = "Verity: knowledge governance"
    site_title = "Verity"
    index_title = "Knowledge owners' workspace"

    @property
    def login_form(self):
        """Sign-in throttled like the desktop's (imported late: this module is also the admin's AppConfig)."""
        from verity.auth_forms import ThrottledAdminAuthenticationForm

        return ThrottledAdminAuthenticationForm

    def get_urls(self):
        from governance.admin import content_health_view

        return [
            path("health/", self.admin_view(content_health_view), name="content_health"),
            path("insights/", self.admin_view(self.insights_view), name="insights"),
            *super().get_urls(),
        ]

    def insights_view(self, request: HttpRequest) -> HttpResponse:
        """Knowledge gaps (from questions and from past tickets), most-cited and disliked articles, answer rates."""
        from retrieval.answers import insights
        from retrieval.answers.ticket_simulation import ticket_gaps

        if not request.user.has_perm("retrieval.view_answerrecord"):
            raise PermissionDenied
        days = insights.rates_by_day(days=30)
        totals = {status: sum(getattr(day, status) for day in days) for status in ("answered", "refused", "handoff")}
        total = sum(totals.values())
        return TemplateResponse(request, "admin/insights.html", {
            **self.each_context(request),
            "title": "Insights",
            "gaps": insights.knowledge_gaps(days=90),
            "ticket_gaps": ticket_gaps(),
            "most_cited": insights.most_cited(days=30),
            "most_disliked": insights.most_disliked(days=90),
            "chart": insights.rate_chart(days),
            "first_day": days[0].day, "last_day": days[-1].day,
            "totals": totals,
            "shares": {status: (f"{100 * count / total:.0f} %" if total else "–") for status, count in totals.items()},
        })


class VerityAdminConfig(AdminConfig):
    default_site = "verity.admin_site.VerityAdminSite"
