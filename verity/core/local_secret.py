"""The secret key of a single-machine installation: generated once, kept in the data dir.

A deployment sets `DJANGO_SECRET_KEY` (every web process of it needs the same key). An installation
that keeps its database in its own data dir (the embedded PostgreSQL) has one place all its
processes share, so it generates a random key there on first use instead of falling back to a key
written in the source, which anyone could read.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE = "secret_key"
MIN_LENGTH = 50  # Django's check --deploy (security.W009) wants at least 50 characters


class LocalSecretError(ImproperlyConfigured):
    """The key file exists but cannot be used; the message names it (manage.py prints it without a traceback)."""


def key_path(root: Path) -> Path:
    return root / KEY_FILE


def local_secret_key(root: Path) -> str:
    """The installation's key from `root/secret_key`, generated (mode 0600) and announced on first use."""
    path = key_path(root)
    key = _read(path)
    if key is not None:
        return key
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".secret_key.")  # created with mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")  # 64 characters
        try:
            os.link(tmp, path)  # atomic and never overwrites: a concurrent first start keeps the winner's key
        except FileExistsError:
            pass
        else:
            print(f"Verity: DJANGO_SECRET_KEY is not set; generated this installation's secret key in {path} "
                  "(kept there; set DJANGO_SECRET_KEY for a deployment).", file=sys.stderr, flush=True)
    finally:
        os.unlink(tmp)
    key = _read(path)
    if key is None:
        raise LocalSecretError(f"{path} could not be created.")
    return key


def _read(path: Path) -> str | None:
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        return None
    if len(key) < MIN_LENGTH:
        raise LocalSecretError(f"{path} holds no usable secret key (fewer than {MIN_LENGTH} characters): "
                               "delete it to generate a new one (signed-in users are then signed out).")
    return key
