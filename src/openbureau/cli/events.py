"""``openbureau events``: report lending events from a file, reconcile them with the monthly files, and
list what reconciliation found."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, print_table, record_progress, reports_errors
from openbureau.cli.intake import summary_table
from openbureau.intake.events import reconcile as reconciliation
from openbureau.intake.events.files import submit_event_file
from openbureau.intake.readers import count_records, detect_format
from openbureau.intake.schemas import SubmissionRead
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member, list_members
from openbureau.runtime import open_runtime

app = typer.Typer(help="Lending events reported the day they happen: submit, reconcile, discrepancies.",
                  no_args_is_help=True)


@app.command("submit")
@reports_errors
def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, JSONL or Parquet.")],
    furnisher: Annotated[str, typer.Option(help="The furnisher's member code.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate and store a file of lending events; print its counts (findings: ``openbureau intake errors``)."""
    runtime = open_runtime()
    total = count_records(file, detect_format(file.name))
    with record_progress() as progress:
        task = progress.add_task(f"events of {file.name}", total=total, rate="")
        submission, result, repeated = submit_event_file(
            runtime.engine, settings=runtime.settings, vault=runtime.vault, profile=runtime.policy.profile,
            path=file, furnisher_code=furnisher, progress=lambda n: progress.update(task, advance=n))
        progress.update(task, completed=total)
    read = SubmissionRead.model_validate(submission).model_copy(update={"repeated": repeated})
    if as_json:
        typer.echo(json.dumps({**read.model_dump(mode="json"), "duplicates": result.duplicates,
                               "unlinked": result.unlinked}, indent=2))
        return
    if repeated:
        err_console.print("These bytes were submitted before: nothing was stored again. The earlier result:")
    print_table(summary_table([read], title="Events"), console)
    console.print(f"{result.duplicates:,} event(s) had been stored before (acknowledged, not stored again); "
                  f"{result.held:,} held awaiting consent.", highlight=False)
    if read.findings_count:
        console.print(f"Findings: openbureau intake errors {read.id} --out errors.csv")


@app.command("reconcile")
@reports_errors
def reconcile(
    furnisher: Annotated[str | None, typer.Option(help="Only this furnisher (member code).")] = None,
) -> None:
    """Set each furnisher's recent events beside its monthly files; record what the files contradict."""
    runtime = open_runtime()
    ids = None
    if furnisher is not None:
        with session_scope(runtime.engine) as session:
            ids = [get_member(session, code=furnisher).id]
    found = reconciliation.reconcile(runtime.engine, furnisher_ids=ids)
    table = Table("code", "new discrepancies", title="Reconciliation of events with the monthly files")
    for code, count in found.items():
        table.add_row(code, f"{count:,}")
    print_table(table, console)


@app.command("purge")
@reports_errors
def purge(days: Annotated[int, typer.Option(min=181, help="Keep events this many days.")] = 400) -> None:
    """Delete lending events older than ``days`` (the monthly files have superseded them)."""
    runtime = open_runtime()
    deleted = reconciliation.purge(runtime.engine, keep=timedelta(days=days))
    console.print(f"{deleted:,} event(s) older than {days} days deleted.")


@app.command("discrepancies")
@reports_errors
def discrepancies(limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """The newest discrepancies of every furnisher."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        rows = reconciliation.list_discrepancies(session, principal=audit.terminal_operator(), limit=limit)
        names = {m.id: m.code for m in list_members(session)}
    table = Table("furnisher", "account", "period", "code", "message", title="Discrepancies, newest first")
    for row in rows:
        table.add_row(str(names.get(row.furnisher_id, row.furnisher_id)), row.furnisher_account_id,
                      row.reporting_period, row.code, row.message)
    print_table(table, console)
