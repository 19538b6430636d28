"""Answer speed with the language model: time to the first verified sentence, whole answer, tokens/s.

    python -m bench.answers                          # demo/kb, the answerable questions of demo/questions.jsonl
    python -m bench.answers --limit 10 --threads 1   # fewer questions; the model server's thread count

Each question is answered once with streaming (the time to the first verified sentence is what a
desktop user waits for) through the embedded model server of a fresh bench database. The server's
own timings give prompt and generated tokens per second. Targets (2 cores, quiet machine): first
words <= 2 s, complete answer p95 <= 8 s. Run it on a quiet machine: other work on the two cores
slows generation several times.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from bench.changes import setup
from bench.retrieval import percentile

ROOT = Path(__file__).resolve().parent.parent
TIMING = re.compile(r"(prompt eval|       eval) time = +([\d.]+) ms / +(\d+) tokens")


def _server_timings(log: Path, start: int) -> tuple[float, int, float, int]:
    """Sums of (prompt ms, prompt tokens, generation ms, generated tokens) logged after byte `start`."""
    prompt_ms = generated_ms = 0.0
    prompt_tokens = generated_tokens = 0
    with open(log, encoding="utf-8", errors="replace") as handle:
        handle.seek(start)
        for line in handle:
            match = TIMING.search(line)
            if not match:
                continue
            if match.group(1) == "prompt eval":
                prompt_ms += float(match.group(2))
                prompt_tokens += int(match.group(3))
            else:
                generated_ms += float(match.group(2))
                generated_tokens += int(match.group(3))
    return prompt_ms, prompt_tokens, generated_ms, generated_tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", default=str(ROOT / "demo" / "kb"))
    parser.add_argument("--questions", default=str(ROOT / "demo" / "questions.jsonl"))
    parser.add_argument("--limit", type=int, default=20, help="answerable questions to time (default 20)")
    parser.add_argument("--threads", type=int, default=None, help="model server threads (default: VERITY_LLM_THREADS)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(f"[answers] importing {args.kb} ...", file=sys.stderr, flush=True)
    setup(Path(args.kb), database="verity_bench_answers")
    from retrieval.answers.pipeline import answer_question
    from retrieval.llm.client import ModelEndpoint, model_path
    from verity.core.embedded import data_dir
    from verity.core.llm_server import ensure_llm_server, stop_llm_server

    path = model_path()
    if path is None:
        print("no model installed (python3 dev.py install): nothing to measure")
        return 1
    if args.threads:
        stop_llm_server()
    server = ensure_llm_server(path, threads=args.threads)
    endpoint = ModelEndpoint(server.url, server.api_key, server.model, embedded=True)
    log = data_dir() / "llm.log"
    questions = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [q for q in questions if q["answerable"]][: args.limit]
    answer_question(question="Aufwärmen", audience="public", locale="de", endpoint=endpoint, store=False)
    firsts, totals, statuses = [], [], []
    start = log.stat().st_size
    for question in questions:
        began = time.perf_counter()
        first: list[float] = []
        result = answer_question(
            question=question["question"], audience=question["audience"], locale=question.get("locale"),
            endpoint=endpoint, store=False,
            on_sentence=lambda _text, first=first, began=began: first or first.append(time.perf_counter() - began),
        )
        totals.append(time.perf_counter() - began)
        if first:
            firsts.append(first[0])
        statuses.append(result.status)
        print(f"  {question['id']}: {result.status:<8} first {first[0] if first else float('nan'):5.1f} s, "
              f"all {totals[-1]:5.1f} s  [{result.generator}]", file=sys.stderr, flush=True)
    prompt_ms, prompt_tokens, generated_ms, generated_tokens = _server_timings(log, start)
    print(f"# Answers with {server.model} ({json.loads((data_dir() / 'llm' / 'server.json').read_text())['threads']} "
          f"threads), {len(questions)} answerable demo questions\n")
    print("| figure | value | target |\n|---|---|---|")
    print(f"| first verified sentence p50 / p95 | {percentile(firsts, 50):.1f} s / {percentile(firsts, 95):.1f} s "
          f"({len(firsts)} streamed) | p95 <= 2 s |")
    print(f"| complete answer p50 / p95 | {percentile(totals, 50):.1f} s / {percentile(totals, 95):.1f} s | p95 <= 8 s |")
    print(f"| prompt tokens/s | {1000 * prompt_tokens / prompt_ms:.1f} ({prompt_tokens} tokens) | |" if prompt_ms else
          "| prompt tokens/s | n/a | |")
    print(f"| generated tokens/s | {1000 * generated_tokens / generated_ms:.1f} ({generated_tokens} tokens) | |"
          if generated_ms else "| generated tokens/s | n/a | |")
    print(f"| answered / refused | {statuses.count('answered')} / {statuses.count('refused')} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
