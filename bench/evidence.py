"""Which reading rules of the evidence scorer still add: each switched off in turn (issue #13 item 6).

    python -m bench.evidence --kb demo/kb --questions demo/questions.jsonl
    python -m bench.evidence --kb eval/dev-versicherung/kb --questions eval/dev-versicherung/questions.jsonl

Per variant, over the questions with `must_contain`: how often the evidence passages (what the model
reads first, and the sentences of an extractive answer) hold the asked fact, how often the answer's
article is an expected one, how many passages are chosen, how often the scorer is confident on
answerable and on unanswerable questions, and on which questions the evidence changes at all. No
model is involved: the figures are the same on every run. The knowledge base is imported into the
bench database (`verity_bench_evidence`) first.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from bench.changes import setup

ROOT = Path(__file__).resolve().parent.parent


def _variants(evidence) -> dict[str, dict]:
    variants = {
        "all rules": {},
        "no limits of a quantity": {"_limits": lambda in_focus, asked: []},
        "no named section": {"_named_section": lambda *args: None},
        "no antecedents": {"_antecedents": lambda chosen, in_focus: []},
        "no informative follower": {"_informative_follower": lambda *args: None},
        "no pointer passages": {"referenced_articles": lambda text, titles: set(), "_referenced": lambda *args: []},
        "no kind of fact asked": {"KIND_BONUS": 0.0, "KIND_MALUS": 0.0, "SECTION_KIND_BONUS": 0.0},
    }
    variants["none of them"] = {key: value for patch in list(variants.values()) for key, value in patch.items()}
    return variants


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", default=str(ROOT / "demo" / "kb"))
    parser.add_argument("--questions", default=str(ROOT / "demo" / "questions.jsonl"))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(f"[evidence] importing {args.kb} ...", file=sys.stderr, flush=True)
    setup(Path(args.kb), database="verity_bench_evidence")
    from retrieval.answers import evidence
    from retrieval.index.corpus import snapshot
    from retrieval.index.embeddings import active_embedder
    from retrieval.search.fusion import fuse, semantic_weight
    from retrieval.search.hybrid import chunk_hits
    from retrieval.search.query import SearchQuery

    questions = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    prepared = []
    for question in questions:
        audiences = ("public",) if question.get("audience", "public") == "public" else ("public", "internal")
        query = SearchQuery(text=question["question"], audiences=audiences, locale=question["locale"], limit=20)
        with snapshot():
            keyword = chunk_hits(replace(query, mode="keyword"))
            semantic = chunk_hits(replace(query, mode="semantic"))
        prepared.append((question, audiences, keyword, semantic, fuse(keyword, semantic, semantic_weight(active_embedder()))))
    variants = _variants(evidence)
    original = {name: getattr(evidence, name) for patch in variants.values() for name in patch}
    baseline: dict[str, tuple] = {}
    print(f"# Evidence rules switched off in turn: {args.questions}\n")
    print("| variant | fact in the evidence | expected article | passages per question | confident: answerable "
          "| confident: unanswerable | evidence changed on |")
    print("|---|---|---|---|---|---|---|")
    for name, patch in variants.items():
        for key, value in original.items():
            setattr(evidence, key, value)
        for key, value in patch.items():
            setattr(evidence, key, value)
        holds = expected = passages = asked = confident_answerable = confident_unanswerable = unanswerable = 0
        changed: list[str] = []
        for question, audiences, keyword, semantic, hits in prepared:
            found = evidence.select_evidence(question["question"], hits, locale=question["locale"],
                                             agreement=evidence.retrievers_agree(keyword, semantic), audiences=audiences)
            signature = (tuple((p.chunk_id, p.position) for p in found.passages), found.confident)
            if name == "all rules":
                baseline[question["id"]] = signature
            elif signature != baseline[question["id"]]:
                changed.append(question["id"])
            if not question["answerable"]:
                unanswerable += 1
                confident_unanswerable += found.confident
                continue
            if not question.get("must_contain"):
                continue
            asked += 1
            text = " ".join(p.text for p in found.passages).lower()
            holds += any(wanted.lower() in text for wanted in question["must_contain"])
            expected += bool(found.passages) and found.passages[0].article.slug in question["expected_slugs"]
            passages += len(found.passages)
            confident_answerable += found.confident
        print(f"| {name} | {holds}/{asked} | {expected}/{asked} | {passages / max(asked, 1):.1f} | "
              f"{confident_answerable}/{asked} | {confident_unanswerable}/{unanswerable} | "
              f"{len(changed)} {' '.join(changed)} |", flush=True)
    for key, value in original.items():
        setattr(evidence, key, value)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
