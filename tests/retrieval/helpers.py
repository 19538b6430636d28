"""Small helpers shared by the retrieval tests."""

from __future__ import annotations

from kb.models import Article, ArticleVersion
from retrieval.search.hybrid import ArticleResult, search
from retrieval.search.query import SearchQuery


def run_search(text: str, *, audiences=("public",), **kwargs) -> list[ArticleResult]:
    return search(SearchQuery(text=text, audiences=tuple(audiences), **kwargs))


def slugs(results) -> list[str]:
    """Slugs of search() results or of an API response's results, in order."""
    if isinstance(results, dict):
        return [item["slug"] for item in results["results"]]
    return [result.article.slug for result in results]


def live_version(article: Article) -> ArticleVersion:
    return Article.objects.select_related("live_version").get(pk=article.pk).live_version
