"""``openbureau fraud``: the batch job that finds rings of persons sharing phones and addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.runtime import open_runtime

app = typer.Typer(help="Fraud: rings of persons sharing contact details, the fraud list.", no_args_is_help=True)
rings_app = typer.Typer(help="Rings of persons linked by shared phones and addresses (docs/fraud.md).",
                        no_args_is_help=True)
app.add_typer(rings_app, name="rings")


@rings_app.command("build")
@reports_errors
def build() -> None:
    """Find the rings in the files of the last window and replace the stored ones (audited)."""
    from openbureau.fraud.tasks import build_rings

    runtime = open_runtime()
    done = build_rings(runtime.engine, vault=runtime.vault, settings=runtime.policy.signals,
                       principal=audit.terminal_operator())
    console.print(f"{done.records:,} records read; {done.attributes:,} phones and addresses, {done.linking:,} "
                  f"linking persons ({done.over_cap:,} given for too many persons and {done.single_lender:,} from one "
                  f"lender only, left out); {done.rings:,} rings of {done.persons:,} persons, "
                  f"{done.flagged_persons:,} in rings of {runtime.policy.signals.ring_min_size} or more; "
                  f"{done.seconds:.1f} s", highlight=False)


@rings_app.command("stats")
@reports_errors
def stats(k: Annotated[int | None, typer.Option(help="Minimum persons per cell (may only raise the bureau's).")] = None,
          json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False) -> None:
    """Rings across the market by size band and region, k-suppressed: what the regulator reads (audited)."""
    from openbureau.fraud.statistics import ring_statistics
    from openbureau.kit.db import session_scope

    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        found = ring_statistics(session, vault=runtime.vault, principal=audit.terminal_operator(),
                                policy=runtime.policy, k=k)
    if json_out:
        console.print_json(found.model_dump_json())
        return
    console.print(f"Rings of {found.min_ring_size} or more persons (built {found.built_at or 'never'}): "
                  f"{_n(found.rings)} rings, {_n(found.persons)} persons; cells under {found.k} persons suppressed",
                  highlight=False)
    for title, cells in (("By size", found.by_size), ("By region", found.by_region)):
        table = Table("group", "rings", "persons", "lenders", "live accounts", "balance", "past due", "delinquent",
                      title=title)
        for c in cells:
            table.add_row(c.group, _n(c.rings), _n(c.persons), _n(c.lenders), _n(c.open_accounts),
                          _n(c.open_balance), _n(c.past_due_balance), _n(c.delinquent_persons))
        print_table(table, console)


def _n(value: int | None) -> str:
    return "suppressed" if value is None else f"{value:,}"


@app.command("evaluate")
@reports_errors
def evaluate(truth: Annotated[Path, typer.Option("--truth", help="A simulated market (or its truth folder).",
                                                 exists=True, file_okay=False)],
             honest_sample: Annotated[int | None, typer.Option(min=1, help="Read this many honest persons, not all "
                                                                            "(their flags are scaled up).")] = None,
             seed: Annotated[int, typer.Option(help="Seed of the honest sample.")] = 0,
             json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False) -> None:
    """Precision and recall of the fraud signals and score per fraud pattern of a simulated market's truth, each
    person read as an inquiry at their first application after the fraud began (docs/fraud.md)."""
    import dataclasses
    import json

    from openbureau.reports.fraud_evaluation import evaluate_fraud

    runtime = open_runtime()
    with console.status("reading each case's report at its moment"):
        found = evaluate_fraud(runtime.engine, vault=runtime.vault, policy=runtime.policy, truth=truth,
                               honest_sample=honest_sample, seed=seed)
    if json_out:
        console.print_json(json.dumps(dataclasses.asdict(found)))
        return
    table = Table("pattern", "persons", "flagged", "recall", "precision", "own signal", "its recall",
                  "its precision", "days to first miss", "days to default", "flagged by",
                  title="Fraud patterns flagged at their first application")
    for p in found.patterns:
        table.add_row(p.pattern, f"{p.persons:,}", f"{p.flagged:,}", _ratio(p.recall), _ratio(p.precision),
                      p.signal or "-", _ratio(p.signal_recall), _ratio(p.signal_precision), _days(p.median_days_to_first_miss), _days(p.median_days_to_default),
                      ", ".join(f"{k} {v}" for k, v in sorted(p.by_reason.items())))
    print_table(table, console)
    console.print(f"Honest persons: {found.honest_flagged:,} of {found.honest:,} flagged at their first application "
                  f"(of {found.honest_population:,} in the period; "
                  f"{', '.join(f'{k} {v}' for k, v in sorted(found.honest_by_reason.items())) or 'none'}); "
                  f"{found.not_in_bureau:,} persons not in the bureau", highlight=False)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
