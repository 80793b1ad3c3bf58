"""``openbureau protections``: fraud alerts, security freezes and identity-theft reports, placed and lifted by
the operator at the terminal at the person's request (identity checked at the counter); every step audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.rights import service
from openbureau.rights.models import AlertKind
from openbureau.rights.schemas import BlockedAccount
from openbureau.runtime import open_runtime

app = typer.Typer(help="Fraud alerts, security freezes and identity-theft blocks, at the person's request.",
                  no_args_is_help=True)
IdType = Annotated[str, typer.Option(help="CN_RESIDENT_ID, PASSPORT or OTHER.")]
IdNumber = Annotated[str, typer.Option(help="The person's identity number (checked at the counter).")]


def _run(call, id_type: str, id_number: str, **kwargs):
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        return call(session, vault=runtime.vault, principal=audit.terminal_operator(),
                    subject=Subject(id_type=id_type, id_number=id_number), **kwargs)


@app.command("show")
@reports_errors
def show(id_type: IdType, id_number: IdNumber) -> None:
    """Everything protecting the person's file, and what is in force now."""
    seen = _run(service.protections, id_type, id_number)
    console.print(f"fraud alert in force: {'yes' if seen.fraud_alert_in_force else 'no'}; "
                  f"frozen for new credit: {'yes' if seen.frozen else 'no'}", highlight=False)
    table = Table("what", "id", "from", "until", "by", title="Protections")
    for a in seen.fraud_alerts:
        table.add_row(f"{a.kind} alert", str(a.id), f"{a.placed_at:%Y-%m-%d}",
                      f"{(a.removed_at or a.expires_at):%Y-%m-%d}" + (" (removed)" if a.removed_at else ""), a.placed_by)
    for f in seen.freezes:
        table.add_row("freeze", str(f.id), f"{f.placed_at:%Y-%m-%d}",
                      f"{f.removed_at:%Y-%m-%d} (removed)" if f.removed_at else "", f.placed_by)
        for lift in f.lifts:
            table.add_row("  lifted", "", f"{lift.starts_at:%Y-%m-%d %H:%M}", f"{lift.ends_at:%Y-%m-%d %H:%M}", "")
    for r in seen.identity_theft_reports:
        table.add_row("identity-theft report", str(r.id), f"{r.filed_at:%Y-%m-%d}", "", r.report_ref)
    print_table(table, console)


@app.command("alert")
@reports_errors
def alert(id_type: IdType, id_number: IdNumber,
          kind: Annotated[AlertKind, typer.Option(help="initial (1 year) or extended (7 years).")] = AlertKind.INITIAL,
          theft_report: Annotated[str | None, typer.Option(help="The identity-theft report's reference (extended).")]
          = None) -> None:
    """Place a fraud alert."""
    placed = _run(service.place_fraud_alert, id_type, id_number, kind=kind, identity_theft_report_ref=theft_report)
    console.print(f"Fraud alert {placed.id} ({placed.kind}) in force until {placed.expires_at:%Y-%m-%d}")


@app.command("remove-alert")
@reports_errors
def remove_alert(alert_id: Annotated[int, typer.Argument(min=1)], id_type: IdType, id_number: IdNumber) -> None:
    """Remove a fraud alert before it expires."""
    _run(service.remove_fraud_alert, id_type, id_number, alert_id=alert_id)
    console.print(f"Fraud alert {alert_id} removed")


@app.command("freeze")
@reports_errors
def freeze(id_type: IdType, id_number: IdNumber) -> None:
    """Freeze the file: inquiries for new credit are refused until it is lifted."""
    placed = _run(service.place_freeze, id_type, id_number)
    console.print(f"Freeze {placed.id} in force")


@app.command("lift")
@reports_errors
def lift(freeze_id: Annotated[int, typer.Argument(min=1)], id_type: IdType, id_number: IdNumber,
         starts: Annotated[datetime | None, typer.Option(help="Start of the window (UTC; default now).")] = None,
         ends: Annotated[datetime | None, typer.Option(help="End of the window (UTC, excluded); none: remove the "
                                                             "freeze for good.")] = None) -> None:
    """Lift a freeze for a window, or remove it."""
    def utc(moment: datetime | None) -> datetime | None:
        return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    _run(service.lift_freeze, id_type, id_number, freeze_id=freeze_id, starts_at=utc(starts), ends_at=utc(ends))
    console.print(f"Freeze {freeze_id} lifted until {ends:%Y-%m-%d %H:%M} UTC" if ends else
                  f"Freeze {freeze_id} removed")


@app.command("theft-report")
@reports_errors
def theft_report(id_type: IdType, id_number: IdNumber,
                 reference: Annotated[str, typer.Option(help="The report's reference at the authority.")],
                 account: Annotated[list[str], typer.Option(help="LENDER:ACCOUNT of an account that is not the "
                                                                 "person's (repeat).")]) -> None:
    """File an identity-theft report: the accounts it names leave every report."""
    accounts = []
    for item in account:
        lender, _, number = item.partition(":")
        if not (lender and number):
            raise typer.BadParameter(f"{item!r}: use LENDER:ACCOUNT", param_hint="--account")
        accounts.append(BlockedAccount(lender=lender, furnisher_account_id=number))
    report = _run(service.file_identity_theft_report, id_type, id_number, report_ref=reference, accounts=accounts)
    console.print(f"Identity-theft report {report.id} filed; {len(accounts)} account(s) blocked from every report")
