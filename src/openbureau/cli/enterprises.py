"""``openbureau enterprises report``: an enterprise's report for a member, from the terminal (standard v1.1:
logged as the member's inquiry and audited, as the API's ``GET /v1/enterprises/{uscc}/report``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli.console import console, reports_errors
from openbureau.consent.profiles import Purpose
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.present.money import money
from openbureau.principals import Principal
from openbureau.reports.enterprise import enterprise_report
from openbureau.reports.enterprise_schemas import EnterpriseInquiryResult
from openbureau.runtime import open_runtime

app = typer.Typer(help="Enterprise borrowers: an enterprise's report for a member.", no_args_is_help=True)


def print_enterprise_report(result: EnterpriseInquiryResult) -> None:
    """The report on the terminal: the enterprise, its totals and its accounts across lenders."""
    report = result.report
    if report is None:
        console.print(f"Inquiry {result.inquiry_id}: the bureau holds no accounts of this enterprise.")
        return
    s = report.summary
    console.rule(f"[bold]Enterprise report[/] · {report.enterprise_name} · {report.enterprise_uscc}")
    console.print(f"{s.open_accounts} open of {s.credit_accounts} credit accounts at {s.distinct_lenders} lenders, "
                  f"balances {money(s.total_balance)}, past due {money(s.past_due_amount)}, worst status "
                  f"{s.worst_status}", soft_wrap=True, highlight=False)
    table = Table("lender", "account", "product", "opened", "balance", "past due", "status", "period", "history")
    for a in report.accounts:
        table.add_row(a.lender, a.account_number or "–", a.product_type, str(a.opened_on), money(a.balance),
                      money(a.past_due_amount), f"{a.account_status} {a.payment_status}", a.reporting_period,
                      a.payment_history)
    console.print(table)
    console.print(f"Inquiry {result.inquiry_id} ({result.purpose}) logged.", highlight=False)


@app.command("report")
@reports_errors
def report(
    uscc: Annotated[str, typer.Argument(help="The enterprise's unified social credit code (18 characters).")],
    member: Annotated[str, typer.Option("--member", help="The member asking (a subscriber).")],
    purpose: Annotated[Purpose, typer.Option(help="Why the member looks.")] = Purpose.LOAN_ORIGINATION,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """An enterprise's accounts across lenders as ``member`` sees them; logged as its inquiry and audited."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        principal = Principal.of_member(get_member(session, code=member))
        result = enterprise_report(session, vault=runtime.vault, principal=principal, uscc=uscc, purpose=purpose,
                                   policy=runtime.policy)
    if as_json:
        console.print_json(result.model_dump_json())
    else:
        print_enterprise_report(result)
