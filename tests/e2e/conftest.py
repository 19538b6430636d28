"""Fixtures for the agent desktop tests: knowledge published through the real services, browsers.

Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright's Python package;
Playwright never downloads a browser here. They are skipped, with the reason, when either is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from governance import services
from kb.models import Article, Space
from retrieval.index import corpus
from tests.conftest import _user

CHROMIUM = Path("/usr/bin/chromium")
# As root on this machine: no sandbox, no GPU, and no background traffic to Google's hosts.
# (Playwright's launch() always starts with a new, empty temporary profile: the --user-data-dir.)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"

RETURN_BODY = (
    "## Frist\n\nSie können im Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben.\n\n"
    "## Rücksendung\n\nDas Rücksendeetikett drucken Sie unter Mein Konto > Bestellungen > Rücksendung aus."
)
GOODWILL_BODY = (
    "## Kulanz\n\nAgenten dürfen ohne Rücksprache Gutschriften bis 25 € buchen. "
    "Darüber entscheidet die Teamleitung bis 150 €."
)
ROAMING_BODY = (
    "## Roaming in der EU\n\nIn der EU telefonieren und surfen Sie zu Inlandskonditionen. "
    "Das Datenvolumen im EU-Ausland ist im Tarif S auf 10 GB begrenzt."
)


@pytest.fixture(autouse=True)
def _fresh_corpus_stats():
    """Search caches corpus statistics for 30 s per process; a test must not see another test's corpus."""
    corpus.stats_invalidate()
    yield
    corpus.stats_invalidate()


@pytest.fixture
def people(db) -> dict:
    """One user per role (tests/conftest.py style: password "pw-<username>"); agents are not staff."""
    agent = _user("felix", "agents", first_name="Felix", last_name="Agent")
    agent.is_staff = False
    agent.save(update_fields=["is_staff"])
    return {
        "author": _user("anna", "authors", first_name="Anna", last_name="Autorin"),
        # an author who may also approve: exactly the case the four-eyes rule is about
        "author_approver": _user("arne", "authors", "approvers", first_name="Arne", last_name="Autor"),
        "approver": _user("clara", "approvers", first_name="Clara", last_name="Freigabe"),
        "agent": agent,
    }


@pytest.fixture
def space(db) -> Space:
    return Space.objects.create(slug="service", name="Service", default_review_interval_days=90)


@pytest.fixture
def publish(people, space) -> Callable[..., Article]:
    """Create an article and publish its first version (submit + approve), returning it fresh."""

    def make(slug: str, *, title: str, body: str, audience: str = Article.Audience.PUBLIC, locale: str = "de",
             author=None, **kwargs) -> Article:
        author = author or people["author"]
        article = services.article_create(
            actor=author, slug=slug, title=title, body=body, locale=locale, space=space, owner=author,
            audience=audience, **kwargs,
        )
        review = services.version_submit(actor=author, version=article.latest_version)
        services.version_approve(actor=people["approver"], review=review)
        article.refresh_from_db()
        return article

    return make


@pytest.fixture
def revise(people):
    """Save a new version of an article as its author and approve it: the article's new live version."""

    def make(article: Article, *, body: str, title: str | None = None) -> Article:
        article.refresh_from_db()
        version = services.version_create(
            actor=article.owner, article=article, title=title or article.title, body=body,
            base_version=article.latest_version.number,
        )
        review = services.version_submit(actor=article.owner, version=version)
        services.version_approve(actor=people["approver"], review=review)
        article.refresh_from_db()
        return article

    return make


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (python3 dev.py test does, as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API runs an asyncio loop on this thread while it is open; Django then refuses
    # ORM calls here (the test's own queries, the database flush between tests), although they are
    # plain synchronous calls. Allowed for exactly as long as the browser lives.
    with pytest.MonkeyPatch.context() as patch, sync_api.sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """A function opening a page in a fresh browser context (own cookies), German UI, clipboard allowed."""
    contexts = []

    def make(**options):
        context = browser.new_context(
            base_url=live_server.url, locale="de-DE", viewport=options.pop("viewport", {"width": 1360, "height": 900}),
            permissions=["clipboard-read", "clipboard-write"], **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
