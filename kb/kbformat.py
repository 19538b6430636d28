"""The knowledge-base folder format (shared/kb-format.md): parse and write one Markdown file.

Content blocks (kb.blocks) are files too, in a `blocks/` folder of the knowledge base, with the same
front matter as an article and `kind: block` (the default there; another kind there is an error):

    blocks/sim-ersatz-preis.md          ---
                                        slug: sim-ersatz-preis
                                        title: Preis Ersatz-SIM / neues eSIM-Profil
                                        locale: de
                                        kind: block
                                        audience: public
                                        owner: jonas.berger@example.com
                                        ---
                                        14,95 €

Articles use a block with `{{ block:sim-ersatz-preis }}` in their body, inline or on a line of its own;
the file keeps the reference, and Verity shows and indexes the block's live text in its place. A block
has no validity dates and uses no other block; a block may be `translation_of` another block. On import,
blocks are imported (and published) before the articles that use them; an article using a block that
is neither in the folder nor published, or a public article using an internal block, is an error
naming the file and the block. `kb_export` writes blocks back to `blocks/<slug>.md`.

Front matter is read with YAML's BaseLoader (every scalar a string), so that values such as
`locale: no` or `slug: 2026` are never silently turned into booleans or numbers; each key is then
validated here, and an error names the file, the key and what was expected.

A folder may also carry `glossary.yaml` (how product terms are written in each language; its format
is described above `parse_glossary_text` below), read and written by kb_import and kb_export.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from django.utils import translation

from kb.blocks import referenced_slugs
from kb.models import SLUG_PATTERN, Article, Space
from kb.rendering import markdown_problem

REQUIRED_KEYS = ("slug", "title", "locale")
KNOWN_KEYS = (
    "slug", "title", "locale", "kind", "space", "audience", "owner", "review_interval_days",
    "last_reviewed", "valid_from", "valid_until", "tags", "translation_of",
)
DEFAULT_SPACE = "allgemein"
DEFAULT_OWNER = "knowledge@verity.local"
BLOCKS_FOLDER = "blocks"  # files in a folder of this name are content blocks
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_REVIEW_INTERVAL_DAYS = 36500  # a century; far longer intervals overflow the review due date


class KbFormatError(ValueError):
    def __init__(self, path: Path | str, key: str | None, problem: str):
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: key '{key}'" if key else self.path
        super().__init__(f"{where}: {problem}")


@dataclass
class ArticleFile:
    path: str
    slug: str
    title: str
    locale: str
    body: str
    kind: str = Article.Kind.ARTICLE
    space: str = DEFAULT_SPACE
    audience: str = Article.Audience.INTERNAL
    owner: str = DEFAULT_OWNER
    review_interval_days: int | None = None
    last_reviewed: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    tags: list[str] = field(default_factory=list)
    translation_of: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _split(text: str, path: Path) -> tuple[str, str]:
    text = text.lstrip("\ufeff")
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)(.*)\Z", text, re.S)
    if not match:
        raise KbFormatError(path, None, "expected YAML front matter between '---' lines at the top of the file")
    return match.group(1), match.group(2)


def _text(path: Path, key: str, value: Any, *, pattern: str | None = None, expected: str = "") -> str:
    if not isinstance(value, str):
        raise KbFormatError(path, key, f"expected {expected or 'a text value'}, got {type(value).__name__}")
    value = value.strip()
    if pattern and not re.match(pattern, value):
        raise KbFormatError(path, key, f"expected {expected}, got '{value}'")
    return value


def _date(path: Path, key: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    text = _text(path, key, value, expected="a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise KbFormatError(path, key, f"expected a date YYYY-MM-DD, got '{text}'") from None


def _choice(path: Path, key: str, value: Any, choices: list[str], default: str) -> str:
    if value in (None, ""):
        return default
    text = _text(path, key, value)
    if text not in choices:
        raise KbFormatError(path, key, f"expected one of {' | '.join(choices)}, got '{text}'")
    return text


def _refuse_aliases(path: Path, text: str, where: str) -> None:
    """YAML anchors and aliases are refused before loading: BaseLoader expands them (an alias bomb took GBs)."""
    for event in yaml.parse(text, Loader=yaml.BaseLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            mark = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise KbFormatError(path, None, f"{where} uses a YAML anchor or alias ('{mark}{anchor}'); write each value out")


def _refuse_nul(path: Path, text: str) -> None:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise KbFormatError(path, None, f"the file contains a NUL character (line {line})")


FOLDER_SETTINGS_FILE = "kb.yaml"


def read_reference_date(folder: Path) -> dt.date | None:
    """The date a folder's dates were written for (`reference_date` in its kb.yaml), if it names one.

    Demo and evaluation folders name one so that, imported on a later day, every date in them is
    moved by the days since: an expired offer stays expired, an overdue review stays overdue.
    """
    path = Path(folder) / FOLDER_SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
        _refuse_nul(path, text)
        _refuse_aliases(path, text, FOLDER_SETTINGS_FILE)
        settings = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - str/list/dict only
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise KbFormatError(path, None, f"expected YAML text ({error.__class__.__name__})") from None
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise KbFormatError(path, None, "expected keys and values, e.g. 'reference_date: 2026-12-05'")
    unknown = sorted(set(settings) - {"reference_date"})
    if unknown:
        raise KbFormatError(path, unknown[0], "unknown key; expected only 'reference_date'")
    return _date(path, "reference_date", settings.get("reference_date"))


def days_since_reference(reference: dt.date | None, today: dt.date) -> int:
    return (today - reference).days if reference else 0


def shift_dates(article: ArticleFile, days: int) -> ArticleFile:
    """The article with its last_reviewed and validity dates moved by `days`."""
    if not days:
        return article

    def move(day: dt.date | None) -> dt.date | None:
        return day + dt.timedelta(days=days) if day else None

    return replace(article, last_reviewed=move(article.last_reviewed), valid_from=move(article.valid_from),
                   valid_until=move(article.valid_until))


def parse_article_file(path: Path) -> ArticleFile:
    """Read and validate one article file; raises KbFormatError naming the file and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise KbFormatError(path, None, "expected UTF-8 text") from None
    return parse_article_text(text, path)


