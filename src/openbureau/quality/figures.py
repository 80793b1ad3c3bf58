"""Quality and market figures: read what a report needs in bulk, then compute metrics, grades, anomalies and market
figures with Polars. No loop in Python per record; the only loops are over tables and rules."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection

from openbureau.kit.periods import shift_period
from openbureau.kit.spark import SparkOptions, spark_session
from openbureau.policy import QualitySettings
from openbureau.quality import anomalies, borrowers, exposure, grades, market, under_reporting
from openbureau.quality.metrics import (
    QualityFrames,
    StateFigures,
    attach_periods,
    compute_metrics,
    field_fill,
    state_figures,
)
from openbureau.quality.repository import QualityRepository


@dataclass(frozen=True, slots=True)
class QualityRun:
    """What the quality job computed for a window of periods."""

    period: str
    periods: list[str]
    metrics: pl.DataFrame  # per furnisher and period (metrics.compute_metrics)
    scorecards: pl.DataFrame  # per furnisher, pooled over ``periods`` (grades.scorecard_frame)
    anomalies: pl.DataFrame  # flags in ``periods`` (anomalies.detect)
    rows_read: int
    seconds: float


@dataclass(frozen=True, slots=True)
class UnderReportingRun:
    """The under-reporting findings of a window of periods (``quality.under_reporting``)."""

    period: str
    periods: list[str]
    findings: pl.DataFrame  # under_reporting.COLUMNS, with ``furnisher``
    examples: pl.DataFrame  # under_reporting.EXAMPLE_SCHEMA, with ``furnisher``
    rows_read: int
    seconds: float


@dataclass(frozen=True, slots=True)
class MarketRun:
    """What the market job computed for one period."""

    period: str
    tables: dict[str, object]
    rows_read: int
    seconds: float


def period_range(conn: Connection) -> tuple[str, str] | None:
    """The oldest and newest reporting periods the bureau holds a loaded file for (None: no file yet)."""
    repo = QualityRepository(conn)
    subs = attach_periods(repo.submissions(), repo.submission_periods())
    if subs.height == 0:
        return None
    return subs["reporting_period"].min(), subs["reporting_period"].max()


def latest_period(conn: Connection) -> str | None:
    """The newest reporting period the bureau holds a loaded file for."""
    known = period_range(conn)
    return known[1] if known else None


def load_frames(conn: Connection, *, since: str | None = None, until: str | None = None,
                furnisher_id: int | None = None, submissions: pl.DataFrame | None = None) -> QualityFrames:
    """Read members, loaded submissions (with periods), their record findings and account states in bulk.
    ``submissions``: the bureau's submissions with periods attached, when the caller has read them already."""
    repo = QualityRepository(conn)
    subs = submissions if submissions is not None else attach_periods(
        repo.submissions(furnisher_id=furnisher_id), repo.submission_periods())
    if furnisher_id is not None:
        subs = subs.filter(pl.col("furnisher_id") == furnisher_id)
    if since is not None:
        subs = subs.filter(pl.col("reporting_period") >= since)
    if until is not None:
        subs = subs.filter(pl.col("reporting_period") <= until)
    findings = repo.findings(submission_ids=subs["submission_id"].to_list())
    states = repo.states(since=since, until=until, furnisher_id=furnisher_id)
    return QualityFrames(members=repo.members(), submissions=subs, findings=findings, states=states)


