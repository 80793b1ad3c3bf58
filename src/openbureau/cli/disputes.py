"""``openbureau disputes``: record a person's dispute at the counter, list the queue, resolve (operator)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.consent.schemas import Subject
from openbureau.disputes import investigation, service
from openbureau.disputes.models import DisputeKind, DisputeOutcome, DisputeStatus
from openbureau.disputes.schemas import DisputeCreate
from openbureau.fraud.service import reporter_of
from openbureau.kit.db import session_scope
from openbureau.runtime import open_runtime

app = typer.Typer(help="Disputes of items of a person's file, and their legal deadlines.", no_args_is_help=True)


@app.command("file")
@reports_errors
def file_dispute(
    id_type: Annotated[str, typer.Option(help="CN_RESIDENT_ID, PASSPORT or OTHER.")],
    id_number: Annotated[str, typer.Option(help="The person's identity number (checked at the counter).")],
    statement: Annotated[str, typer.Option(help="What the person says is wrong.")],
    kind: Annotated[DisputeKind, typer.Option(help="account, inquiry or identity.")] = DisputeKind.ACCOUNT,
    lender: Annotated[str | None, typer.Option(help="Code of the lender whose account is disputed.")] = None,
    account: Annotated[str | None, typer.Option(help="The lender's account number.")] = None,
    period: Annotated[str | None, typer.Option(help="The disputed month YYYY-MM (default: the whole account).")] = None,
    inquiry: Annotated[int | None, typer.Option(help="The disputed inquiry's id.")] = None,
    fraud_report: Annotated[int | None, typer.Option(help="The disputed fraud report's id (kind fraud_report).")]
    = None,
) -> None:
    """Record a person's dispute; print its deadline."""
    runtime = open_runtime()
    data = DisputeCreate(subject=Subject(id_type=id_type, id_number=id_number), kind=kind, lender=lender,
                         furnisher_account_id=account, reporting_period=period, inquiry_id=inquiry, fraud_report_id=fraud_report,
                         statement=statement)
    with session_scope(runtime.engine, write=True) as session:
        dispute = service.file_dispute(session, vault=runtime.vault, data=data, principal=audit.terminal_operator(),
                                       policy=runtime.policy, fraud_reports=reporter_of)
    console.print(f"Dispute {dispute.id} filed; the answer is due by {dispute.due_at:%Y-%m-%d %H:%M} UTC")


@app.command("list")
@reports_errors
def list_disputes(
    status: Annotated[DisputeStatus | None, typer.Option(help="open, resolved or withdrawn.")] = DisputeStatus.OPEN,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open disputes past their deadline.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """The dispute queue, oldest deadline first."""
    runtime = open_runtime()
    now = datetime.now(UTC)
    with session_scope(runtime.engine) as session:
        rows = service.list_disputes(session, principal=audit.terminal_operator(), status=None if overdue else status,
                                     overdue_at=now if overdue else None, limit=limit)
    table = Table("id", "kind", "person", "account", "period", "status", "filed", "due", title="Disputes")
    for d in rows:
        late = d.status == DisputeStatus.OPEN and d.due_at < now
        table.add_row(str(d.id), d.kind, str(d.person_id), d.furnisher_account_id or "", d.reporting_period or "",
                      d.outcome or d.status, f"{d.filed_at:%Y-%m-%d}",
                      f"[bold red]{d.due_at:%Y-%m-%d}[/]" if late else f"{d.due_at:%Y-%m-%d}")
    print_table(table, console)


@app.command("statement")
@reports_errors
def statement(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's id.")],
    id_type: Annotated[str, typer.Option(help="CN_RESIDENT_ID, PASSPORT or OTHER.")],
    id_number: Annotated[str, typer.Option(help="The person's identity number (checked at the counter).")],
    text: Annotated[str, typer.Option(help="The person's statement, 200 characters at most.")],
) -> None:
    """Add the person's statement to a disputed account: shown on every later report of it."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        investigation.add_statement(session, vault=runtime.vault, principal=audit.terminal_operator(),
                                    subject=Subject(id_type=id_type, id_number=id_number), dispute_id=dispute_id,
                                    statement=text)
    console.print(f"Statement added to dispute {dispute_id}")


@app.command("resolve")
@reports_errors
def resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's id.")],
    outcome: Annotated[DisputeOutcome, typer.Option(help="corrected, verified or deleted.")],
) -> None:
    """Close a dispute with its outcome."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        dispute = service.resolve_dispute(session, vault=runtime.vault, principal=audit.terminal_operator(),
                                          dispute_id=dispute_id, outcome=outcome)
    console.print(f"Dispute {dispute.id} resolved: {dispute.outcome}")
