"""Confluence: a space export in storage format (Space tools > Export > XML), zipped or unpacked.

    exportDescriptor.properties   exportType=space, spaceKey=KS, backupAttachments=true, ...
    entities.xml                  <hibernate-generic>: one <object class="..."> per Hibernate entity:
                                  Space, Page (title, parent, position, contentStatus, lastModificationDate,
                                  creator, bodyContents, historicalVersions / originalVersionId), BodyContent
                                  (body in storage format, bodyType 2), Attachment (containerContent),
                                  Labelling / Label, ConfluenceUserImpl
    attachments/<page id>/<attachment id>/<version>

This is the export that keeps the storage format and the page tree; the HTML export has neither
page ids nor modification dates, so a re-run could not match pages. Current pages of the exported
space are imported (historical versions, drafts, trashed pages and blog posts are not); the tree
is kept as each page's path of ancestors (metadata `confluence_path`, and the owner mapping matches
ancestors). Attachments are not imported: each page notes which it had. Macros become their
nearest Markdown (info/note/warning/tip panels as quotes, code as fenced code, expand as its
body); others are left out with a note.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bs4 import BeautifulSoup, Tag
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from governance.connectors.html import html_to_markdown
from governance.connectors.records import SourceError, SourceExport, SourceRecord

ENTITIES = "entities.xml"
DESCRIPTOR = "exportDescriptor.properties"
XHTML_BODY_TYPE = "2"  # BodyContent.bodyType: 0 wiki markup (Confluence 3), 2 storage format (XHTML)
PANEL_LABELS = {"info": "Info", "note": "Hinweis", "warning": "Achtung", "tip": "Tipp"}


@dataclass
class _Object:
    cls: str
    id: str
    properties: dict[str, str] = field(default_factory=dict)  # scalar values, and referenced ids
    collections: dict[str, list[str]] = field(default_factory=dict)


def read_confluence(path: Path, *, locale: str = "de") -> SourceExport:
    """Read a space export (the .zip Confluence writes, or the folder it unpacks to); its pages are in `locale`."""
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if ENTITIES not in names:
                raise SourceError(path.name, f"has no {ENTITIES} (expected a Confluence space export in XML)")
            descriptor = archive.read(DESCRIPTOR).decode("utf-8", "replace") if DESCRIPTOR in names else ""
            with archive.open(ENTITIES) as stream:
                objects = _parse(stream)
            attachment_files = {name for name in names if name.startswith("attachments/")}
    elif path.is_dir():
        if not (path / ENTITIES).is_file():
            raise SourceError(str(path), f"has no {ENTITIES} (expected a Confluence space export in XML)")
        descriptor = (path / DESCRIPTOR).read_text(encoding="utf-8", errors="replace") if (path / DESCRIPTOR).is_file() else ""
        with (path / ENTITIES).open("rb") as stream:
            objects = _parse(stream)
        attachment_files = {str(p.relative_to(path)) for p in (path / "attachments").rglob("*") if p.is_file()} \
            if (path / "attachments").is_dir() else set()
    else:
        raise SourceError(str(path), "is neither a Confluence export .zip nor a folder with entities.xml")
    return _export(objects, _properties(descriptor), attachment_files, locale)


def _parse(stream: IO[bytes]) -> dict[str, dict[str, _Object]]:
    """entities.xml as {class: {id: object}}, streamed (an export can be large); no entity expansion."""
    objects: dict[str, dict[str, _Object]] = {}
    try:
        for _event, element in ElementTree.iterparse(stream, events=("end",), forbid_dtd=True):
            if element.tag != "object":
                continue
            obj = _Object(cls=element.get("class", ""), id="")
            for child in element:
                name = child.get("name", "")
                if child.tag == "id":
                    obj.id = (child.text or "").strip()
                elif child.tag == "property":
                    reference = child.find("id")
                    value = reference.text if reference is not None else child.text
                    obj.properties[name] = (value or "").strip() if reference is not None else (value or "")
                elif child.tag == "collection":
                    obj.collections[name] = [(ref.findtext("id") or "").strip() for ref in child.findall("element")]
            objects.setdefault(obj.cls, {})[obj.id] = obj
            element.clear()
    except DefusedXmlException as error:
        raise SourceError(ENTITIES, f"refused: {error}") from None
    except ElementTree.ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise SourceError(ENTITIES, f"not well-formed XML (line {line}, column {column})") from None
    return objects


def _properties(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _export(
    objects: dict[str, dict[str, _Object]], descriptor: dict[str, str], attachment_files: set[str], locale: str,
) -> SourceExport:
    spaces = objects.get("Space", {})
    wanted_key = descriptor.get("spaceKey", "")
    if descriptor.get("exportType", "space") != "space":
        raise SourceError(DESCRIPTOR, f"exportType is '{descriptor['exportType']}': export one space (Space tools > Export)")
    candidates = [space for space in spaces.values() if not wanted_key or space.properties.get("key") == wanted_key]
    if len(candidates) != 1:
        found = ", ".join(sorted(space.properties.get("key", "?") for space in spaces.values())) or "none"
        raise SourceError(ENTITIES, f"expected exactly one space{f' with the key {wanted_key}' if wanted_key else ''}; found: {found}")
    space = candidates[0]
    space_key = space.properties.get("key", "")
    export = SourceExport(kind="confluence", name=space_key)

    pages_all = objects.get("Page", {})
    historical = {ref for page in pages_all.values() for ref in page.collections.get("historicalVersions", [])}
    pages = {
        page.id: page for page in pages_all.values()
        if page.properties.get("contentStatus", "current").strip().lower() == "current"
        and page.properties.get("originalVersionId", "").strip() in ("", "0")
        and not page.properties.get("originalVersion")
        and page.id not in historical
        and page.properties.get("space", space.id) == space.id
    }
    bodies = objects.get("BodyContent", {})
    body_of = {body.properties.get("content", ""): body for body in bodies.values() if body.properties.get("content")}
    users = {user.id: (user.properties.get("name", ""), user.properties.get("email", ""))
             for user in objects.get("ConfluenceUserImpl", {}).values()}
    labels = {label.id: label.properties.get("name", "") for label in objects.get("Label", {}).values()}
    labels_of: dict[str, list[str]] = {}
    for labelling in objects.get("Labelling", {}).values():
        content_id, name = labelling.properties.get("content", ""), labels.get(labelling.properties.get("label", ""), "")
        if content_id and name:
            labels_of.setdefault(content_id, []).append(name)
    attachments_of: dict[str, list[str]] = {}
    for attachment in objects.get("Attachment", {}).values():
        if attachment.properties.get("originalVersionId", "").strip() not in ("", "0") or attachment.properties.get("originalVersion"):
            continue
        container = attachment.properties.get("containerContent") or attachment.properties.get("content", "")
        name = attachment.properties.get("title") or attachment.properties.get("fileName") or f"#{attachment.id}"
        attachments_of.setdefault(container, []).append(name)
    if objects.get("BlogPost"):
        export.notes.append(f"{len(objects['BlogPost'])} blog post(s) not imported: only pages are")
    skipped_files = len(attachment_files)
    if skipped_files:
        export.notes.append(f"{skipped_files} attachment file(s) not imported (attachments/): each page notes its own")

    def ancestors(page: _Object) -> list[_Object]:
        chain, seen = [], {page.id}
        parent_id = page.properties.get("parent", "")
        while parent_id and parent_id in pages and parent_id not in seen:
            seen.add(parent_id)
            chain.append(pages[parent_id])
            parent_id = pages[parent_id].properties.get("parent", "")
        return chain  # nearest first

    def order(page: _Object) -> tuple:
        path = [*reversed(ancestors(page)), page]
        return tuple((_int(p.properties.get("position")), p.properties.get("title", ""), p.id) for p in path)

    for page in sorted(pages.values(), key=order):
        export.records.append(_record(page, ancestors(page), space_key, locale, body_of, bodies, users, labels_of, attachments_of))
    return export


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 1 << 30


def _record(
    page: _Object, ancestors: list[_Object], space_key: str, locale: str, body_of: dict[str, _Object], bodies: dict[str, _Object],
    users: dict[str, tuple[str, str]], labels_of: dict[str, list[str]], attachments_of: dict[str, list[str]],
) -> SourceRecord:
    title = " ".join(page.properties.get("title", "").split())
    path = [" ".join(a.properties.get("title", "").split()) for a in reversed(ancestors)]
    creator = page.properties.get("creator", "")
    creator_name, creator_email = users.get(creator, ("", ""))
    creator_name = creator_name or page.properties.get("creatorName", "")
    owner_keys = [("pages", page.id), *(("sections", name) for name in reversed(path) if name)]
    owner_keys += [("authors", value) for value in dict.fromkeys((creator_email, creator_name, creator)) if value]
    attachments = sorted(attachments_of.get(page.id, []))
    notes = [f"{len(attachments)} attachment(s) not imported: {', '.join(attachments)}"] if attachments else []
    common = {
        "external_id": page.id, "where": f"{ENTITIES}: page {page.id}" + (f" '{title}'" if title else ""),
        "locale": locale, "updated_at": page.properties.get("lastModificationDate", ""),
        "tags": tuple(sorted(label[:60] for label in labels_of.get(page.id, []))),
        "owner_keys": tuple(owner_keys),
        "metadata": {"confluence_page_id": int(page.id) if page.id.isdigit() else page.id, "confluence_space": space_key,
                     "confluence_path": " / ".join([*path, title])},
    }
    if not title:
        return SourceRecord(**common, title="", body="", notes=tuple(notes), problem="the page has no title", problem_key="title")
    body_ids = page.collections.get("bodyContents", [])
    body = bodies.get(body_ids[0]) if body_ids else body_of.get(page.id)
    if body is None:
        return SourceRecord(**common, title=title, body="", notes=tuple(notes), problem="the page has no BodyContent",
                            problem_key="bodyContents")
    if body.properties.get("bodyType", XHTML_BODY_TYPE) != XHTML_BODY_TYPE:
        return SourceRecord(**common, title=title, body="", notes=tuple(notes),
                            problem=f"BodyContent {body.id} is not in storage format (bodyType {body.properties['bodyType']})",
                            problem_key="bodyType")
    html, macro_notes = storage_to_html(body.properties.get("body", ""), users={key: name for key, (name, _) in users.items()})
    converted = html_to_markdown(html)
    notes += macro_notes + list(converted.notes)
    if not converted.markdown.strip():
        return SourceRecord(**common, title=title, body="", notes=tuple(notes), problem="the page has no text",
                            problem_key="body")
    return SourceRecord(**common, title=title, body=converted.markdown, notes=tuple(notes))


def storage_to_html(storage: str, *, users: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Confluence storage format (XHTML with ac:/ri: elements) as plain HTML, and notes on what was left out;
    `users` names the user keys that mentions refer to."""
    soup = BeautifulSoup(storage, "html.parser")
    notes: list[str] = []
    for macro in soup.find_all("ac:structured-macro")[::-1]:  # innermost first
        _macro(soup, macro, notes)
    for image in soup.find_all("ac:image"):
        url = image.find("ri:url")
        if url is not None and url.get("ri:value"):
            image.replace_with(soup.new_tag("img", src=url["ri:value"], alt=image.get("ac:alt", "")))
        else:
            attachment = image.find("ri:attachment")
            name = attachment.get("ri:filename", "") if attachment is not None else ""
            notes.append(f"image '{name or 'ohne Namen'}' not imported (an attachment)")
            image.decompose()
    for link in soup.find_all("ac:link"):
        body = link.find(["ac:link-body", "ac:plain-text-link-body"])
        target = link.find(["ri:page", "ri:attachment", "ri:space", "ri:user"])
        text = body.get_text() if body is not None else ""
        if not text and target is not None:
            text = (target.get("ri:content-title") or target.get("ri:filename") or target.get("ri:space-key")
                    or (users or {}).get(target.get("ri:userkey", ""), "") or target.get("ri:username", ""))
        link.replace_with(text)
    for task_list in soup.find_all("ac:task-list"):
        task_list.name = "ul"
        for task in task_list.find_all("ac:task"):
            status = task.find("ac:task-status")
            done = status is not None and status.get_text().strip() == "complete"
            for part in task.find_all(["ac:task-id", "ac:task-status", "ac:task-uuid"]):
                part.decompose()
            task.name = "li"
            task.insert(0, "[x] " if done else "[ ] ")
    for emoticon in soup.find_all("ac:emoticon"):
        emoticon.decompose()
    for placeholder in soup.find_all("ac:placeholder"):
        placeholder.decompose()
    for element in soup.find_all(lambda tag: ":" in tag.name):
        element.unwrap()  # layouts, rich-text bodies and anything else: keep the content
    return str(soup), notes


