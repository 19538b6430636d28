"""Desktop latency on the demo knowledge base: the results fragment agents see as they type, and
the answer draft. Prints p50/p95 over the demo questions (target: first results p95 <= 300 ms).

    python -m bench.desktop [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.changes import setup
from bench.retrieval import percentile

ROOT = Path(__file__).resolve().parent.parent
# the request header with which the desktop's script asks for a page fragment (as a browser client would)
FRAGMENT_HEADER = "HTTP_X_VERITY_FRAGMENT"


def _timed(call) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"desktop answered {response.status_code}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.desktop", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    setup(ROOT / "demo" / "kb", database="verity_bench_desktop")
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the in-process client (no network in the figure)
    agent = get_user_model().objects.create(username="bench-agent")
    agent.groups.add(Group.objects.get(name="agents"))
    client = Client()
    client.force_login(agent)
    questions = [json.loads(line)["question"] for line in (ROOT / "demo" / "questions.jsonl").read_text().splitlines() if line]
    fragment = {FRAGMENT_HEADER: "1"}
    client.get("/desktop/search/", {"q": "Tarif"}, **fragment)  # warm: the query encoder loads once per process
    asked = [questions[i % len(questions)] for i in range(args.requests)]
    results = [_timed(lambda q=q: client.get("/desktop/search/", {"q": q}, **fragment)) for q in asked]
    answers = [_timed(lambda q=q: client.post("/desktop/answer/", {"q": q}, **fragment)) for q in questions]
    print("\n## Agent desktop (demo knowledge base, in-process client, warm)\n")
    print("| request | count | p50 ms | p95 ms | target |")
    print("|---|---|---|---|---|")
    print(f"| results as you type | {len(results)} | {percentile(results, 50):.1f} | {percentile(results, 95):.1f} | p95 <= 300 ms |")
    print(f"| answer draft | {len(answers)} | {percentile(answers, 50):.1f} | {percentile(answers, 95):.1f} | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