def parse_article_text(text: str, path: Path | str) -> ArticleFile:
    """Validate the text of an article file; `path` only names it in errors and in the result."""
    path = Path(path)
    _refuse_nul(path, text)
    header, body = _split(text, path)
    try:
        _refuse_aliases(path, header, "front matter")
        meta = yaml.load(header, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only str/list/dict
    except yaml.YAMLError as error:
        raise KbFormatError(path, None, f"front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict):
        raise KbFormatError(path, None, "front matter must be a mapping of keys to values")
    for key in REQUIRED_KEYS:
        if meta.get(key) in (None, ""):
            raise KbFormatError(path, key, "required key is missing or empty")
    if not body.strip():
        raise KbFormatError(path, None, "the article body (after the front matter) is empty")
    with translation.override("en"):  # the format's errors are English, like kb-format.md, whoever imports
        problem = markdown_problem(body.strip() + "\n")
    if problem:
        raise KbFormatError(path, "body", problem)

    interval = meta.get("review_interval_days")
    if interval in (None, ""):
        review_interval_days = None
    else:
        text_interval = _text(path, "review_interval_days", interval, expected="a whole number of days")
        if not text_interval.isdigit() or not 1 <= int(text_interval) <= MAX_REVIEW_INTERVAL_DAYS:
            raise KbFormatError(
                path, "review_interval_days",
                f"expected a whole number of days from 1 to {MAX_REVIEW_INTERVAL_DAYS}, got '{text_interval}'",
            )
        review_interval_days = int(text_interval)

    tags_value = meta.get("tags")
    if tags_value in (None, ""):
        tags: list[str] = []
    elif isinstance(tags_value, list) and all(isinstance(tag, str) for tag in tags_value):
        tags = [tag.strip() for tag in tags_value if tag.strip()]
        tag_max = Article._meta.get_field("tags").base_field.max_length
        for tag in tags:
            if len(tag) > tag_max:
                raise KbFormatError(path, "tags", f"expected words of at most {tag_max} characters, got '{tag}'")
    else:
        raise KbFormatError(path, "tags", "expected a list of words, e.g. [tarif, vertrag]")

    translation_of = meta.get("translation_of")
    translation_of = (
        _text(path, "translation_of", translation_of, pattern=SLUG_PATTERN, expected="the slug of the source article")
        if translation_of not in (None, "") else None
    )

    in_blocks_folder = path.parent.name == BLOCKS_FOLDER
    kind = _choice(path, "kind", meta.get("kind"), list(Article.Kind.values),
                   Article.Kind.BLOCK if in_blocks_folder else Article.Kind.ARTICLE)
    if in_blocks_folder and kind != Article.Kind.BLOCK:
        raise KbFormatError(path, "kind", f"files in the '{BLOCKS_FOLDER}' folder are content blocks: expected 'block' "
                                          f"or no kind, got '{kind}'")
    if kind == Article.Kind.BLOCK:
        for key in ("valid_from", "valid_until"):
            if meta.get(key) not in (None, ""):
                raise KbFormatError(path, key, "a content block has no validity dates; leave the key out")
        if nested := referenced_slugs(body):
            raise KbFormatError(path, "body", f"a content block cannot use another content block ('{nested[0]}')")

    article = ArticleFile(
        path=str(path),
        slug=_text(path, "slug", meta["slug"], pattern=SLUG_PATTERN, expected="a slug of a-z, 0-9 and '-'"),
        title=_text(path, "title", meta["title"], expected="a title"),
        locale=_text(path, "locale", meta["locale"], pattern=LOCALE_PATTERN, expected="a language code such as de or en"),
        body=body.strip() + "\n",
        kind=kind,
        space=_text(path, "space", meta.get("space") or DEFAULT_SPACE, pattern=SLUG_PATTERN, expected="a space slug of a-z, 0-9 and '-'"),
        audience=_choice(path, "audience", meta.get("audience"), list(Article.Audience.values), Article.Audience.INTERNAL),
        owner=_text(path, "owner", meta.get("owner") or DEFAULT_OWNER, pattern=EMAIL_PATTERN, expected="an e-mail address"),
        review_interval_days=review_interval_days,
        last_reviewed=_date(path, "last_reviewed", meta.get("last_reviewed")),
        valid_from=_date(path, "valid_from", meta.get("valid_from")),
        valid_until=_date(path, "valid_until", meta.get("valid_until")),
        tags=tags,
        translation_of=translation_of,
        metadata={key: value for key, value in meta.items() if key not in KNOWN_KEYS},
    )
    for key, model, field_name in (
        ("slug", Article, "slug"), ("title", Article, "title"), ("space", Space, "slug"),
    ):
        max_length = model._meta.get_field(field_name).max_length
        if len(getattr(article, key)) > max_length:
            raise KbFormatError(path, key, f"expected at most {max_length} characters")
    if article.valid_from and article.valid_until and article.valid_until <= article.valid_from:
        raise KbFormatError(path, "valid_until", f"expected a date after valid_from ({article.valid_from}), got {article.valid_until}")
    if article.translation_of == article.slug:
        raise KbFormatError(path, "translation_of", "an article cannot be a translation of itself")
    return article


_PLAIN = re.compile(r"^[A-Za-z0-9ÄÖÜäöüß][\w .,/()äöüÄÖÜß@+-]*$")


def _scalar(value: Any, *, in_list: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, int)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item, in_list=True) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    plain = _PLAIN.match(text) and not text.endswith((":", " ")) and ": " not in text and " #" not in text
    if plain and not (in_list and "," in text):  # inside [...] a plain comma would split the item
        return text
    return json.dumps(text, ensure_ascii=False)


def render_article_file(article: ArticleFile) -> str:
    """The file text for an article; parse_article_file(render_article_file(a)) == a."""
    pairs: list[tuple[str, Any]] = [
        ("slug", article.slug), ("title", article.title), ("locale", article.locale),
        ("kind", article.kind), ("space", article.space), ("audience", article.audience),
        ("owner", article.owner), ("review_interval_days", article.review_interval_days),
        ("last_reviewed", article.last_reviewed), ("valid_from", article.valid_from),
        ("valid_until", article.valid_until), ("tags", article.tags),
        ("translation_of", article.translation_of),
    ]
    pairs += sorted(article.metadata.items())
    lines = ["---"]
    for key, value in pairs:
        rendered = _scalar(value)
        lines.append(f"{key}: {rendered}" if rendered else f"{key}:")
    lines.append("---")
    return "\n".join(lines) + "\n" + article.body.strip() + "\n"


# --- glossary.yaml ------------------------------------------------------------------------------
#
# A folder may carry `glossary.yaml` beside its articles: a list of entries, each for one pair of
# languages (kb.GlossaryEntry). `kb_import` creates or updates them (an entry is found by source,
# target and term; entries missing from the file are left alone), `kb_export` writes them all.
#
#   - source: de                      # required: the source language
#     target: en                      # required: the target language
#     term: Mein Konto                # required: as written in the source language
#     translation: My Account         # required unless do_not_translate
#     forbidden: [My Profile, Customer Account]   # optional: wrong ways to write it in the target language
#   - source: de
#     target: en
#     term: VerityBox
#     do_not_translate: true          # product names: the term stays as it is
#     note: the router's product name # optional
#
# The whole file is imported or none of it; an error names the file, the entry (1-based) and the key.

GLOSSARY_FILE = "glossary.yaml"
GLOSSARY_KEYS = ("source", "target", "term", "translation", "do_not_translate", "forbidden", "note")


@dataclass
class GlossaryFileEntry:
    source: str
    target: str
    term: str
    translation: str = ""
    do_not_translate: bool = False
    forbidden: list[str] = field(default_factory=list)
    note: str = ""


def parse_glossary_text(text: str, path: Path | str) -> list[GlossaryFileEntry]:
    _refuse_nul(Path(path), text)
    _refuse_aliases(Path(path), text, "the glossary")
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - str/list/dict only
    except yaml.YAMLError as error:
        raise KbFormatError(path, None, f"not valid YAML: {error}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise KbFormatError(path, None, "expected a list of entries (each '- source: de ...')")
    entries = []
    for number, item in enumerate(data, start=1):
        where = f"entry {number}"
        if not isinstance(item, dict):
            raise KbFormatError(path, None, f"{where}: expected keys such as source, target, term")
        unknown = sorted(set(item) - set(GLOSSARY_KEYS))
        if unknown:
            raise KbFormatError(path, unknown[0], f"{where}: unknown key; expected one of {', '.join(GLOSSARY_KEYS)}")
        values = {}
        for key in ("source", "target", "term"):
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                raise KbFormatError(path, key, f"{where}: required, expected text")
            values[key] = value.strip()
        for key in ("source", "target"):
            if not re.match(LOCALE_PATTERN, values[key]):
                raise KbFormatError(path, key, f"{where}: expected a language code such as de or en, got '{values[key]}'")
        flag = item.get("do_not_translate", "false")
        if not isinstance(flag, str) or flag.lower() not in {"true", "false", "yes", "no"}:
            raise KbFormatError(path, "do_not_translate", f"{where}: expected true or false")
        forbidden = item.get("forbidden", [])
        if isinstance(forbidden, str):
            forbidden = [forbidden]
        if not isinstance(forbidden, list) or not all(isinstance(variant, str) for variant in forbidden):
            raise KbFormatError(path, "forbidden", f"{where}: expected a list of texts")
        for key in ("translation", "note"):
            if not isinstance(item.get(key, ""), str):
                raise KbFormatError(path, key, f"{where}: expected text")
        entries.append(GlossaryFileEntry(
            source=values["source"], target=values["target"], term=values["term"],
            translation=item.get("translation", "").strip(), do_not_translate=flag.lower() in {"true", "yes"},
            forbidden=[variant.strip() for variant in forbidden if variant.strip()], note=item.get("note", "").strip(),
        ))
    return entries


def render_glossary_file(entries: list[GlossaryFileEntry]) -> str:
    """The file text; parse_glossary_text(render_glossary_file(e)) == e."""
    lines = ["# How product terms are written in each language (kb-format: glossary.yaml)"]
    for entry in entries:
        lines += [f"- source: {_scalar(entry.source)}", f"  target: {_scalar(entry.target)}",
                  f"  term: {_scalar(entry.term)}"]
        if entry.do_not_translate:
            lines.append("  do_not_translate: true")
        else:
            lines.append(f"  translation: {_scalar(entry.translation)}")
        if entry.forbidden:
            lines.append(f"  forbidden: {_scalar(entry.forbidden)}")
        if entry.note:
            lines.append(f"  note: {_scalar(entry.note)}")
    return "\n".join(lines) + "\n"
