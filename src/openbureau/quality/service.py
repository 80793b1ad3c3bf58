"""Rules of the quality domain: who may see which scorecard, and the shape of what they see."""

from __future__ import annotations

import re

import polars as pl
from sqlalchemy.orm import Session

from openbureau.identity.service import conflicts_by_furnisher
from openbureau.intake.events.reconcile import discrepancy_counts
from openbureau.kit.errors import PERIOD_NOT_FOUND, NotFound, Unprocessable
from openbureau.kit.spark import SparkOptions
from openbureau.members.repository import MemberRepository
from openbureau.policy import MAX_WINDOW_MONTHS, Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.quality import figures, grades, under_reporting
from openbureau.quality.anomalies import describe
from openbureau.quality.market import SHORT_TERM_MAX_MONTHS, suppress
from openbureau.quality.schemas import (
    Anomaly,
    BorrowerTypeCell,
    CodeCount,
    ExposureCell,
    MarketCell,
    MarketReport,
    MetricResult,
    MultiLending,
    Scorecard,
    ScorecardReport,
    UnderReportingCell,
    UnderReportingFinding,
)

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SHORT_TERM_TEXT = (f"revolving lines, credit cards, BNPL and instalment loans of at most {SHORT_TERM_MAX_MONTHS} "
                   "months")


def _period(session: Session, period: str | None) -> str:
    if period is not None and not PERIOD.match(period):
        raise Unprocessable("period must be YYYY-MM", code="INVALID_PERIOD", field="period")
    known = figures.period_range(session.connection())
    if known is None or (period is not None and not known[0] <= period <= known[1]):
        raise NotFound(f"no loaded file describes {period or 'any period'}", code=PERIOD_NOT_FOUND, field="period")
    return period or known[1]


def scorecards(session: Session, *, principal: Principal, policy: Policy, period: str | None = None,
               months: int | None = None, spark: SparkOptions | None = None) -> ScorecardReport:
    """Scorecards over the ``months`` periods ending at ``period`` (default: the latest): every furnisher's
    for the regulator and the operator, its own for a furnisher. ``months`` defaults to the policy's window
    (``policy.quality.window_months``), the one default every adapter shares. With ``spark``, the figures over
    the account states run on Spark; the scorecards are the same."""
    sees = authorize(principal, Action.READ_ALL_SCORECARDS, Action.READ_OWN_SCORECARD,
                     message="scorecards are for the regulator, the operator and furnishers")
    months = policy.quality.window_months if months is None else months
    if not 1 <= months <= MAX_WINDOW_MONTHS:
        raise Unprocessable(f"months must be between 1 and {MAX_WINDOW_MONTHS}", code="INVALID_MONTHS",
                            field="months")
    period = _period(session, period)
    own = None if sees is Action.READ_ALL_SCORECARDS else principal.member_id
    run = figures.run_quality(session.connection(), period=period, months=months, furnisher_id=own,
                              settings=policy.quality, spark=spark)
    report = to_report(run, months=months)
    # Identity conflicts the resolver charged to each furnisher's data (reported beside the grade).
    codes = {m.id: m.code for m in MemberRepository(session).all()}
    charged = {codes[f]: sum(kinds.values()) for f, kinds in conflicts_by_furnisher(session).items() if f in codes}
    contradicted: dict[str, int] = {}
    for (furnisher_id, _), count in discrepancy_counts(session).items():
        if furnisher_id in codes:
            contradicted[codes[furnisher_id]] = contradicted.get(codes[furnisher_id], 0) + count
    found = under_reporting_findings(figures.run_under_reporting(session.connection(), period=period, months=months))
    for card in report.scorecards:
        card.identity_conflicts = charged.get(card.furnisher, 0)
        card.event_discrepancies = contradicted.get(card.furnisher, 0)
        card.under_reporting = found.get(card.furnisher, [])
    return report


def under_reporting_findings(run: figures.UnderReportingRun) -> dict[str, list[UnderReportingFinding]]:
    """furnisher code -> its under-reporting findings, each with up to three masked examples."""
    examples: dict[tuple[str, str], list[str]] = {}
    for e in run.examples.iter_rows(named=True):
        examples.setdefault((e["furnisher"], e["code"]), []).append(f"{e['reference']} ({e['on']:%Y-%m-%d})")
    out: dict[str, list[UnderReportingFinding]] = {}
    for r in run.findings.iter_rows(named=True):
        message = under_reporting.describe(r["code"], r["count"], r["observations"], r["rate"], r["baseline"],
                                           r["lower"], r["threshold"], r["flagged"])
        out.setdefault(r["furnisher"], []).append(UnderReportingFinding(
            **{k: r[k] for k in UnderReportingFinding.model_fields if k in r},
            examples=examples.get((r["furnisher"], r["code"]), []), message=message))
    return out


