"""What a connector reads from an export: pages as source records, already converted to Markdown.

A reader checks the export as a whole first: a file it cannot parse raises SourceError (naming the
file and, where it can, the record) before anything is written. A single broken record does not
stop the others: it carries its `problem`, and the sync records it as failed, naming file and record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class SourceError(ValueError):
    """An export that cannot be read at all: nothing of it is imported."""

    def __init__(self, path: str, problem: str, *, record: str | None = None):
        self.path = str(path)
        self.record = record
        self.problem = problem
        where = f"{self.path}: {record}" if record else self.path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class SourceRecord:
    """One page in one language, as the source states it."""

    external_id: str  # stable id in the source; a translation: "<id>/<locale>"
    where: str  # file and record, for people: "articles.json: article 360001234567 (de)"
    title: str
    body: str  # Markdown, converted from the source's HTML and sanitised
    locale: str
    updated_at: str = ""
    url: str = ""
    audience: str | None = None  # None: the command's --audience or the connector's default
    tags: tuple[str, ...] = ()
    translation_of: str | None = None  # external id of the page this one translates
    draft: bool = False  # a draft at the source is never published by a sync
    # (kind, key) pairs for the owner mapping, most specific first: ("pages", id), ("sections", name), ("authors", id)
    owner_keys: tuple[tuple[str, str], ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what was left out: attachments, images, macros
    problem: str | None = None  # why this record cannot be imported; None when it can
    problem_key: str | None = None  # the field the problem is about

    def as_payload(self) -> dict[str, Any]:
        """Plain JSON for a Celery task."""
        data = asdict(self)
        data["owner_keys"] = [list(pair) for pair in self.owner_keys]
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> SourceRecord:
        values = dict(data)
        values["tags"] = tuple(values.get("tags", ()))
        values["notes"] = tuple(values.get("notes", ()))
        values["owner_keys"] = tuple(tuple(pair) for pair in values.get("owner_keys", ()))
        return cls(**values)


@dataclass
class SourceExport:
    """Everything a reader found in one export."""

    kind: str  # a ConnectorSource.Kind value
    name: str  # the source's own name: help center host, Confluence space key, folder name
    records: list[SourceRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the export as a whole
    # records whose id could not be read: deletions are then not assessed (they might be among them)
    unidentified: int = 0
