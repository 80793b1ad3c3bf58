"""``openbureau fraud``: the batch job that finds rings of persons sharing phones and addresses."""

from __future__ import annotations

import typer

from openbureau.audit import service as audit
from openbureau.cli.console import console, reports_errors
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