def to_report(run: figures.QualityRun, *, months: int) -> ScorecardReport:
    """The API shape of a quality run."""
    flags: dict[str, list[Anomaly]] = {}
    for a in run.anomalies.iter_rows(named=True):
        flags.setdefault(a["furnisher"], []).append(Anomaly(
            furnisher=a["furnisher"], reporting_period=a["reporting_period"], rule=a["rule"], field=a["field"],
            value=a["value"], baseline=a["baseline"], threshold=a["threshold"], observations=a["observations"],
            message=describe(a["rule"], a["field"], a["value"], a["baseline"], a["threshold"])))
    cards = []
    for row in run.scorecards.iter_rows(named=True):
        metrics = [MetricResult(name=name, rate=row[f"{name}_rate"], score=row[f"{name}_score"], weight=rule.weight,
                                tolerance=rule.tolerance, description=rule.description)
                   for name, rule in grades.RULES.items()]
        cards.append(Scorecard(
            furnisher=row["furnisher"], period_from=row["period_from"], period_to=row["period_to"],
            periods=row["periods"], files=row["files"], late_files=row["late_files"],
            max_days_to_submit=row["max_days_to_submit"], records_received=row["records_received"],
            records_rejected=row["records_rejected"], accounts_stored=row["accounts"],
            consent_coverage=row["consent_coverage"], vanished_accounts=row["vanished"],
            impossible_moves=row["status_jumps"] + row["reopened"] + row["balance_jumps"],
            score=row["score"], grade=row["grade"], metrics=metrics,
            top_codes=[CodeCount(**c) for c in row["top_codes"] or []], anomalies=flags.get(row["furnisher"], [])))
    return ScorecardReport(period=run.period, months=months, periods=run.periods,
                           bands={letter: floor for letter, floor in grades.BANDS},
                           seconds=round(run.seconds, 3), scorecards=cards)


def market(session: Session, *, principal: Principal, policy: Policy, period: str | None = None,
           k: int | None = None, include_held: bool = False, spark: SparkOptions | None = None) -> MarketReport:
    """Market statistics of ``period`` for the regulator and the operator; ``k`` may only raise the bureau's
    minimum cell size (``policy.quality.min_cell_persons``), never lower it. With ``spark`` (the batch engine
    ``spark``: ``Settings.spark_options()``), the market's group-bys run on Spark; the tables are the same."""
    authorize(principal, Action.READ_MARKET, message="market statistics are for the regulator and the operator")
    floor = policy.quality.min_cell_persons
    if k is not None and k < floor:
        raise Unprocessable(f"k may not be below the bureau's minimum of {floor}", code="K_TOO_SMALL", field="k")
    period = _period(session, period)
    run = figures.run_market(session.connection(), period=period, k=k or floor, include_held=include_held,
                             spark=spark)
    report = to_market_report(run, k=k or floor, include_held=include_held)
    found = figures.run_under_reporting(session.connection(), period=period, months=policy.quality.window_months)
    report.under_reporting_periods = found.periods
    report.under_reporting = under_reporting_cells(found, k=k or floor)
    report.funder_exposure = [ExposureCell(**row) for row in figures.run_exposure(
        session.connection(), period=period, k=k or floor, include_held=include_held).iter_rows(named=True)]
    return report


def market_series(session: Session, *, principal: Principal, policy: Policy, months: int) -> dict[str, MarketReport]:
    """The market statistics of the last ``months`` reporting periods the bureau holds a file of, oldest first
    (the newest, and those of its under-reporting window that are loaded: a window reaching before the first
    file shows the months held, not an error for the others)."""
    latest = market(session, principal=principal, policy=policy)
    known = figures.period_range(session.connection())
    window = [p for p in latest.under_reporting_periods if known[0] <= p < latest.period][-(months - 1):] \
        if months > 1 else []
    series = {p: market(session, principal=principal, policy=policy, period=p) for p in window}
    series[latest.period] = latest
    return series


def under_reporting_cells(run: figures.UnderReportingRun, *, k: int) -> list[UnderReportingCell]:
    """Per-furnisher under-reporting figures for the regulator: the figures of a count about fewer than ``k``
    persons (but at least one) are blanked, as the market tables' cells are (the flag stays: it is about the
    furnisher)."""
    cells = suppress(run.findings, k=k, columns=("observations", "count", "persons", "rate", "baseline", "excess"))
    names = set(UnderReportingCell.model_fields)
    return [UnderReportingCell(**{c: v for c, v in row.items() if c in names})
            for row in cells.sort("furnisher", "code").iter_rows(named=True)]


def _cells(frame: pl.DataFrame) -> list[MarketCell]:
    names = set(MarketCell.model_fields)
    return [MarketCell(**{c: v for c, v in row.items() if c in names}) for row in frame.iter_rows(named=True)]


def to_market_report(run: figures.MarketRun, *, k: int, include_held: bool) -> MarketReport:
    """The API shape of a market run."""
    t = run.tables
    return MarketReport(
        period=run.period, k=k, include_held=include_held, short_term_definition=SHORT_TERM_TEXT,
        accounts=t["accounts"], borrowers=t["borrowers"], hhi_credit=t["hhi_credit"],
        hhi_short_term=t["hhi_short_term"], by_furnisher=_cells(t["by_furnisher"]),
        by_product=_cells(t["by_product"]), by_furnisher_product=_cells(t["by_furnisher_product"]),
        multi_lending=[MultiLending(**r) for r in t["multi_lending"].iter_rows(named=True)],
        by_borrower_type=[BorrowerTypeCell(**r) for r in t["by_borrower_type"].iter_rows(named=True)],
        seconds=round(run.seconds, 3))
