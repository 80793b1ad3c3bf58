"""`openbureau sim`: generate a synthetic market (a thin adapter over openbureau.sim.generate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openbureau import sim
from openbureau.sim.config import DEFAULT_CONFIG
from openbureau.sim.timeline import parse_period

app = typer.Typer(help="Synthetic Chinese consumer credit market for demos, tests and evaluation.")
console = Console()


@app.callback()
def main() -> None:
    """Synthetic Chinese consumer credit market for demos, tests and evaluation."""


def _check_period(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_period(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    return value


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Output directory (an earlier simulation there is replaced).")],
    persons: Annotated[int, typer.Option(min=1, help="Number of persons.")] = 20_000,
    months: Annotated[int, typer.Option(min=1, help="Number of monthly reporting periods.")] = 24,
    seed: Annotated[int, typer.Option(help="Random seed; same arguments give identical files.")] = 42,
    end_period: Annotated[str | None, typer.Option(
        help="Last reporting period YYYY-MM (default: the last complete month).", callback=_check_period)] = None,
    event_months: Annotated[int, typer.Option(
        min=0, max=120, help="Last months with daily lending-event files (0: none).")] = DEFAULT_CONFIG.events.months,
) -> None:
    """Write furnishing files, daily lending-event files, consents, truth tables and a manifest for a simulated
    market."""
    columns = (TextColumn("[bold]Simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("persons"),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("persons", total=persons)
            summary = sim.generate(
                persons=persons, months=months, seed=seed, out=out, end_period=end_period, event_months=event_months,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
    except FileExistsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    table = Table(title=f"Simulated market in {summary.out}", show_header=False)
    for label, value in (
        ("periods", f"{summary.periods[0]} .. {summary.end_period} ({summary.months})"),
        ("persons", f"{summary.persons:,}"),
        ("furnishing files", f"{summary.files:,}"),
        ("records", f"{summary.records:,}"),
        ("lending-event files", f"{summary.event_files:,}"),
        ("lending events", f"{summary.events:,}"),
        ("over-borrowing episodes", f"{summary.episodes:,}"),
        ("consents", f"{summary.consents:,}"),
        ("injected defects", f"{summary.defects:,}"),
        ("seconds", f"{summary.seconds:.1f}"),
    ):
        table.add_row(label, value)
    console.print(table)
