"""``openbureau quality``: data-quality scorecards and market statistics (operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from openbureau.audit.service import terminal_operator
from openbureau.cli.batch import check_batch_engine, spark_of
from openbureau.cli.console import console, reports_errors
from openbureau.kit.db import session_scope
from openbureau.policy import MAX_WINDOW_MONTHS
from openbureau.present.money import money
from openbureau.present.quality import html_report
from openbureau.quality import service
from openbureau.runtime import open_runtime

app = typer.Typer(help="Data-quality scorecards per furnisher and market statistics.", no_args_is_help=True)


@app.callback()
def quality() -> None:
    """Data-quality scorecards per furnisher and market statistics (docs/quality.md)."""


WIDE = 160  # columns from which every metric is a column of the scorecard table
GRADE_STYLE = {"A": "bold green", "B": "green", "C": "yellow", "D": "dark_orange", "E": "bold red"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


@app.command("report")
@reports_errors
def report(
    period: Annotated[str | None, typer.Option(help="Reporting period YYYY-MM (default: the latest).")] = None,
    months: Annotated[int | None, typer.Option(
        min=1, max=MAX_WINDOW_MONTHS, help="Periods in the window, ending at --period (default: the bureau's "
        "window, OPENBUREAU_QUALITY_WINDOW_MONTHS, 12 unless set; the API's and the demo's grades use it too).")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write a self-contained HTML page with charts.")] = None,
    k: Annotated[int | None, typer.Option(help="Minimum persons per market cell.")] = None,
    batch_engine: Annotated[str | None, typer.Option(
        "--engine", help="Where the scorecards' figures over the account states and the market statistics' "
        "group-bys run: duckdb (this machine, in process) or spark (OPENBUREAU_SPARK_MASTER); default: "
        "OPENBUREAU_BATCH_ENGINE.",
        callback=check_batch_engine)] = None,
) -> None:
    """Print every furnisher's scorecard and grade, the anomaly flags and the market summary."""
    runtime, operator = open_runtime(), terminal_operator()
    spark = spark_of(runtime, batch_engine)
    with session_scope(runtime.engine) as session:
        cards = service.scorecards(session, principal=operator, policy=runtime.policy, period=period,
                                   months=months, spark=spark)
        market = service.market(session, principal=operator, policy=runtime.policy, period=cards.period, k=k,
                                spark=spark)
    names = [m.name for m in cards.scorecards[0].metrics] if cards.scorecards else []
    ranked = sorted(cards.scorecards, key=lambda c: -(c.score or 0))
    title = f"Data quality, {cards.periods[0]} to {cards.period} (failure rates)"
    wide = console.width >= WIDE
    table = Table("furnisher", "grade", "score", *(names if wide else []), "consent", "records", "top code", title=title,
                  box=box.HEAVY_HEAD if wide else box.SIMPLE)
    for c in ranked:
        top = f"{c.top_codes[0].code} ({c.top_codes[0].records})" if c.top_codes else ""
        grade = f"[{GRADE_STYLE.get(c.grade or '', '')}]{c.grade or '–'}[/]"
        table.add_row(c.furnisher, grade, f"{c.score:.3f}" if c.score is not None else "–",
                      *([_pct(m.rate) for m in c.metrics] if wide else []), _pct(c.consent_coverage),
                      f"{c.records_received:,}", top)
    console.print(table)
    if not wide:  # a narrow terminal: the rates get a table of their own, metrics numbered
        rates = Table("furnisher", *(str(i) for i in range(1, len(names) + 1)), box=box.SIMPLE, padding=(0, 1))
        for c in ranked:
            rates.add_row(c.furnisher, *[_pct(m.rate) for m in c.metrics])
        console.print(rates)
        console.print("Metrics: " + ", ".join(f"{i} {n}" for i, n in enumerate(names, 1)), highlight=False)
    for c in cards.scorecards:
        for a in c.anomalies:
            console.print(f"[bold yellow]flag[/] {a.furnisher} {a.reporting_period} {a.rule}: {a.message}")
    under = Table("furnisher", "finding", "count", "rate", "baseline", "flag", "examples (masked)",
                  title="Under-reporting: evidence beside the files (docs/quality.md)", box=box.SIMPLE)
    for c in cards.scorecards:
        for u in c.under_reporting:
            under.add_row(c.furnisher, u.code, f"{u.count:,} of {u.observations:,}", _pct(u.rate), _pct(u.baseline),
                          "[bold red]flagged[/]" if u.flagged else "", ", ".join(u.examples))
    if under.row_count:
        console.print(under)
    shares = Table("furnisher", "accounts", "balance (yuan)", "credit share", "short-term share", "90+ dpd",
                   title=f"Market {market.period} (HHI credit {market.hhi_credit}, short-term "
                         f"{market.hhi_short_term}; cells under {market.k} persons suppressed)")
    for m in market.by_furnisher:
        shares.add_row(m.furnisher or "", "–" if m.accounts is None else f"{m.accounts:,}",
                       money(m.balance, decimals=0), _pct(m.credit_share),
                       _pct(m.short_term_share), _pct(m.delinquent_90_rate))
    console.print(shares)
    console.print("Borrowers with 3+/5+/10+ lenders: " + ", ".join(
        "–" if m.persons is None else f"{m.persons:,}" for m in market.multi_lending))
    if market.funder_exposure:
        exposure = Table("funder", "facilitator", "loans", "balance (yuan)", "funded (yuan)", "past due",
                         title=f"Funders' exposure to facilitators' loans, {market.period}", box=box.SIMPLE)
        for e in market.funder_exposure:
            exposure.add_row(e.funder, e.facilitator, "–" if e.loans is None else f"{e.loans:,}",
                             money(e.balance, decimals=0), money(e.funded_balance, decimals=0),
                             _pct(e.past_due_share))
        console.print(exposure)
    console.print(f"Computed in {cards.seconds:.2f} s (scorecards) + {market.seconds:.2f} s (market)")
    if html is not None:
        html.write_text(html_report(cards, market), encoding="utf-8")
        console.print(f"HTML report: {html}")