def run_quality(conn: Connection, *, period: str, settings: QualitySettings, months: int = 1,
                furnisher_id: int | None = None, rules: anomalies.AnomalyRules | None = None,
                spark: SparkOptions | None = None) -> QualityRun:
    """Scorecards of the ``months`` periods ending at ``period``, and the anomaly flags in them.

    History before the window is read too (``rules.history`` periods more), for the previous month of the
    consistency and coverage metrics and for the anomaly baselines. Every metric is the furnisher's own, so
    the job reads and computes one furnisher at a time: memory is bounded by the largest furnisher's rows,
    not the bureau's. One clock (the latest arrival at the bureau) judges every furnisher's missing files.
    With ``spark``, the figures over the account states (`metrics.StateFigures`: the heavy scans) are
    computed on Spark for every furnisher at once, and each furnisher's files, grades and flags are finished
    here by the same code (tests/quality/test_spark_scorecards.py).
    """
    started = time.perf_counter()
    rules = rules or anomalies.AnomalyRules()
    periods = [shift_period(period, -i) for i in reversed(range(months))]
    repo = QualityRepository(conn)
    submissions = attach_periods(repo.submissions(furnisher_id=furnisher_id), repo.submission_periods())
    clock = submissions["received_at"].max()
    ids = sorted(submissions["furnisher_id"].unique().to_list())
    since = shift_period(period, -(months + rules.history))
    on_spark, rows = None, 0
    if spark is not None and ids:  # one read of every furnisher, each furnisher's part taken from it below
        from openbureau.quality import metrics_spark

        everyone = load_frames(conn, since=since, until=period, furnisher_id=furnisher_id, submissions=submissions)
        rows = everyone.states.height + everyone.findings.height + everyone.submissions.height
        with spark_session(spark) as session:
            on_spark = metrics_spark.state_figures(session, everyone)
    parts = []
    for fid in ids:
        if on_spark is None:
            frames = load_frames(conn, since=since, until=period, furnisher_id=fid, submissions=submissions)
            rows += frames.states.height + frames.findings.height + frames.submissions.height
        else:
            frames = everyone.of_furnisher(fid)
        parts.append(_one_furnisher(frames, periods=periods, period=period, clock=clock, settings=settings,
                                    rules=rules, figures=None if on_spark is None else on_spark.of(fid)))
    metrics, cards, flags = (pl.concat([p[i] for p in parts], how="diagonal_relaxed") if parts else None
                             for i in range(3))
    if metrics is None:
        empty = compute_metrics(load_frames(conn, since=period, until=period, submissions=submissions),
                                until=period)
        metrics, cards, flags = empty, grades.scorecard_frame(empty), pl.DataFrame(schema=anomalies.COLUMNS)
    return QualityRun(period=period, periods=periods, metrics=metrics, scorecards=cards.sort("furnisher"),
                      anomalies=flags, rows_read=rows, seconds=time.perf_counter() - started)


