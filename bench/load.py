"""A bounded load run against a running Verity (README "Load"): N client threads for a fixed time, each on
its own keep-alive connection, mixing searches (the demo's questions), /healthz and a few answers.

    python -m bench.load --url http://127.0.0.1:8000 --key KEY --clients 4 16 --seconds 60

Only for a server on this machine (127.0.0.0/8 or ::1): it refuses any other address. Prints, per client
count, requests/s, p50/p95/p99 latency per kind, and the errors (status >= 500, 429, connection errors).
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import random
import socket
import statistics
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent.parent / "demo" / "questions.jsonl"
MIX = (("search", 0.80), ("healthz", 0.15), ("answer", 0.05))


def _local_only(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    address = ipaddress.ip_address(socket.gethostbyname(parts.hostname or ""))
    if not address.is_loopback:
        raise SystemExit(f"{url}: not a loopback address; this load run only targets a server on this machine.")
    return parts


def _questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]


def _pick(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for kind, share in MIX:
        total += share
        if roll < total:
            return kind
    return MIX[0][0]


def _client(parts, key: str, questions: list[dict], deadline: float, seed: int, results: list, lock: threading.Lock):
    rng = random.Random(seed)
    connection = None
    mine: list[tuple[str, float, int | str]] = []
    while time.monotonic() < deadline:
        kind = _pick(rng)
        question = rng.choice(questions)
        headers = {"Authorization": f"Bearer {key}"}
        if kind == "search":
            method, body = "GET", None
            path = "/api/v1/search?" + urllib.parse.urlencode({"q": question["question"], "locale": question["locale"], "limit": 10})
        elif kind == "healthz":
            method, path, body, headers = "GET", "/healthz", None, {}
        else:
            method, path = "POST", "/api/v1/answer"
            body = json.dumps({"question": question["question"], "locale": question["locale"]})
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=120)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            outcome: int | str = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            outcome = type(error).__name__
            if connection is not None:
                connection.close()
            connection = None
        mine.append((kind, time.monotonic() - started, outcome))
    if connection is not None:
        connection.close()
    with lock:
        results.extend(mine)


def _percentile(values: list[float], share: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def run(url: str, key: str, clients: int, seconds: float) -> dict:
    parts = _local_only(url)
    questions = _questions()
    results: list[tuple[str, float, int | str]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(parts, key, questions, deadline, n, results, lock))
               for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    by_kind: dict[str, list[float]] = defaultdict(list)
    outcomes: Counter = Counter()
    for kind, seconds_taken, outcome in results:
        by_kind[kind].append(seconds_taken * 1000)
        outcomes[outcome] += 1
    errors = {str(k): v for k, v in outcomes.items() if not isinstance(k, int) or k >= 500 or k == 429}
    all_ms = [ms for values in by_kind.values() for ms in values]
    return {
        "clients": clients, "seconds": round(elapsed, 1), "requests": len(results),
        "requests_per_s": round(len(results) / elapsed, 1),
        "p50_ms": round(_percentile(all_ms, 0.50)), "p95_ms": round(_percentile(all_ms, 0.95)),
        "kinds": {kind: {"n": len(values), "p50_ms": round(_percentile(values, 0.50)),
                         "p95_ms": round(_percentile(values, 0.95))} for kind, values in sorted(by_kind.items())},
        "statuses": {str(k): v for k, v in sorted(outcomes.items(), key=str)},
        "errors": errors,
        "load_average_before": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default=os.environ.get("VERITY_LOAD_KEY", ""), help="an API key (or VERITY_LOAD_KEY)")
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if not args.key:
        parser.error("--key is required (manage.py kb_apikey create NAME --audience public --rate-limit 100000)")
    if not 1 <= args.seconds <= 600 or not all(1 <= n <= 64 for n in args.clients):
        parser.error("at most 600 seconds and 64 clients per run")
    for clients in args.clients:
        load_before = os.getloadavg()
        report = run(args.url, args.key, clients, args.seconds)
        report["load_average_before"] = [round(value, 2) for value in load_before]
        report["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
