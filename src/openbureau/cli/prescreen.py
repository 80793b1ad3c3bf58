"""``openbureau prescreen``: a lender's prescreen from the terminal (criteria in, a firm-offer list out, with a
progress bar over the files judged), and the persons' opt-out recorded at the bureau's counter (a call, or a
signed notice of election) (docs/prescreen.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, progress, reports_errors
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.kit.filecrypt import create_private
from openbureau.kit.spreadsheet import csv_writer
from openbureau.members.service import get_member
from openbureau.prescreen import optouts
from openbureau.prescreen import service as prescreen
from openbureau.prescreen.schemas import PrescreenCreate
from openbureau.principals import Principal
from openbureau.runtime import Runtime, open_runtime

app = typer.Typer(help="Prescreening: a lender's firm-offer lists; the persons' opt-out at the counter.",
                  no_args_is_help=True)
MemberOption = Annotated[str, typer.Option("--member", help="The lender's member code (a subscriber).")]
IdType = Annotated[str, typer.Option(help="The person's document type (e.g. CN_RESIDENT_ID, PASSPORT).")]
IdNumber = Annotated[str, typer.Option(help="The person's identity number (checked at the counter).")]


def _principal(runtime: Runtime, code: str) -> Principal:
    with session_scope(runtime.engine) as session:
        return Principal.of_member(get_member(session, code=code))


def _write_list(runtime: Runtime, principal: Principal, prescreen_id: int, out: Path) -> int:
    """The whole list as CSV (reference, name, address), owner-only, a page at a time; the number of rows."""
    written, after = 0, 0
    with create_private(out) as sink:
        text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
        writer = csv_writer(text)
        writer.writerow(["reference", "name", "address"])
        while True:
            with session_scope(runtime.engine, write=True) as session:
                page = prescreen.firm_offer_list(session, vault=runtime.vault, principal=principal,
                                                 prescreen_id=prescreen_id, after=after)
            for entry in page.entries:
                writer.writerow([entry.reference, entry.name, entry.address])
            written += len(page.entries)
            if page.next_after is None:
                break
            after = page.next_after
        text.flush()
        text.detach()
    return written


@app.command("run")
@reports_errors
def run(member: MemberOption,
        criteria: Annotated[Path, typer.Option(help="JSON: {criteria: {...}, offer_product, offer_terms, max_persons}.",
                                               exists=True, dir_okay=False)],
        out: Annotated[Path | None, typer.Option(help="Write the firm-offer list here as CSV (must not exist).")] = None,
        chunk: Annotated[int, typer.Option(help="Files judged per transaction.")] = prescreen.CHUNK) -> None:
    """Run a prescreen as the lender ``--member``: the persons whose files meet the criteria, for a firm offer."""
    runtime = open_runtime()
    try:
        request = PrescreenCreate.model_validate(json.loads(criteria.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        field = ".".join(str(p) for p in first["loc"]) or "criteria"
        err_console.print(f"[bold red]error[/] INVALID_CRITERIA {field}: {first['msg']}", highlight=False)
        raise typer.Exit(1) from None
    if out is not None and out.exists():
        err_console.print(f"[bold red]error[/] {out} exists: name a new file", highlight=False)
        raise typer.Exit(1)
    principal = _principal(runtime, member)
    with progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), MofNCompleteColumn(),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task("files judged", total=None)
        done = prescreen.run(runtime.engine, vault=runtime.vault, policy=runtime.policy, principal=principal,
                             request=request, chunk=chunk, progress=lambda n: bar.update(task, advance=n))
    console.print(f"Prescreen {done.id}: {done.persons_selected:,} of {done.persons_considered:,} files judged "
                  f"selected ({done.status}).", highlight=False)
    if out is not None:
        rows = _write_list(runtime, principal, done.id, out)
        console.print(f"Wrote {out} ({rows:,} persons), readable by you only: names and addresses in clear, "
                      "for the firm offer only.", highlight=False, soft_wrap=True)


@app.command("opt-out")
@reports_errors
def opt_out(id_type: IdType, id_number: IdNumber,
            term: Annotated[str, typer.Option(help="five_years (a call) or permanent (a signed notice).")]
            = "five_years") -> None:
    """Record a person's election to be left off prescreened lists (FCRA §604(e)), at their request."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        done = optouts.opt_out(session, vault=runtime.vault, policy=runtime.policy,
                               principal=audit.terminal_operator(), term=term,
                               subject=Subject(id_type=id_type, id_number=id_number))
    until = "until they opt back in" if done.expires_at is None else f"until {done.expires_at:%Y-%m-%d}"
    console.print(f"Opt-out {done.id} in force {until}.", highlight=False)


@app.command("opt-in")
@reports_errors
def opt_in(id_type: IdType, id_number: IdNumber) -> None:
    """End a person's opt-out at their request: lenders may again select them."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        done = optouts.opt_in(session, vault=runtime.vault, policy=runtime.policy,
                              principal=audit.terminal_operator(),
                              subject=Subject(id_type=id_type, id_number=id_number))
    console.print(f"Opt-out {done.id} ended on {done.ended_at:%Y-%m-%d %H:%M} UTC.", highlight=False)
