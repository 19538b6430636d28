"""EmbeddingGemma compiled for OpenVINO: the search embedder's fast runtime on the CPU.

    python -m verity.core.embedder_ir            # convert once (about a minute); prints the folder
    python -m verity.core.embedder_ir --check    # exit 1 if the converted model is missing or stale

`dev.py install` (through `python -m verity.core.modelfiles`) runs this after the embedder's files
are installed and checked. The sentence-transformers folder (transformer, mean pooling, the two dense
layers, normalisation) is exported whole with `torch.export` and converted to OpenVINO's format,
weights stored as float16 (`.models/embeddinggemma-300m-openvino/`, about 0.6 GB). At run time
OpenVINO computes in bfloat16 on the CPU's AMX units where there are two threads, in float32 else
(`retrieval.index.embeddings.OpenVinoGemma`).

Why: a query's vector took 62 ms with torch on one core (bf16; most of it weight traffic and Python
dispatch of 24 layers), and 30 ms with OpenVINO on two threads; the vectors agree with torch's
float32 ones to a cosine of 1.0000 and with torch's bfloat16 ones to 0.998-1.002 (README "Search
latency"). The folder is written under a temporary name and renamed when complete; a stamp records
the source model's sha256 and the versions that converted it, so a changed model or runtime means
converting again, never loading a stale file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

IR_SUFFIX = "-openvino"
IR_FILE = "openvino_model.xml"
STAMP_FILE = "verity-stamp.json"
# the longest input the converted model accepts; passages are cut at 512 tokens before (GEMMA_MAX_TOKENS)
MAX_TOKENS = 2048


def import_openvino():
    """`import openvino`, with its usage reports to Intel turned off for this process.

    Importing openvino imports its model converter, which sends an "import" event to Intel's analytics
    (and keeps a client id and a counter in ~/intel) unless the `openvino_telemetry` package, a
    dependency it installs, cannot be imported: then it uses a stub that sends nothing. The package is
    made unimportable here, before openvino is first imported."""
    sys.modules.setdefault("openvino_telemetry", None)
    import openvino

    return openvino


def ir_folder(embedder_folder: Path) -> Path:
    return embedder_folder.with_name(embedder_folder.name + IR_SUFFIX)


def _source_digest(embedder_folder: Path) -> str:
    stamp = embedder_folder.with_name(embedder_folder.name + ".sha256")
    return stamp.read_text().strip() if stamp.is_file() else ""


def wanted_stamp(embedder_folder: Path) -> dict:
    """What the converted folder must have been made from: the model's sha256 and the runtime versions."""
    from importlib.metadata import PackageNotFoundError, version

    def installed_version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return ""

    return {
        "source_sha256": _source_digest(embedder_folder),
        "openvino": installed_version("openvino"),
        "torch": installed_version("torch"),
        "transformers": installed_version("transformers"),
        "sentence-transformers": installed_version("sentence-transformers"),
        "format": 4,
    }


def converted(embedder_folder: Path) -> bool:
    """True when the converted model is there and was made from this model by these versions."""
    folder = ir_folder(embedder_folder)
    stamp = folder / STAMP_FILE
    if not (folder / IR_FILE).is_file() or not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = wanted_stamp(embedder_folder)
    # torch and transformers only matter for converting: a newer torch does not make the file stale
    return {key: recorded.get(key) for key in ("source_sha256", "openvino", "format")} == {
        key: wanted[key] for key in ("source_sha256", "openvino", "format")
    } and bool(wanted["source_sha256"])


NAN_SAFE_SDPA = "verity_sdpa"


