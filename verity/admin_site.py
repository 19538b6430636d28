"""Verity's admin site: Django's, plus the knowledge owners' overview pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import path


class VerityAdminSite(admin.AdminSite):
    site_header = "Verity: knowledge governance"
    site_title = "Verity"
    index_title = "Knowledge owners' workspace"

    def get_urls(self):
        from governance.admin import content_health_view

        return [path("health/", self.admin_view(content_health_view), name="content_health"), *super().get_urls()]


class VerityAdminConfig(AdminConfig):
    default_site = "verity.admin_site.VerityAdminSite"
