"""Change-impact benchmark: does a change flag every affected article and leave its neighbours alone?

    python -m bench.changes                        # demo/kb with demo/changes.jsonl
    python -m bench.changes --kb eval/holdout-nahverkehr/kb --changes eval/holdout-nahverkehr/changes.jsonl
    python -m bench.changes --verbose --contradictions

Runs in its own bench database (`verity_bench_changes`, dropped and recreated, never the dev data): imports the
knowledge base, creates each change through governance.services.change_event_create(assess=False)
and runs retrieval.impact.assess_change on it. An article counts as flagged when
change_event_record would flag it: the findings plus their live translations and sources.
Prints per change the recall of `expected_flagged`, the `not_flagged` articles flagged and the time
of the assessment; then the totals against the targets (recall >= 0.95, <= 0.5 not_flagged article
flagged per change on average) and mean/p95 assessment time. The embedding model is loaded before
the first assessment is timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.retrieval import database_reset, percentile

ROOT = Path(__file__).resolve().parent.parent
TARGET_RECALL = 0.95  # issue #15
TARGET_NOT_FLAGGED_PER_CHANGE = 0.5  # issue #15
# each benchmark has its own database, so that one can run beside another
CHANGES_DATABASE = "verity_bench_changes"


@dataclass
class ChangeResult:
    id: str
    expected: set[str]
    not_flagged: set[str]
    flagged: set[str]
    ms: float
    findings: list = field(default_factory=list)

    @property
    def hits(self) -> set[str]:
        return self.expected & self.flagged

    @property
    def wrongly_flagged(self) -> set[str]:
        return self.not_flagged & self.flagged

    @property
    def others(self) -> set[str]:
        return self.flagged - self.expected - self.not_flagged


def setup(kb: Path, database: str = CHANGES_DATABASE) -> None:
    """A fresh bench database (`database`, dropped and recreated) with the knowledge base imported (and indexed)."""
    os.environ["VERITY_DATABASE_NAME"] = database
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verity.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    database_reset(database)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from governance.imports import kb_import

    assert settings.DATABASES["default"]["NAME"] == database
    call_command("migrate", verbosity=0)
    report = kb_import(folder=kb)
    if report.errors:
        raise SystemExit(f"import of {kb} failed: " + "; ".join(str(error) for error in report.errors))


def flagged_slugs(findings) -> set[str]:
    """What change_event_record flags for these findings: each article, its live translations and its source."""
    slugs: set[str] = set()
    for finding in findings:
        slugs |= family_slugs(finding.article)
    return slugs


def family_slugs(article) -> set[str]:
    """The article, its live translations and its live source."""
    slugs = {article.slug}
    slugs.update(article.translations.filter(live_version__isnull=False).values_list("slug", flat=True))
    if article.translation_of_id and article.translation_of.live_version_id:
        slugs.add(article.translation_of.slug)
    return slugs


def run_changes(path: Path, *, shift_days: int = 0, facts_only: bool = False, dump: Path | None = None,
                only: set[str] | None = None) -> list[ChangeResult]:
    """Announce and assess each change; effective dates move with the knowledge base's reference date.

    With `dump`, every section the model judged is written as one JSON line (change, slug, expected or
    not_flagged, P(ja)), so the threshold can be read off without running the model again."""
    from governance.services import change_event_create
    from retrieval.impact.assessment import assess_change
    from retrieval.index.embeddings import active_embedder
    from retrieval.llm.client import model_endpoint

    active_embedder().embed_query("warm up")  # load the model outside the timed assessments
    from django.conf import settings

    endpoint = None if facts_only or not settings.VERITY_IMPACT_READING else model_endpoint()
    print(f"[changes] reading by the model: {endpoint.model if endpoint else 'off (facts only)'}", file=sys.stderr, flush=True)
    dump_file = dump.open("w", encoding="utf-8") if dump else None
    results = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if only and row["id"] not in only:
            continue
        event = change_event_create(kind=row["kind"], title=row["title"], description=row["description"],
                                    effective_date=dt.date.fromisoformat(row["effective_date"]) + dt.timedelta(days=shift_days),
                                    assess=False)
        started = time.perf_counter()
        trace: list = []
        findings = assess_change(event, endpoint=endpoint, trace=trace)
        ms = (time.perf_counter() - started) * 1000
        results.append(ChangeResult(row["id"], set(row["expected_flagged"]), set(row.get("not_flagged", [])),
                                    flagged_slugs(findings), ms, findings))
        print(f"[changes] {row['id']}: {len(trace)} sections read, {ms / 1000:.1f} s", file=sys.stderr, flush=True)
        if dump_file:
            model_slugs = {j.section.article.slug for j in trace}
            facts = [f.article.slug for f in findings if f.article.slug not in model_slugs]
            for judgement in trace:
                article = judgement.section.article
                family = family_slugs(article)
                dump_file.write(json.dumps({
                    "change": row["id"], "slug": article.slug, "family": sorted(family),
                    "expected": bool(family & set(row["expected_flagged"])),
                    "not_flagged": bool(family & set(row.get("not_flagged", []))),
                    "p": round(judgement.probability, 4), "heading": judgement.section.heading,
                }, ensure_ascii=False) + "\n")
            dump_file.write(json.dumps({"change": row["id"], "facts": facts, "ms": round(ms)}) + "\n")
            dump_file.flush()
    if dump_file:
        dump_file.close()
    return results


def report(results: list[ChangeResult], *, verbose: bool) -> str:
    out = ["| change | expected flagged | recall | not_flagged flagged | other flagged | ms | missed |",
           "|---|---|---|---|---|---|---|"]
    for r in results:
        wrong = ", ".join(sorted(r.wrongly_flagged))
        out.append(f"| {r.id} | {len(r.expected)} | {len(r.hits)}/{len(r.expected)} | {len(r.wrongly_flagged)}"
                   f"{f' ({wrong})' if wrong else ''} | {len(r.others)} | {r.ms:.0f} | {', '.join(sorted(r.expected - r.hits)) or '-'} |")
        if verbose:
            for finding in r.findings:
                label = "expected" if finding.article.slug in r.expected else (
                    "NOT_FLAGGED" if finding.article.slug in r.not_flagged else "other")
                evidence = " ".join(finding.evidence.split())[:160]
                out.append(f"|  | {label}: {finding.article.slug} ({finding.score:.2f}) | {finding.reason} | | | | {evidence} |")
    expected = sum(len(r.expected) for r in results)
    recall = sum(len(r.hits) for r in results) / expected if expected else 0.0
    wrong_per_change = sum(len(r.wrongly_flagged) for r in results) / len(results) if results else 0.0
    times = [r.ms for r in results]
    out += [
        "",
        f"recall of expected_flagged: {recall:.3f} ({sum(len(r.hits) for r in results)}/{expected}); "
        f"target >= {TARGET_RECALL}: {'met' if recall >= TARGET_RECALL else 'NOT met'}",
        f"not_flagged articles flagged per change: {wrong_per_change:.2f}; "
        f"target <= {TARGET_NOT_FLAGGED_PER_CHANGE}: {'met' if wrong_per_change <= TARGET_NOT_FLAGGED_PER_CHANGE else 'NOT met'}",
        f"other articles flagged per change (in neither list): {sum(len(r.others) for r in results) / max(1, len(results)):.2f}",
        f"assessment time: mean {statistics.fmean(times):.0f} ms, p95 {percentile(times, 95):.0f} ms ({len(times)} changes)",
    ]
    return "\n".join(out)


def contradictions_report() -> str:
    from retrieval.impact.contradictions import contradictions_scan

    started = time.perf_counter()
    findings = contradictions_scan()
    lines = [f"contradiction scan: {len(findings)} finding(s) in {time.perf_counter() - started:.1f} s"]
    for f in findings:
        lines.append(f"- {f.score:.2f} {f.article.slug} ({f.value}) vs {f.other.slug} ({f.other_value}):\n"
                     f"    {' '.join(f.sentence.split())}\n    {' '.join(f.other_sentence.split())}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.changes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", default=str(ROOT / "demo" / "kb"), help="knowledge base folder (kb-format.md)")
    parser.add_argument("--changes", default=str(ROOT / "demo" / "changes.jsonl"), help="changes.jsonl")
    parser.add_argument("--verbose", action="store_true", help="also print each finding's reason and evidence")
    parser.add_argument("--contradictions", action="store_true", help="also run the contradiction scan")
    parser.add_argument("--facts-only", action="store_true", help="without the language model's reading (also off unless VERITY_IMPACT_READING=1)")
    parser.add_argument("--dump", type=Path, help="write every judged section with its P(ja) as JSON lines")
    parser.add_argument("--only", help="comma-separated change ids (default: all)")
    parser.add_argument("--database", default=CHANGES_DATABASE,
                        help=f"bench database (verity_bench…, dropped and recreated; default {CHANGES_DATABASE})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(f"[changes] importing {args.kb} into {args.database} ...", file=sys.stderr, flush=True)
    setup(Path(args.kb), database=args.database)
    from django.utils import timezone

    from kb.kbformat import days_since_reference, read_reference_date

    shift_days = days_since_reference(read_reference_date(Path(args.kb)), timezone.localdate())
    results = run_changes(Path(args.changes), shift_days=shift_days, facts_only=args.facts_only, dump=args.dump,
                          only=set(args.only.split(",")) if args.only else None)
    print(f"# Change impact: {args.changes}\n")
    print(report(results, verbose=args.verbose))
    if args.contradictions:
        print()
        print(contradictions_report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
