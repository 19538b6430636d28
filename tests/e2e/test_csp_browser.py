"""The Content-Security-Policy (#14 item 6) breaks nothing: the desktop, the admin and the API docs in a real
browser report no CSP violation, and each page still does its work (results as you type, an answer draft,
the admin's article form and overview pages, Swagger UI)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RETURN_BODY
from tests.e2e.test_desktop_browser import admin_login, desktop_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch_violations(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def test_desktop_admin_and_api_docs_run_under_the_policy(new_page, people, publish):
    article = publish("rueckgabe", title="Rückgabe im Shop", body=RETURN_BODY)
    page = new_page()
    violations = _watch_violations(page)

    response = page.goto("/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    desktop_login(page, "felix")
    page.get_by_label("Öffentliches und internes Wissen durchsuchen").press_sequentially("Rückgabe", delay=25)
    page.locator('.result[data-slug="rueckgabe"]').wait_for()  # desktop.js ran: results as you type
    page.get_by_label("Öffentliches und internes Wissen durchsuchen").press("Enter")
    page.locator(".answer").first.wait_for()  # the answer draft, inserted by desktop.js

    admin_page = new_page()
    violations += _watch_violations(admin_page)
    admin_login(admin_page, "clara")
    for path in (f"/admin/kb/article/{article.pk}/change/", "/admin/kb/article/", "/admin/insights/",
                 "/admin/health/", f"/admin/kb/article/{article.pk}/versions/1/", f"/admin/kb/article/{article.pk}/diff/",
                 f"/admin/kb/article/{article.pk}/diff/?to=1&view=side", "/admin/inbox/"):
        admin_page.goto(path)
        admin_page.wait_for_load_state("networkidle")
    assert admin_page.locator(".verity-panel").first.evaluate(
        "element => getComputedStyle(element).borderTopStyle") == "solid"  # verity/admin.css applies

    admin_page.goto("/api/docs/")
    admin_page.locator(".swagger-ui .info .title").wait_for()  # Swagger UI rendered from static files only
    admin_page.locator(".opblock-summary-path", has_text="/api/v1/search").first.wait_for()

    assert violations == []