def _macro(soup: BeautifulSoup, macro: Tag, notes: list[str]) -> None:
    name = macro.get("ac:name", "")
    rich = macro.find("ac:rich-text-body", recursive=False)
    plain = macro.find("ac:plain-text-body", recursive=False)
    if name in PANEL_LABELS:
        quote = soup.new_tag("blockquote")
        title = macro.find("ac:parameter", attrs={"ac:name": "title"}, recursive=False)
        label = soup.new_tag("strong")
        label.string = f"{PANEL_LABELS[name]}: {title.get_text().strip()}" if title is not None else f"{PANEL_LABELS[name]}:"
        lead = soup.new_tag("p")
        lead.append(label)
        quote.append(lead)
        if rich is not None:
            quote.extend(list(rich.contents))
        macro.replace_with(quote)
    elif name in {"code", "noformat"}:
        pre = soup.new_tag("pre")
        code = soup.new_tag("code")
        code.string = plain.get_text() if plain is not None else ""
        pre.append(code)
        macro.replace_with(pre)
    elif name in {"expand", "panel", "section", "column", "details"} and rich is not None:
        wrapper = soup.new_tag("div")
        title = macro.find("ac:parameter", attrs={"ac:name": "title"}, recursive=False)
        if title is not None and title.get_text().strip():
            heading = soup.new_tag("p")
            strong = soup.new_tag("strong")
            strong.string = title.get_text().strip()
            heading.append(strong)
            wrapper.append(heading)
        wrapper.extend(list(rich.contents))
        macro.replace_with(wrapper)
    else:
        if name not in {"toc", "children", "pagetree", "recently-updated", "anchor"}:
            notes.append(f"macro '{name}' not imported")
        macro.decompose()
