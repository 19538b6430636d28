"""Zendesk Guide: a folder of Help Center API responses, as saved by a script or an export tool.

    articles.json                  GET /api/v2/help_center/articles.json (pages: articles-2.json, ...)
                                   {"articles": [{"id", "html_url", "title", "body", "locale", "source_locale",
                                                  "section_id", "label_names", "draft", "user_segment_id",
                                                  "author_id", "updated_at", ...}], "next_page": ..., ...}
    sections.json                  GET /api/v2/help_center/sections.json (optional: section names)
    translations/<article id>.json GET /api/v2/help_center/articles/{id}/translations.json (optional)
                                   {"translations": [{"id", "source_id", "source_type", "locale", "title",
                                                      "body", "draft", "outdated", "html_url", "updated_at", ...}]}

Field names are those of Zendesk's public API reference. The article in its `source_locale` becomes
the Verity article (external id: the article id); each other locale becomes a translation of it
(external id: "<id>/<locale>"). Zendesk locales are reduced to their language ("en-us" -> "en"); the
original is kept in the metadata. An article visible to everyone (`user_segment_id` null) is
public, one restricted to a user segment internal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from governance.connectors.html import html_to_markdown, text_of
from governance.connectors.records import SourceError, SourceExport, SourceRecord


def read_zendesk(folder: Path) -> SourceExport:
    if not folder.is_dir():
        raise SourceError(str(folder), "is not a folder (expected the Help Center API's articles.json and friends)")
    pages = sorted(folder.glob("articles*.json"), key=_page_order)
    if not pages:
        raise SourceError(str(folder), "has no articles.json (the Help Center API's list of articles)")
    sections = _sections(folder / "sections.json") if (folder / "sections.json").exists() else {}
    articles: list[tuple[Path, int, dict[str, Any]]] = []
    for page in pages:
        for index, article in enumerate(_list(page, "articles")):
            articles.append((page, index, article))
    export = SourceExport(kind="zendesk", name="")
    seen: dict[str, str] = {}
    for page, index, article in articles:
        where = f"{page.name}: articles[{index}]"
        if not isinstance(article, dict) or not _is_id(article.get("id")):
            export.unidentified += 1
            export.records.append(SourceRecord(external_id=f"{page.name}#{index}", where=where, title="", body="",
                                               locale="", problem="expected an article object with a numeric 'id'",
                                               problem_key="id"))
            continue
        article_id = str(article["id"])
        where = f"{page.name}: article {article_id}"
        if article_id in seen:
            raise SourceError(page.name, f"appears twice (also in {seen[article_id]})", record=f"article {article_id}")
        seen[article_id] = page.name
        if not export.name:  # the help center's own host: the API address's, else the page's
            export.name = urlsplit(str(article.get("url") or article.get("html_url") or "")).netloc
        translations_file = folder / "translations" / f"{article_id}.json"
        translations = _list(translations_file, "translations") if translations_file.exists() else []
        export.records.extend(_records(article, translations, sections, where, translations_file))
    export.name = export.name or folder.resolve().name
    return export


def _page_order(path: Path) -> tuple[int, str]:
    """articles.json first, then articles-2.json, articles-3.json, ... in numeric order."""
    digits = "".join(ch for ch in path.stem if ch.isdigit())
    return (int(digits) if digits else 0, path.name)


def _name(path: Path) -> str:
    """A file as people find it in the export: articles.json, translations/360012345612.json."""
    return f"translations/{path.name}" if path.parent.name == "translations" else path.name


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SourceError(_name(path), "expected UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise SourceError(_name(path), f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None


def _list(path: Path, key: str) -> list[Any]:
    data = _load(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise SourceError(_name(path), f"expected a JSON object with a '{key}' list, as the Help Center API returns")
    return data[key]


def _sections(path: Path) -> dict[str, str]:
    names = {}
    for index, section in enumerate(_list(path, "sections")):
        if not isinstance(section, dict) or not _is_id(section.get("id")):
            raise SourceError(path.name, "expected a section object with a numeric 'id'", record=f"sections[{index}]")
        names[str(section["id"])] = str(section.get("name") or "")
    return names


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def language(locale: str) -> str:
    """A Zendesk locale as a Verity language code: "de" -> "de", "en-us" -> "en", "de-ch" -> "de"."""
    return locale.strip().lower().split("-")[0]


def _records(
    article: dict[str, Any], translations: list[Any], sections: dict[str, str], where: str, translations_file: Path,
) -> list[SourceRecord]:
    article_id = str(article["id"])
    origin = where.split(":", 1)[0]
    t_origin = _name(translations_file)
    problem, key = _article_problem(article)
    if problem is not None:
        return [SourceRecord(external_id=article_id, where=where, title="", body="", locale="", problem=problem,
                             problem_key=key)]
    variants: dict[str, tuple[dict[str, Any], str]] = {article["locale"]: (article, origin)}
    for index, translation in enumerate(translations):
        if not isinstance(translation, dict) or not isinstance(translation.get("locale"), str) or not translation["locale"]:
            raise SourceError(t_origin, "expected a translation object with a 'locale'", record=f"translations[{index}]")
        if translation.get("source_type", "article") != "article" or str(translation.get("source_id", article_id)) != article_id:
            raise SourceError(t_origin, f"is not a translation of article {article_id} (source_type, source_id)",
                              record=f"translations[{index}]")
        if translation["locale"] != article["locale"]:  # the article's own locale: the article object says it
            variants[translation["locale"]] = (translation, t_origin)
    source_locale = article.get("source_locale") or article["locale"]
    if source_locale not in variants:
        return [SourceRecord(external_id=article_id, where=where, title="", body="", locale="",
                             problem=f"no content in its source locale '{source_locale}'", problem_key="source_locale")]
    section_id = str(article.get("section_id") or "")
    section_name = sections.get(section_id, "")
    owner_keys = [("pages", article_id)]
    owner_keys += [("sections", value) for value in (section_name, section_id) if value]
    if article.get("author_id"):
        owner_keys.append(("authors", str(article["author_id"])))
    audience = "public" if article.get("user_segment_id") is None else "internal"
    tags = tuple(label.strip()[:60] for label in article.get("label_names") or [] if label.strip())
    records = []
    for locale in [source_locale, *sorted(locale for locale in variants if locale != source_locale)]:
        content, content_origin = variants[locale]
        is_source = locale == source_locale
        meta = {"zendesk_article_id": int(article_id), "zendesk_locale": locale, "section": section_name,
                "section_id": int(section_id) if section_id else None}
        if content.get("outdated"):
            meta["zendesk_outdated"] = True
        common = {
            "external_id": article_id if is_source else f"{article_id}/{language(locale)}",
            "where": f"{content_origin}: article {article_id}" + ("" if is_source else f" ({locale})"),
            "locale": language(locale),
            "updated_at": str(content.get("updated_at") or article["updated_at"]),
            "url": str(content.get("html_url") or ""), "audience": audience, "tags": tags,
            "translation_of": None if is_source else article_id, "draft": bool(content.get("draft")),
            "owner_keys": tuple(owner_keys), "metadata": meta,
        }
        title, body = content.get("title"), content.get("body")
        if not isinstance(title, str) or not text_of(title):
            records.append(SourceRecord(**common, title="", body="", problem="the title is missing or empty", problem_key="title"))
            continue
        if not isinstance(body, str) or not (text_of(body) or "<img" in body):
            records.append(SourceRecord(**common, title=text_of(title), body="", problem="the body is missing or empty",
                                        problem_key="body"))
            continue
        converted = html_to_markdown(body, base_url=common["url"])
        records.append(SourceRecord(**common, title=text_of(title), body=converted.markdown, notes=converted.notes))
    return records


def _article_problem(article: dict[str, Any]) -> tuple[str | None, str | None]:
    for key, kind, expected in (
        ("locale", str, "a locale such as 'de'"), ("updated_at", str, "a time such as '2026-10-02T08:15:31Z'"),
    ):
        if not isinstance(article.get(key), kind) or not article.get(key):
            return f"'{key}' is missing: expected {expected}", key
    if article.get("label_names") is not None and not (
        isinstance(article["label_names"], list) and all(isinstance(label, str) for label in article["label_names"])
    ):
        return "'label_names' must be a list of strings", "label_names"
    if article.get("section_id") is not None and not _is_id(article["section_id"]):
        return "'section_id' must be a numeric id", "section_id"
    return None, None
