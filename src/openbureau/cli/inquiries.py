"""``openbureau inquiries batch``: a lender's batch inquiries from the terminal (submit a file, follow it,
download its answers, cancel it) and the worker that answers them (docs/batch.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from openbureau.batches import rows, service
from openbureau.batches.schemas import BatchRead
from openbureau.batches.worker import Worker
from openbureau.cli.console import console, print_table, progress, reports_errors, until_interrupted
from openbureau.intake.files import seal_file
from openbureau.kit.db import session_scope
from openbureau.kit.filecrypt import create_private
from openbureau.members.service import get_member
from openbureau.principals import Principal
from openbureau.runtime import Runtime, open_runtime

app = typer.Typer(help="Inquiries: batches of them, answered by a worker.", no_args_is_help=True)
batch = typer.Typer(help="Batch inquiries: a lender's file of subjects answered row by row.", no_args_is_help=True)
app.add_typer(batch, name="batch")

MemberOption = Annotated[str, typer.Option("--member", help="The lender's member code (a subscriber).")]


def _principal(runtime: Runtime, code: str) -> Principal:
    with session_scope(runtime.engine) as session:
        return Principal.of_member(get_member(session, code=code))


def _table(items: list[BatchRead]) -> Table:
    table = Table("id", "status", "rows", "done", "answered", "refused", "invalid", "created")
    for b in items:
        table.add_row(str(b.id), b.status, f"{b.rows_total:,}", f"{b.rows_done:,}", f"{b.rows_answered:,}",
                      f"{b.rows_refused:,}", f"{b.rows_invalid:,}", f"{b.created_at:%Y-%m-%d %H:%M}")
    return table


def _answer(runtime: Runtime, batch_id: int) -> None:
    """Answer one job here, with a bar of its rows."""
    worker = Worker(runtime.engine, settings=runtime.settings, vault=runtime.vault, policy=runtime.policy)
    claimed = worker.claim(batch_id=batch_id)
    if claimed is None:
        console.print(f"Batch {batch_id} is being answered by a worker already (or has ended).")
        return
    job, token = claimed
    with progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn()) as bar:
        task = bar.add_task(f"batch {batch_id}", total=job.rows_total, completed=job.rows_done)
        worker.run_job(job, token, progress=lambda b: bar.update(task, completed=b.rows_done))


@batch.command("submit")
@reports_errors
def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV (with a header line) or JSON Lines (.jsonl, .ndjson).")],
    member: MemberOption,
    file_format: Annotated[str | None, typer.Option("--format", help="csv or jsonl; by default the file name's "
                                                                     "suffix tells.")] = None,
    wait: Annotated[bool, typer.Option(help="Answer the rows here and now, with a progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Queue a lender's file of subjects as a batch of inquiries; print the job (its id)."""
    runtime = open_runtime()
    principal = _principal(runtime, member)
    service.check_submitter(principal)
    fmt = rows.file_format(file.name, file_format)
    with progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task(f"reading {file.name}", total=file.stat().st_size)
        with file.open("rb") as source:
            sealed = seal_file(runtime.settings, source, max_bytes=runtime.settings.batch_max_bytes,
                               progress=lambda n: bar.update(task, advance=n))
    read = service.submit(runtime.engine, settings=runtime.settings, principal=principal, sealed=sealed,
                          file_format=fmt)
    if wait:
        _answer(runtime, read.id)
        with session_scope(runtime.engine) as session:
            read = service.get_batch(session, principal=principal, batch_id=read.id)
    if as_json:
        typer.echo(json.dumps(read.model_dump(mode="json"), indent=2))
        return
    print_table(_table([read]), console)


@batch.command("status")
@reports_errors
def status(
    member: MemberOption,
    batch_id: Annotated[int | None, typer.Argument(help="The job; all of the lender's when left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Where the lender's batch jobs stand."""
    runtime = open_runtime()
    principal = _principal(runtime, member)
    with session_scope(runtime.engine) as session:
        items = ([service.get_batch(session, principal=principal, batch_id=batch_id)] if batch_id is not None
                 else service.list_batches(session, principal=principal))
    if as_json:
        typer.echo(json.dumps([b.model_dump(mode="json") for b in items], indent=2))
        return
    print_table(_table(items), console)


@batch.command("results")
@reports_errors
def results(
    batch_id: Annotated[int, typer.Argument(help="The job.")],
    member: MemberOption,
    out: Annotated[Path, typer.Option("--out", help="Where to write the results file (made owner-only).")],
    file_format: Annotated[str | None, typer.Option("--format", help="csv or jsonl; by default the format of "
                                                                     "the submitted file.")] = None,
) -> None:
    """Write the answers of one of the lender's finished jobs to a file."""
    runtime = open_runtime()
    principal = _principal(runtime, member)
    with session_scope(runtime.engine, write=True) as session:
        stream, fmt, _ = service.results_of(session, settings=runtime.settings, principal=principal,
                                            batch_id=batch_id, fmt=file_format)
    written = 0
    with create_private(out) as sink:
        for block in stream:
            sink.write(block)
            written += len(block)
    console.print(f"{written:,} bytes of {fmt} results written to {out}")


@batch.command("cancel")
@reports_errors
def cancel(batch_id: Annotated[int, typer.Argument(help="The job.")], member: MemberOption) -> None:
    """Cancel one of the lender's open jobs (the rows answered so far stay answered)."""
    runtime = open_runtime()
    principal = _principal(runtime, member)
    with session_scope(runtime.engine, write=True) as session:
        read = service.cancel(session, settings=runtime.settings, principal=principal, batch_id=batch_id)
    print_table(_table([read]), console)


@batch.command("run")
@reports_errors
def run(
    once: Annotated[bool, typer.Option(help="Answer the jobs due now, then stop.")] = False,
    poll: Annotated[float, typer.Option(min=0.05, max=60, help="Seconds between looks when nothing is due.")] = 1.0,
) -> None:
    """Answer queued batch jobs until interrupted (SIGINT, SIGTERM), a chunk at a time; a job killed midway
    resumes after its last committed chunk. Several workers may run at once (each job is leased to one)."""
    runtime = open_runtime()
    worker = Worker(runtime.engine, settings=runtime.settings, vault=runtime.vault, policy=runtime.policy)
    if once:
        outcome = worker.run_once()
    else:
        stop = until_interrupted()
        console.print("Answering batch inquiries; Ctrl-C to stop.")
        outcome = worker.run(stop, poll=poll)
    console.print(f"{outcome.rows:,} rows answered in {outcome.chunks:,} chunks of {outcome.jobs:,} jobs")
