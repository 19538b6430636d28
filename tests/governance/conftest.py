"""Fixtures for the connector tests: the fixture exports, copied so a test may change them, and the command."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

CONNECTOR_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connectors"
OWNERS = CONNECTOR_FIXTURES / "owners.yaml"


@dataclass
class Outcome:
    out: str
    err: str
    error: str | None  # the CommandError's message, None when the command succeeded


@pytest.fixture
def export_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A fresh copy of a fixture export (zendesk, confluence, website) that the test may change."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(CONNECTOR_FIXTURES / name, target)
        return target

    return copy


@pytest.fixture
def connect(db) -> Callable[..., Outcome]:
    """Run `kb_connect` in this process and return what it printed (and its error)."""

    def run(source: str, path: Path, *args: str) -> Outcome:
        out, err = StringIO(), StringIO()
        try:
            call_command("kb_connect", source, str(path), *args, "--inline", stdout=out, stderr=err)
        except CommandError as error:
            return Outcome(out.getvalue(), err.getvalue(), str(error))
        return Outcome(out.getvalue(), err.getvalue(), None)

    return run
