"""``openbureau intake``: submit furnishing files and read their outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, print_table, record_progress, reports_errors
from openbureau.intake import service
from openbureau.intake.readers import count_records, detect_format
from openbureau.intake.schemas import SubmissionRead
from openbureau.kit.db import session_scope
from openbureau.kit.dialects import dialect_for
from openbureau.runtime import Runtime, open_runtime

app = typer.Typer(help="Submit furnishing files and read their findings.", no_args_is_help=True)


def summary_table(rows: list[SubmissionRead], title: str | None = None) -> Table:
    """A table of submissions and their counts."""
    table = Table("id", "file", "status", "received", "accepted", "warnings", "rejected", "quarantined",
                  "findings", title=title)
    for s in rows:
        table.add_row(str(s.id), s.filename, s.status, f"{s.records_received:,}", f"{s.records_accepted:,}",
                      f"{s.records_warnings:,}", f"{s.records_rejected:,}", f"{s.records_quarantined:,}",
                      f"{s.findings_count:,}")
    return table


@app.command("submit")
@reports_errors
def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV, JSONL, Parquet or Metro 2 (.m2, .metro2, .txt).")],
    furnisher: Annotated[str, typer.Option(help="The furnisher's member code.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    file_format: Annotated[str | None, typer.Option(
        "--format", help="csv, jsonl, parquet or metro2; by default the file name's suffix tells.")] = None,
) -> None:
    """Validate and load a furnishing file; print the submission id and its counts."""
    runtime = open_runtime()
    total = count_records(file, detect_format(file.name, file_format))
    with record_progress() as progress:
        task = progress.add_task(f"loading {file.name}", total=total, rate="")
        result = service.submit(
            runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code=furnisher, path=file,
            progress=lambda n: progress.update(task, advance=n, rate=pace(runtime)), file_format=file_format,
        )
        progress.update(task, completed=total)
    read = SubmissionRead.model_validate(result.submission).model_copy(update={"repeated": result.repeated})
    if as_json:
        typer.echo(json.dumps(read.model_dump(mode="json"), indent=2))
        return
    if result.repeated:
        err_console.print("These bytes were submitted before: nothing was stored again. The earlier result:")
    print_table(summary_table([read]), console)
    _print_counts(read)
    if read.findings_count:
        console.print(f"Findings: openbureau intake errors {read.id} --out errors.csv")


def pace(runtime: Runtime) -> str:
    """What the progress bar says of the load's pace: nothing at its full share; else the share the inquiries
    left it (``kit.pacing``), so that a slower load is not taken for a stalled one."""
    share = dialect_for(runtime.engine).work_share.current
    return "" if share >= 1 else f"busy {share:.0%} of the time: inquiries first"


def _print_counts(read: SubmissionRead) -> None:
    """The exact findings by code, and whether some were counted and not stored."""
    if read.finding_counts:
        console.print("Findings by code: " + ", ".join(f"{c} {n:,}" for c, n in read.finding_counts.items()),
                      soft_wrap=True, highlight=False)
    if read.findings_note:
        console.print(read.findings_note, soft_wrap=True, highlight=False)


@app.command("status")
@reports_errors
def status(submission_id: Annotated[int, typer.Argument(help="The submission id.")]) -> None:
    """Show one submission's status and counts."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        read = SubmissionRead.model_validate(service.get_submission(session, principal=audit.terminal_operator(),
                                                                    submission_id=submission_id))
    print_table(summary_table([read]), console)
    _print_counts(read)
    if read.error_code:
        console.print(f"{read.error_code}: {read.error_message}", soft_wrap=True, highlight=False)


@app.command("list")
@reports_errors
def list_submissions(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20) -> None:
    """List recent submissions."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        rows = [SubmissionRead.model_validate(s) for s in service.list_submissions(session, principal=audit.terminal_operator(),
                                                                                   limit=limit)]
    print_table(summary_table(rows), console)


@app.command("errors")
@reports_errors
def errors(
    submission_id: Annotated[int, typer.Argument(help="The submission id.")],
    out: Annotated[Path, typer.Option(help="CSV file to write every finding to.")],
) -> None:
    """Write every finding of a submission (line, field, code, severity, value, message) to a CSV file."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        count = service.write_findings_csv(session, principal=audit.terminal_operator(), submission_id=submission_id, out=out)
        read = SubmissionRead.model_validate(service.get_submission(session, principal=audit.terminal_operator(),
                                                                    submission_id=submission_id))
    console.print(f"Wrote {count:,} findings to {out}")
    _print_counts(read)
