"""A folder of pages: HTML (a saved website, an intranet export) or Markdown files.

Each `.html`/`.htm`/`.md`/`.markdown` file is one page; its path relative to the folder is its id,
so a re-run matches it. HTML: the title is the `<title>` (or the first `<h1>`), the text is the
`<main>`, `<article>` or `<body>` without navigation, header, footer, forms and scripts, the language
is `<html lang>` (else the command's locale). Markdown: optional front matter (`title`, `locale`,
`tags`), else the first `# heading` is the title, and the text is taken as written, as kb_import
takes it (the renderer sanitises any HTML in it). Symbolic links out of the folder are not followed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

from governance.connectors.html import html_to_markdown, text_of
from governance.connectors.records import SourceError, SourceExport, SourceRecord

HTML_SUFFIXES = {".html", ".htm"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
BOILERPLATE = ["nav", "header", "footer", "aside", "form", "script", "style", "noscript", "template", "iframe"]
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_H1 = re.compile(r"\A\s*#[ \t]+(.+?)[ \t#]*\n")


def read_folder(folder: Path, *, locale: str = "de") -> SourceExport:
    if not folder.is_dir():
        raise SourceError(str(folder), "is not a folder")
    root = folder.resolve()
    export = SourceExport(kind="folder", name=root.name)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.suffix.lower() not in HTML_SUFFIXES | MARKDOWN_SUFFIXES or not path.is_file():
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        page_id = relative.as_posix()
        if not path.resolve().is_relative_to(root):
            export.records.append(SourceRecord(external_id=page_id, where=page_id, title="", body="", locale=locale,
                                               problem="a symbolic link to a file outside the folder; not followed"))
            continue
        export.records.append(_record(path, page_id, locale))
    if not export.records:
        raise SourceError(str(folder), "has no .html, .htm, .md or .markdown files")
    return export


def _record(path: Path, page_id: str, default_locale: str) -> SourceRecord:
    folders = [part for part in page_id.split("/")[:-1]]
    owner_keys = [("pages", page_id), *(("sections", "/".join(folders[:depth])) for depth in range(len(folders), 0, -1))]
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).isoformat(timespec="seconds")
    common = {"external_id": page_id, "where": page_id, "updated_at": modified, "metadata": {"source_path": page_id}}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return SourceRecord(**common, title="", body="", locale=default_locale, owner_keys=tuple(owner_keys),
                            problem="expected UTF-8 text")
    if path.suffix.lower() in HTML_SUFFIXES:
        return _html_record(text, common, default_locale, owner_keys)
    return _markdown_record(text, path, common, default_locale, owner_keys)


def _html_record(text: str, common: dict, default_locale: str, owner_keys: list) -> SourceRecord:
    soup = BeautifulSoup(text, "html.parser")
    html_tag = soup.find("html")
    lang = (html_tag.get("lang", "") if html_tag else "").strip().lower().split("-")[0]
    locale = lang if re.fullmatch(r"[a-z]{2,3}", lang) else default_locale
    author = soup.find("meta", attrs={"name": "author"})
    if author is not None and author.get("content", "").strip():
        owner_keys = [*owner_keys, ("authors", author["content"].strip())]
    title = " ".join((soup.title.get_text() if soup.title else "").split())
    root = soup.find("main") or soup.find("article") or soup.find(attrs={"role": "main"}) or soup.body or soup
    for element in root.find_all(BOILERPLATE):
        element.decompose()
    first_h1 = root.find("h1")
    if first_h1 is not None and (not title or text_of(str(first_h1)) == title or title.startswith(text_of(str(first_h1)))):
        title = text_of(str(first_h1))  # "Rücksendung | Alpenfunk Hilfe" -> the page's own heading
        first_h1.decompose()
    record = {**common, "locale": locale, "owner_keys": tuple(owner_keys)}
    if not title:
        return SourceRecord(**record, title="", body="", problem="no <title> and no <h1>", problem_key="title")
    converted = html_to_markdown(root.decode_contents() if hasattr(root, "decode_contents") else str(root))
    if not converted.markdown.strip():
        return SourceRecord(**record, title=title, body="", problem="the page has no text", problem_key="body")
    return SourceRecord(**record, title=title, body=converted.markdown, notes=converted.notes)


def _markdown_record(text: str, path: Path, common: dict, default_locale: str, owner_keys: list) -> SourceRecord:
    meta: dict = {}
    body = text
    if match := _FRONT_MATTER.match(text):
        try:
            loaded = yaml.load(match.group(1), Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only strings, lists and dicts
        except yaml.YAMLError as error:
            return SourceRecord(**common, title="", body="", locale=default_locale, owner_keys=tuple(owner_keys),
                                problem=f"the front matter is not valid YAML ({str(error).splitlines()[0]})",
                                problem_key="front matter")
        meta = loaded if isinstance(loaded, dict) else {}
        body = text[match.end():]
    title = str(meta.get("title") or "").strip()
    if not title and (heading := _H1.match(body)):
        title = heading.group(1).strip()
        body = body[heading.end():]
    title = title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    locale = str(meta.get("locale") or default_locale).strip().lower()
    tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
    record = {**common, "locale": locale, "owner_keys": tuple(owner_keys),
              "tags": tuple(str(tag).strip()[:60] for tag in tags if str(tag).strip())}
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z]{2,4})?", locale):
        return SourceRecord(**record, title=title, body="", problem=f"'{locale}' is not a language code such as de or en",
                            problem_key="locale")
    if not body.strip():
        return SourceRecord(**record, title=title, body="", problem="the page has no text", problem_key="body")
    return SourceRecord(**record, title=title, body=body.strip() + "\n")