def _one_furnisher(frames: QualityFrames, *, periods: list[str], period: str, clock, settings: QualitySettings,
                   rules: anomalies.AnomalyRules, figures: StateFigures | None = None,
                   ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(metrics, scorecard, anomaly flags) of the one furnisher ``frames`` holds (its states' ``figures``
    when computed already)."""
    figures = figures or state_figures(frames)
    metrics = compute_metrics(frames, due_days=settings.due_days, late_cap_days=settings.late_cap_days,
                              as_of=clock, until=period, figures=figures)
    cards = grades.scorecard_frame(metrics.filter(pl.col("reporting_period").is_in(periods)))
    files = metrics.select("furnisher_id", "reporting_period", "files", "records_received")
    fill = field_fill(figures.fill, files, frames.findings, frames.submissions)
    flags = anomalies.detect(metrics, fill, rules).filter(pl.col("reporting_period").is_in(periods)).join(
        frames.members, on="furnisher_id", how="left")
    return metrics, cards, flags


def run_market(conn: Connection, *, period: str, k: int = 10, include_held: bool = False,
               spark: SparkOptions | None = None) -> MarketRun:
    """Market statistics of ``period`` (cells about fewer than ``k`` persons suppressed); with ``spark``, their
    group-bys run on Spark (the same tables)."""
    started = time.perf_counter()
    repo = QualityRepository(conn)
    states = repo.states(since=period, until=period)
    if spark is None:
        tables = market.market_statistics(states, repo.members(), period=period, k=k, include_held=include_held)
    else:
        from openbureau.quality import market_spark

        with spark_session(spark) as session:
            tables = market_spark.market_statistics(session, states, repo.members(), period=period, k=k,
                                                    include_held=include_held)
    tables["by_borrower_type"] = borrowers.borrower_types(conn, states, period=period, k=k, include_held=include_held)
    return MarketRun(period=period, tables=tables, rows_read=states.height, seconds=time.perf_counter() - started)


def run_exposure(conn: Connection, *, period: str, k: int, include_held: bool = False) -> pl.DataFrame:
    """Each funder's exposure to each facilitator's loans in ``period`` (``exposure.COLUMNS``), k-suppressed."""
    repo = QualityRepository(conn)
    return exposure.funder_exposure(repo.exposure(period=period), repo.members(), k=k, include_held=include_held)


def _month_start(period: str) -> datetime:
    return datetime(int(period[:4]), int(period[5:7]), 1, tzinfo=UTC)


def run_under_reporting(conn: Connection, *, period: str, months: int,
                        rules: under_reporting.UnderReportingRules | None = None) -> UnderReportingRun:
    """Under-reporting findings of every furnisher over the ``months`` periods ending at ``period``.

    Inquiries, events and consents are those of the window; each furnisher's accounts are read one furnisher
    at a time (from the period before the window: an account may open up to a month before its inquiry), and
    only what the window's end has filed counts (``last_filed`` is capped at ``period``).
    """
    started = time.perf_counter()
    rules = rules or under_reporting.UnderReportingRules()
    periods = [shift_period(period, -i) for i in reversed(range(months))]
    repo = QualityRepository(conn)
    members = repo.members()
    submissions = attach_periods(repo.submissions(), repo.submission_periods())
    last_filed = submissions.filter(pl.col("reporting_period") <= period).group_by("furnisher_id").agg(
        pl.col("reporting_period").max().alias("last_period"))
    since, until = _month_start(periods[0]), _month_start(shift_period(period, 1))
    inquiries = repo.hard_inquiries(since=since, until=until)
    events = repo.opened_events(since=since, until=until)
    consents = repo.furnish_consents(since=since, until=until)
    accounts, persons, refs = [], [], []
    consenting = set(consents["furnisher_id"].unique().to_list())
    for fid in sorted(last_filed["furnisher_id"].to_list()):
        accounts.append(repo.furnished_accounts(furnisher_id=fid, since=shift_period(periods[0], -1), until=period))
        if fid in consenting:
            seen, carried = repo.furnished_persons(furnisher_id=fid, until=period)
            persons.append(seen.to_frame().with_columns(pl.lit(fid, pl.Int64).alias("furnisher_id")))
            refs.append(carried.to_frame().with_columns(pl.lit(fid, pl.Int64).alias("furnisher_id")))
    account_frame = pl.concat(accounts, how="diagonal_relaxed") if accounts else pl.DataFrame(schema={
        "furnisher_account_id": pl.String, "person_id": pl.Int64, "opened_on": pl.Date, "last_period": pl.String,
        "furnisher_id": pl.Int64})
    window = {"since": periods[0], "until": period}
    claims = repo.joint_claims(**window)
    listings = repo.joint_listings(**window).join(
        members.rename({"furnisher": "facilitator"}), on="furnisher_id", how="left")
    inputs = under_reporting.UnderReportingInputs(
        claims=claims, listings=listings,
        accounts=account_frame, last_filed=last_filed, inquiries=inquiries, events=events, consents=consents,
        furnished=pl.concat(persons) if persons else pl.DataFrame(schema={"person_id": pl.Int64,
                                                                          "furnisher_id": pl.Int64}),
        furnished_refs=pl.concat(refs) if refs else pl.DataFrame(schema={"consent_ref": pl.String,
                                                                         "furnisher_id": pl.Int64}))
    findings, examples = under_reporting.under_reporting(inputs, rules)
    rows = sum(f.height for f in (account_frame, inquiries, events, consents, claims, listings, *persons, *refs))
    return UnderReportingRun(period=period, periods=periods,
                             findings=findings.join(members, on="furnisher_id", how="left"),
                             examples=examples.join(members, on="furnisher_id", how="left"),
                             rows_read=rows, seconds=time.perf_counter() - started)
