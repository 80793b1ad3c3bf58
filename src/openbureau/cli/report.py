"""``openbureau report``: a person's own credit report, for the operator serving them at the bureau (audited);
``openbureau retention run``: purge negative information past its retention period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, reports_errors
from openbureau.consent.schemas import Subject
from openbureau.intake.tasks import purge_kept_files
from openbureau.kit.db import session_scope
from openbureau.members.console import purge_ended as purge_ended_console_sessions
from openbureau.members.service import list_members
from openbureau.people.service import purge_ended_sessions
from openbureau.present.fonts import cjk_font_warning
from openbureau.present.money import money
from openbureau.present.report import SIGNAL_NAMES, render_html, render_pdf
from openbureau.reports import service
from openbureau.reports.schemas import Report
from openbureau.runtime import open_runtime
from openbureau.tradelines.tasks import run_retention

GRID_STYLE = {"N": "green", "C": "blue", "G": "blue", "*": "dim", "/": "dim", "#": "yellow", "1": "yellow",
              "2": "dark_orange", "3": "red", "4": "red", "5": "bold red", "6": "bold red", "7": "bold red",
              "D": "magenta", "Z": "magenta"}
GRID_LEGEND = ("N paid as agreed; 1-7 months past due; C settled; G ended otherwise; D paid by the guarantor; "
               "Z repaid with assets; * nothing due that month; # not yet published; / no record")
WIDE = 120  # columns from which the repayment record is a column of the accounts table
SEVERITY_STYLE = {"none": "green", "low": "yellow", "medium": "dark_orange", "high": "bold red"}


def _grid(history: str) -> Text:
    text = Text()
    for ch in history:
        text.append(ch, style=GRID_STYLE.get(ch, ""))
    return text


def print_report(report: Report) -> None:
    """The report on the terminal: identity, summary, signals, accounts with their repayment grids, inquiries."""
    p, s = report.person, report.summary
    console.rule(f"[bold]Credit report[/] · {p.id_type} {p.id_number} · as of {report.as_of_period}")
    for label, items in (("names", p.names), ("birth dates", p.birth_dates), ("phones", p.phones),
                         ("addresses", p.addresses)):
        shown = "; ".join(f"{v.value} ({v.first_reported}–{v.last_reported})" for v in items) or "–"
        console.print(f"[bold]{label}:[/] {shown}", soft_wrap=True, highlight=False)
    console.print(f"[bold]Summary[/] ({s.currency}): {s.open_accounts} open credit accounts at {s.distinct_lenders} "
                  f"lenders, balances {money(s.total_balance)}, revolving limits {money(s.total_credit_limit)} "
                  f"({'–' if s.utilisation is None else f'{s.utilisation:.0%}'} used), due this month "
                  f"{money(s.monthly_obligations)}, past due {money(s.past_due_amount)}, worst status "
                  f"{s.worst_status_12m} (12 m) / {s.worst_status_24m} (24 m)", soft_wrap=True, highlight=False)
    if report.score is not None:
        sc = report.score
        if sc.scorable:
            console.print(f"[bold]Score {sc.score}[/] ({sc.band}, scale {sc.scale}, model {sc.model_version}): "
                          + "; ".join(f"{r.text} ({r.code})" for r in sc.reasons), soft_wrap=True, highlight=False)
            for tip in (sc.improvements or [])[:4]:
                console.print(f"  [green]↑[/] {tip.advice} (up to {tip.points:.0f} points)", highlight=False)
        else:
            console.print(f"[bold]No score[/]: {sc.unscorable_reason}", highlight=False)
    if report.fraud_score is not None:
        fs = report.fraud_score
        console.print(f"[bold]Fraud-risk score {fs.score}[/] ({fs.band} risk, scale {fs.scale}, higher means more risk; "
                      f"model {fs.model_version}): " + ("; ".join(f"{r.text} ({r.code})" for r in fs.reasons)
                                                        or "every factor at its lowest risk"),
                      soft_wrap=True, highlight=False)
    for sig in report.signals:
        console.print(f"[{SEVERITY_STYLE[sig.severity.value]}]●[/] [bold]{SIGNAL_NAMES[sig.code.value]}[/]: "
                      f"{sig.explanation}", soft_wrap=True, highlight=False)
    accounts = [*report.accounts, *report.obligations]
    wide = console.width >= WIDE
    table = Table("#", "furnisher", "product", "opened", "balance", "status",
                  *(["repayment record (oldest first)"] if wide else []),
                  title=f"Accounts ({len(report.accounts)} credit, {len(report.obligations)} other)")
    for i, a in enumerate(accounts, 1):
        furnisher = getattr(a, "lender", None) or getattr(a, "provider", "")
        table.add_row(str(i), furnisher, a.product_type, str(a.opened_on), money(a.balance),
                      f"{a.account_status} {a.payment_status}" + (" [yellow]disputed[/]" if a.disputed else ""),
                      *([_grid(a.payment_history)] if wide else []))
    console.print(table)
    if not wide:  # the records folded under the table, one line each: a narrow terminal keeps them whole
        console.print(f"[bold]Repayment records[/] (oldest month first, from {accounts[0].payment_history_start})"
                      if accounts else "", highlight=False)
        for i, a in enumerate(accounts, 1):
            console.print(Text(f"{i:>3} ").append_text(_grid(a.payment_history)), soft_wrap=True)
    console.print(f"[dim]{GRID_LEGEND}[/]", highlight=False)
    if report.recent_loans:
        recent = Table("lender", "product", "opened", "lent", "monthly", "status", "last event",
                       title=f"Loans opened since the last monthly file ({len(report.recent_loans)})")
        for loan in report.recent_loans:
            recent.add_row(loan.lender, loan.product_type or "", str(loan.opened_on or ""), money(loan.amount),
                           money(loan.monthly_amount), loan.status + (f" ({loan.days_past_due} days late)"
                                                                      if loan.days_past_due else ""),
                           loan.reported_at.strftime("%Y-%m-%d %H:%M"))
        console.print(recent)
    inquiries = Table("when", "who", "purpose", "kind", "basis", title=f"Who looked ({len(report.inquiries)})")
    for q in report.inquiries:
        inquiries.add_row(q.at.strftime("%Y-%m-%d %H:%M"), q.lender, q.purpose, "hard" if q.hard else "soft",
                          q.basis or "")
    console.print(inquiries)
    for d in report.disputes:
        console.print(f"[bold yellow]dispute {d.id}[/] {d.kind} {d.lender or ''} {d.account_number or ''}: "
                      f"answer due {d.due_at.date()}" + (" [red](not answered in time: the item is not shown)[/]"
                                                         if d.overdue else ""))
    for a in accounts:
        for text in a.consumer_statements:
            console.print(f"[bold]statement[/] on {a.account_number or a.product_type}: {text}", highlight=False)
    for al in report.fraud_alerts:
        console.print(f"[bold red]fraud alert[/] ({al.kind}, until {al.expires_at.date()}): {al.instruction}",
                      soft_wrap=True, highlight=False)
    if report.security_freeze:
        console.print("[bold red]security freeze[/]: reports for new credit are refused", highlight=False)
    for f in report.identity_flags:
        console.print(f"[bold yellow]identity flag[/] {f.kind} ({f.lender or ''}): {f.explanation}")
    if report.matched_records:
        linked = Table("lender", "account", "linked", "how", "probability", "agreeing",
                       title=f"Records linked by probabilistic matching ({len(report.matched_records)})")
        for m in report.matched_records:
            linked.add_row(m.lender, m.account_number, m.linked_at.strftime("%Y-%m-%d"), m.method,
                           "–" if m.match_probability is None else f"{m.match_probability:.4f}", ", ".join(m.agreeing))
        console.print(linked)
    for note in report.notes:
        console.print(f"[dim]{note}[/]", soft_wrap=True)


@reports_errors
def report(
    id_type: Annotated[str, typer.Option(help="CN_RESIDENT_ID, PASSPORT or OTHER.")],
    id_number: Annotated[str, typer.Option(help="The person's identity number (checked at the counter).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON (docs/report-schema.json).")] = False,
    html: Annotated[Path | None, typer.Option(help="Write the report as a self-contained HTML page.")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Write the report as a PDF.")] = None,
    months: Annotated[int, typer.Option(min=1, max=60, help="Months of repayment record per account.")] = 24,
) -> None:
    """The person's own report, everything shown (an operator serving the person: logged and audited)."""
    subject = Subject(id_type=id_type, id_number=id_number)  # refused before any bureau is opened
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        result = service.own_report(session, vault=runtime.vault, subject=subject,
                                    principal=audit.terminal_operator(), policy=runtime.policy,
                                    history_months=months)
    if json_out:
        print(result.model_dump_json(indent=2))
        return
    if html is None and pdf is None:
        print_report(result)
    if (html is not None or pdf is not None) and (font := cjk_font_warning()) is not None:
        err_console.print(f"[yellow]warning[/] {font}", soft_wrap=True, highlight=False)
    if html is not None:
        html.write_text(render_html(result), encoding="utf-8")
        err_console.print(f"HTML report: {html}")
    if pdf is not None:
        with err_console.status("rendering the PDF"):
            pdf.write_bytes(render_pdf(result))
        err_console.print(f"PDF report: {pdf}")


