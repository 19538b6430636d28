"""Who owns what a connector brings in: a mapping file, else the command's --owner, else the space's default.

    # owners.yaml: every key optional; e-mail addresses of the accountable owners
    default: lena.vogt@alpenfunk.example          # pages that nothing below names
    pages:                                        # a page: Zendesk article id, Confluence page id, file path
      "360004455667": jonas.berger@alpenfunk.example
    sections:                                     # Zendesk section name or id, Confluence ancestor page title,
      Rechnung & Zahlung: mira.koch@alpenfunk.example   # a sub-folder of the folder
    authors:                                      # Zendesk author_id, Confluence creator, HTML <meta name=author>
      "9012345": sven.huber@alpenfunk.example

The most specific entry wins: the page, then its nearest section (or ancestor, or folder), then its
author, then `default`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from governance.connectors.records import SourceError, SourceRecord

KINDS = ("pages", "sections", "authors")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class OwnerMap:
    default: str | None = None
    entries: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> casefolded key -> e-mail

    def owner_for(self, record: SourceRecord) -> str | None:
        for kind, key in record.owner_keys:
            if email := self.entries.get(kind, {}).get(key.strip().casefold()):
                return email
        return self.default


def read_owner_map(path: Path) -> OwnerMap:
    """Read and check an owner mapping file; an error names the file and the key."""
    name = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506 - strings only
    except OSError as error:
        raise SourceError(name, f"cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise SourceError(name, "expected UTF-8 text") from None
    except yaml.YAMLError as error:
        raise SourceError(name, f"not valid YAML ({str(error).splitlines()[0]})") from None
    if data in (None, ""):
        return OwnerMap()
    if not isinstance(data, dict):
        raise SourceError(name, "expected keys default, pages, sections and authors")
    unknown = sorted(set(data) - {"default", *KINDS})
    if unknown:
        raise SourceError(name, f"unknown key(s) {', '.join(unknown)}: expected default, pages, sections, authors")
    default = data.get("default") or None
    if default is not None:
        _check_email(name, "default", default)
    entries: dict[str, dict[str, str]] = {}
    for kind in KINDS:
        section = data.get(kind) or {}
        if not isinstance(section, dict):
            raise SourceError(name, f"'{kind}' must map ids or names to e-mail addresses")
        for key, email in section.items():
            _check_email(name, f"{kind}: {key}", email)
            entries.setdefault(kind, {})[str(key).strip().casefold()] = email.strip()
    return OwnerMap(default=default.strip() if default else None, entries=entries)


def _check_email(name: str, key: str, value: object) -> None:
    if not isinstance(value, str) or not EMAIL_PATTERN.match(value.strip()):
        raise SourceError(name, f"'{key}': expected an e-mail address, got {value!r}")
