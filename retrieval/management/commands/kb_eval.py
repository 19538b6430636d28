"""`manage.py kb_eval FILE [--as-if-approved VERSION]`: simulate a questions.jsonl against the knowledge base.

`kb_eval --tickets FILE` simulates past tickets instead (README "Past tickets"), `kb_eval --tickets` the imported ones.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kb.models import ArticleVersion
from retrieval.answers.evaluation import EvalOutcome, EvalReport, load_questions, run_eval, run_eval_as_if_approved
from retrieval.answers.ticket_simulation import TicketOutcome, simulate_tickets, ticket_simulations_record
from retrieval.answers.tickets import imported_tickets, load_tickets
from verity.core.errors import ApplicationError


def _version_id(spec: str) -> int:
    """A version id, or slug@number (e.g. tarif-wechseln@3)."""
    if spec.isdigit():
        return int(spec)
    slug, _, number = spec.partition("@")
    version = ArticleVersion.objects.filter(article__slug=slug, number=int(number) if number.isdigit() else -1).first()
    if version is None:
        raise CommandError(f"--as-if-approved: no version '{spec}' (use an id or slug@number).")
    return version.pk


class Command(BaseCommand):
    help = ("Run a questions.jsonl (or, with --tickets, past tickets) through the real answer pipeline and print "
            "per-question results and totals.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, nargs="?", help="a questions.jsonl, or with --tickets a tickets file")
        parser.add_argument("--as-if-approved", metavar="VERSION", help="a pending version (id or slug@number)")
        parser.add_argument("--quiet", action="store_true", help="totals only")
        parser.add_argument(
            "--tickets", action="store_true",
            help="FILE holds past tickets (.jsonl, .json, .csv): answer each ticket's first customer question and "
                 "compare with the agent's reply; without FILE the imported tickets, whose outcomes are kept for the "
                 "knowledge gaps (kb_tickets gaps, Admin > Insights)",
        )
        parser.add_argument("--audience", choices=("public", "internal"), default="public",
                            help="with --tickets: who asks the tickets' questions (default public)")

    def handle(self, *args, file: Path | None, as_if_approved: str | None, quiet: bool, tickets: bool, audience: str,
               **options) -> None:
        if tickets:
            if as_if_approved:
                raise CommandError("--as-if-approved works with a questions file, not with --tickets.")
            return self._tickets(file, audience=audience, quiet=quiet)
        if file is None:
            raise CommandError("a questions file is required (or --tickets [FILE] for past tickets).")
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            questions = load_questions(file)
            if as_if_approved:
                baseline, simulated = run_eval_as_if_approved(questions, version_id=_version_id(as_if_approved))
                self._report(baseline, "now", quiet=True)
                self._report(simulated, f"as if {as_if_approved} were approved", quiet=quiet)
                self._changes(baseline, simulated)
            else:
                self._report(run_eval(questions), "now", quiet=quiet)
        except ApplicationError as error:
            raise CommandError(error.message) from error

    def _line(self, outcome: EvalOutcome) -> str:
        result = outcome.result
        mark = "ok  " if outcome.correct else "FAIL"
        cites = ",".join(f"{c.slug}@v{c.version}" for c in result.citations) or "-"
        detail = f" | {'; '.join(outcome.problems)}" if outcome.problems else ""
        line = f"{mark} {outcome.question.id:<6} {result.status:<8} {result.latency_ms:>5} ms  {cites}{detail}"
        # every answer in full, as the customer would read it, with what a reader would notice
        line += f"\n       Q: {outcome.question.question}\n       A: {(result.answer or '').replace(chr(10), ' ')}"
        line += f"\n       [{result.generator}{', cached' if result.cached else ''}]"
        if outcome.reading:
            line += f"\n       reading: {'; '.join(outcome.reading)}"
        return line

    def _report(self, report: EvalReport, label: str, *, quiet: bool) -> None:
        if not quiet:
            for outcome in report.outcomes:
                self.stdout.write(self._line(outcome))
        answered_ok, answered_total = report.answerable
        refused_ok, refused_total = report.unanswerable
        pct = lambda a, b: f"{100 * a / b:.1f} %" if b else "n/a"  # noqa: E731
        self.stdout.write(
            f"\nTotals ({label}):\n"
            f"  correct on answerable:    {answered_ok}/{answered_total} = {pct(answered_ok, answered_total)}  (target >= 85 %)\n"
            f"  correct refusal/hand-over: {refused_ok}/{refused_total} = {pct(refused_ok, refused_total)}  (target >= 90 %)\n"
            f"  leakage:                  {report.leaks}  (target 0)\n"
            f"  forbidden promises:       {report.promises}  (target 0)\n"
            f"  hard to read:             {report.unreadable}  (over 80 words, flattened tables, fragments, questions)\n"
            f"  latency p50 / p95:        {report.latency(0.5):.0f} ms / {report.latency(0.95):.0f} ms  (target p95 <= 1500 ms)"
        )

    def _changes(self, baseline: EvalReport, simulated: EvalReport) -> None:
        self.stdout.write("\nAnswers that would change:")
        changed = 0
        for before, after in zip(baseline.outcomes, simulated.outcomes, strict=True):
            b, a = before.result, after.result
            before_cites = [(c.slug, c.version) for c in b.citations]
            after_cites = [(c.slug, c.version) for c in a.citations]
            if (b.status, b.answer, before_cites) != (a.status, a.answer, after_cites):
                changed += 1
                self.stdout.write(f"  {before.question.id}: {before.question.question}")
                self.stdout.write(f"    now:   {b.status} {b.answer or ''} {before_cites}")
                self.stdout.write(f"    after: {a.status} {a.answer or ''} {after_cites}")
        if not changed:
            self.stdout.write("  none")

    def _tickets(self, file: Path | None, *, audience: str, quiet: bool) -> None:
        try:
            tickets = load_tickets(file) if file is not None else imported_tickets()
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if not tickets:
            raise CommandError("No imported tickets: import some with `manage.py kb_tickets import FILE`, or name a file.")
        report = simulate_tickets(tickets, audience=audience)
        if not quiet:
            for outcome in report.outcomes:
                self.stdout.write(self._ticket_line(outcome))
        self.stdout.write(
            f"\nTotals ({len(report.outcomes)} ticket{'' if len(report.outcomes) == 1 else 's'} from {file or 'the imported tickets'}, as the {audience} audience):\n"
            f"  answered:                    {report.answered}\n"
            f"    agreeing with the agent:   {report.agreeing}\n"
            f"    disagreeing with the agent: {report.disagreeing}\n"
            f"    no agent reply to compare: {report.answered - report.agreeing - report.disagreeing}\n"
            f"  refused:                     {report.refused}\n"
            f"  handed over:                 {report.handoff}\n"
            f"  knowledge gaps (refused or disagreeing): {report.gaps}"
        )
        if file is None:
            recorded = ticket_simulations_record(report)
            self.stdout.write(f"  kept as the last simulation of {recorded} imported tickets: `manage.py kb_tickets gaps`, "
                              f"Admin > Insights")

    def _ticket_line(self, outcome: TicketOutcome) -> str:
        result = outcome.result
        verdict = outcome.agreement or ("no reply" if result.status == "answered" else "-")
        similarity = f"cosine {outcome.similarity:.2f}" if outcome.similarity is not None else ""
        overlap = f"overlap {outcome.comparison.overlap:.2f}" if outcome.comparison else ""
        cites = ",".join(dict.fromkeys(f"{c.slug}@v{c.version}" for c in result.citations)) or "-"
        flat = lambda text: " ".join((text or "").split())  # noqa: E731
        line = (f"{outcome.ticket.id:<10} {result.status:<8} {verdict:<9} {similarity:<11} {overlap:<12} {cites}"
                f"\n       subject: {flat(outcome.ticket.subject)}"
                f"\n       Q:       {flat(outcome.question)}"
                f"\n       Verity:  {flat(result.answer) if result.status == 'answered' else f'({result.reason})'}"
                f"\n       agent:   {flat(outcome.reply) or '(no reply)'}")
        if outcome.comparison is not None:
            facts = outcome.comparison
            line += f"\n       facts:   {facts.agreeing}/{facts.stated} of the agent's facts in the answer"
            for difference in facts.differences:
                line += f"\n         differs: {difference}"
        line += f"\n       [{result.generator}]"
        return line