def _register_nan_safe_attention() -> None:
    """torch's scaled-dot-product attention, with rows that attend to nothing set to zero.

    In a batch, a padding token far from the text sees only padding inside a sliding-window layer's
    window (EmbeddingGemma: 257 tokens). OpenVINO's fused attention returns NaN for such a row
    (torch returns zeros), and the next layer's attention multiplies that NaN by a weight of 0 into
    every real token: a whole passage's vector became NaN. Eager attention avoids it too but made a
    query 26 % slower (32 against 25 ms)."""
    import torch
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    def attention(*args, **kwargs):
        output, weights = sdpa_attention_forward(*args, **kwargs)
        return torch.nan_to_num(output, nan=0.0), weights

    AttentionInterface.register(NAN_SAFE_SDPA, attention)
    AttentionMaskInterface.register(NAN_SAFE_SDPA, sdpa_mask)


def convert(embedder_folder: Path) -> Path:
    """Export the sentence-transformers model with torch.export and save it as OpenVINO IR (float16 weights)."""
    ov = import_openvino()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    target = ir_folder(embedder_folder)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        _register_nan_safe_attention()
        model = SentenceTransformer(str(embedder_folder), device="cpu", model_kwargs={"attn_implementation": NAN_SAFE_SDPA})
        model.eval()

        pooling = model[1]
        if type(pooling).__name__ != "Pooling" or getattr(pooling, "pooling_mode", None) != "mean":
            raise RuntimeError(f"{embedder_folder}: expected mean pooling after the transformer, found {pooling!r}")

        class Whole(torch.nn.Module):
            """The sentence-transformers pipeline with padding made explicit: the rows of padding tokens
            attend to nothing, which OpenVINO's attention returns as NaN (torch's as zeros), so they are
            zeroed before the mean instead of multiplied by 0."""

            def __init__(self, st) -> None:
                super().__init__()
                self.st = st

            def forward(self, input_ids, attention_mask):
                hidden = self.st[0].auto_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                keep = attention_mask.unsqueeze(-1).to(hidden.dtype)
                hidden = torch.where(keep > 0, hidden, torch.zeros_like(hidden))
                features = {"sentence_embedding": hidden.sum(1) / keep.sum(1).clamp(min=1e-9)}
                for module in list(self.st)[2:]:  # the dense layers and the normalisation
                    features = module(features)
                return features["sentence_embedding"]

        example = model.tokenizer(["task: search result | query: example", "title: none | text: a longer example passage"],
                                  padding=True, return_tensors="pt")
        batch = torch.export.Dim("batch", min=1, max=1024)
        tokens = torch.export.Dim("tokens", min=2, max=MAX_TOKENS)
        with torch.no_grad():
            program = torch.export.export(
                Whole(model).eval(), (example["input_ids"], example["attention_mask"]),
                dynamic_shapes=({0: batch, 1: tokens}, {0: batch, 1: tokens}), strict=False,
            )
            converted_model = ov.convert_model(program)
        ov.save_model(converted_model, str(partial / IR_FILE), compress_to_fp16=True)
        (partial / STAMP_FILE).write_text(json.dumps(wanted_stamp(embedder_folder), indent=1) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def ensure_converted(embedder_folder: Path) -> Path:
    if not converted(embedder_folder):
        print(f"Converting the search embedder for OpenVINO (once, about a minute): {ir_folder(embedder_folder)}",
              flush=True)
        convert(embedder_folder)
    return ir_folder(embedder_folder)


def main(argv: list[str] | None = None) -> int:
    from verity.core.modelfiles import default_embedder_path, embedder_installed

    parser = argparse.ArgumentParser(prog="python -m verity.core.embedder_ir", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the converted model is there and current")
    parser.add_argument("--quiet", action="store_true", help="print nothing when the converted model is current")
    args = parser.parse_args(argv)
    folder = default_embedder_path()
    if not embedder_installed():
        print(f"error: the embedder is not installed in {folder} (python -m verity.core.modelfiles installs it)",
              file=sys.stderr)
        return 1
    if args.check:
        ok = converted(folder)
        print(f"{ir_folder(folder)}: {'converted' if ok else 'not converted or stale'}")
        return 0 if ok else 1
    path = ensure_converted(folder)
    if not args.quiet:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