retention_app = typer.Typer(help="Retention of negative information and of kept files.", no_args_is_help=True)


@retention_app.command("run")
@reports_errors
def retention_run(
    as_of: Annotated[str | None, typer.Option(help="Date to measure retention at, YYYY-MM-DD (default: today).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")] = False,
) -> None:
    """Delete negative information older than the profile's retention period after its adverse event ended,
    the kept files of submissions loaded more than OPENBUREAU_KEPT_FILE_DAYS ago, and the rows of sign-in
    sessions and challenges over more than OPENBUREAU_SESSION_RECORD_DAYS ago."""
    try:
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be YYYY-MM-DD, not {as_of!r}") from exc
    runtime = open_runtime()
    profile = runtime.policy.profile
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,} accounts"),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("examining accounts with old negative information", total=None)
        run = run_retention(runtime.engine, as_of=day, retention_years=profile.negative_retention_years,
                            actor_code=audit.operator_code(), dry_run=dry_run,
                            progress=lambda n: bar.update(task, advance=n))
    with session_scope(runtime.engine) as session:
        codes = {m.id: m.code for m in list_members(session)}
    verb = "would delete" if dry_run else "deleted"
    console.print(f"Retention ({profile.code}: {profile.negative_retention_years} years after the adverse event "
                  f"ended), as of {day}: examined {run.accounts_examined:,} accounts with negative information up to "
                  f"{run.latest_expirable_period}; {verb} {run.months_expired:,} expired months"
                  + ("" if dry_run else f" ({run.rows_deleted:,} stored versions)") + f" in {run.seconds:.1f} s",
                  soft_wrap=True, highlight=False)
    for furnisher_id, months in sorted(run.by_furnisher.items()):
        console.print(f"  {codes.get(furnisher_id, furnisher_id)}: {months:,} months")
    with session_scope(runtime.engine, write=True) as session:
        kept = purge_kept_files(session, settings=runtime.settings, now=datetime.combine(day, datetime.min.time(), UTC),
                                actor_code=audit.operator_code(), dry_run=dry_run)
    console.print(f"Kept files ({kept.kept_file_days} days after their load): {verb} the files of "
                  f"{kept.submissions:,} submissions" + ("" if dry_run else f" ({kept.bytes_freed:,} bytes)"),
                  soft_wrap=True, highlight=False)
    days = runtime.settings.session_record_days
    before = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=days)
    with session_scope(runtime.engine, write=True) as session:
        persons, challenges = purge_ended_sessions(session, before=before, actor_code=audit.operator_code(),
                                                   dry_run=dry_run)
        consoles = purge_ended_console_sessions(session, before=before, actor_code=audit.operator_code(),
                                                dry_run=dry_run)
    console.print(f"Sign-in records ({days} days after they ended): {verb} {persons:,} persons' sessions, "
                  f"{challenges:,} sign-in challenges and {consoles:,} console sessions", soft_wrap=True,
                  highlight=False)
