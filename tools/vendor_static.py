#!/usr/bin/env python3
"""Vendor the browser libraries Verity serves as its own static files (no CDN, no npm at install time).

    python3 tools/vendor_static.py      # or: make vendor

Fetches each pinned package with `npm pack` into a temporary folder, copies the listed files and the
licence into static/vendor/<name>/, and rewrites static/vendor/README.md with each file's version and
sha256. Only someone changing a version needs npm; a fresh clone serves the committed files.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"

# package, version, {file in the package: file under static/vendor/<folder>/}, folder, licence
PACKAGES = [
    ("easymde", "2.21.0", {
        "package/dist/easymde.min.js": "easymde.min.js",
        "package/dist/easymde.min.css": "easymde.min.css",
        "package/LICENSE": "LICENSE",
    }, "easymde", "MIT (bundles CodeMirror 5 and marked, both MIT)"),
    # only the icon font: static/verity/editor.css declares the font face and the few icons the toolbar uses
    ("font-awesome", "4.7.0", {
        "package/fonts/fontawesome-webfont.woff2": "fontawesome-webfont.woff2",
        "package/fonts/fontawesome-webfont.woff": "fontawesome-webfont.woff",
    }, "font-awesome", "font: SIL OFL 1.1"),
]

README_HEAD = """# Vendored browser libraries

Served by Verity itself (the Content-Security-Policy allows scripts, styles and fonts from 'self' only).
Written by `python3 tools/vendor_static.py` (`make vendor`), which needs npm; do not edit by hand.

| file | package | licence | sha256 |
|---|---|---|---|
"""

OFL_NOTE = """Font Awesome 4.7.0 by Dave Gandy, https://fontawesome.io (npm package font-awesome@4.7.0).
Only the web font files are vendored here. The font is licensed under the SIL Open Font License 1.1
(https://scripts.sil.org/OFL); the licence section of the package's README follows.

"""


def _pack(package: str, version: str, into: Path) -> Path:
    subprocess.run(["npm", "pack", f"{package}@{version}", "--pack-destination", str(into), "--silent"],
                   check=True, stdout=subprocess.DEVNULL)
    archive = next(into.glob(f"{package}-{version}.tgz"))
    target = into / package
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as temp:
        for package, version, files, folder, licence in PACKAGES:
            unpacked = _pack(package, version, Path(temp))
            destination = VENDOR / folder
            shutil.rmtree(destination, ignore_errors=True)
            destination.mkdir(parents=True)
            for source, name in files.items():
                shutil.copyfile(unpacked / source, destination / name)
            if package == "font-awesome":
                readme = (unpacked / "package/README.md").read_text()
                section = re.search(r"^## License\n.*?(?=^## )", readme, re.M | re.S)
                (destination / "LICENSE").write_text(OFL_NOTE + (section.group(0) if section else ""))
            for name in sorted(files.values()):
                digest = hashlib.sha256((destination / name).read_bytes()).hexdigest()
                rows.append(f"| {folder}/{name} | {package}@{version} | {licence} | `{digest}` |")
    (VENDOR / "README.md").write_text(README_HEAD + "\n".join(rows) + "\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
