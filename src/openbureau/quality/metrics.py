"""Quality metrics per furnisher and reporting period, computed column-wise with Polars.

Every metric is kept as a numerator and a denominator so that a window of several periods is measured by
pooling (summing both) rather than by averaging rates of files of different sizes. ``grades.py`` turns the
pooled figures into failure rates, scores and a grade; docs/quality.md defines each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from openbureau.intake.standard import (
    INSTALLMENT_PRODUCTS,
    PAST_DUE_STATUSES,
    REQUIRED_COLUMNS,
    REVOLVING_PRODUCTS,
)

KEYS = ["furnisher_id", "reporting_period"]
ACCOUNT = ["furnisher_id", "furnisher_account_id"]
# A required field, or one the standard requires in context (a limit for a card, a notice before negative
# information under CN Art. 15, ...), left empty: the record is incomplete.
COMPLETENESS_CODES = ("REQUIRED_MISSING", "CREDIT_LIMIT_MISSING", "ORIGINAL_AMOUNT_MISSING", "TERM_MONTHS_MISSING",
                      "DELINQUENCY_DATE_MISSING", "CLOSED_DATE_MISSING", "NEGATIVE_NOTICE_MISSING")
IDENTITY_CODES = ("ID_FORMAT", "ID_CHECK_DIGIT", "ID_REGION", "ID_BIRTH_DATE_INVALID", "ID_BIRTH_DATE_MISMATCH",
                  "PASSPORT_FORMAT")
LIVE_STATUSES = ("open", "charged_off")  # accounts that must be reported again next month
SETTLED_STATUSES = ("C", "G", "D", "Z")  # final payment statuses: the account may stop being reported
NOT_CREDIT = ("utility", "telecom", "rent")  # bills paid, not credit: never delinquent credit
BUCKETS = {"N": 0, **{s: int(s) for s in PAST_DUE_STATUSES}}
# An instalment balance may grow by overdue interest and fees, not by more than this in a month.
BALANCE_JUMP_FACTOR, BALANCE_JUMP_SLACK = 1.10, 10_000


COUNTS_SCHEMA = {"furnisher_id": pl.Int64, "reporting_period": pl.String, "accounts": pl.Int64, "held": pl.Int64,
                 "live_credit": pl.Int64, "delinquent": pl.Int64}


@dataclass(frozen=True, slots=True)
class QualityFrames:
    """What the jobs read: members, loaded submissions (with their period), record findings, account states."""

    members: pl.DataFrame
    submissions: pl.DataFrame
    findings: pl.DataFrame
    states: pl.DataFrame

    def of_furnisher(self, furnisher_id: int) -> QualityFrames:
        """One furnisher's part (the members stay whole, as a read of one furnisher gives them)."""
        submissions = self.submissions.filter(pl.col("furnisher_id") == furnisher_id)
        return QualityFrames(self.members, submissions,
                             self.findings.filter(pl.col("submission_id").is_in(submissions["submission_id"].implode())),
                             self.states.filter(pl.col("furnisher_id") == furnisher_id))


def period_index(column: str | pl.Expr) -> pl.Expr:
    """``YYYY-MM`` as a month number (year × 12 + month − 1), for arithmetic on periods."""
    col = pl.col(column) if isinstance(column, str) else column
    return col.str.slice(0, 4).cast(pl.Int32) * 12 + col.str.slice(5, 2).cast(pl.Int32) - 1


def index_period(column: str | pl.Expr) -> pl.Expr:
    """The inverse of `period_index`."""
    col = pl.col(column) if isinstance(column, str) else column
    return pl.format("{}-{}", (col // 12).cast(pl.String), (col % 12 + 1).cast(pl.String).str.zfill(2))


def latest_versions(states: pl.DataFrame) -> pl.DataFrame:
    """The newest version of each account-period (a correction replaces the record it corrects)."""
    keys = [*ACCOUNT, "reporting_period"]
    return states.filter(pl.col("version") == pl.col("version").max().over(keys))


def attach_periods(submissions: pl.DataFrame, periods: pl.DataFrame) -> pl.DataFrame:
    """Each submission's reporting period: the one most of its stored records describe, else the
    ``YYYY-MM`` in its file name (a file whose every record was rejected stores none)."""
    main = (periods.sort(["submission_id", "records", "reporting_period"], descending=[False, True, False])
            .unique("submission_id", keep="first").select("submission_id", "reporting_period"))
    return (submissions.join(main, on="submission_id", how="left")
            .with_columns(pl.coalesce("reporting_period", pl.col("filename").str.extract(r"(\d{4}-\d{2})")))
            .filter(pl.col("reporting_period").is_not_null()))


def file_metrics(submissions: pl.DataFrame, findings: pl.DataFrame, *, due_days: int, late_cap_days: int,
                 as_of: datetime | None = None, until: str | None = None) -> pl.DataFrame:
    """Per furnisher and period: files, records received/rejected/incomplete/with an invalid identity, and the
    days from the period end to the first file (timeliness). Periods a furnisher skipped count as files not
    received, late from the day the bureau's clock (``as_of``, default: the latest arrival) passes the due date;
    the grid runs to ``until`` (default: the latest period any file describes).
    """
    per_line = (findings.group_by("submission_id", "line").agg(
        pl.col("code").is_in(COMPLETENESS_CODES).any().alias("incomplete"),
        pl.col("code").is_in(IDENTITY_CODES).any().alias("id_invalid"))
        .join(submissions.select("submission_id", *KEYS), on="submission_id")
        .group_by(KEYS).agg(pl.col("incomplete").sum().alias("records_incomplete"),
                            pl.col("id_invalid").sum().alias("records_id_invalid")))
    files = submissions.group_by(KEYS).agg(
        pl.len().alias("files"), pl.col("records_received").sum(), pl.col("records_rejected").sum(),
        pl.col("received_at").min().alias("first_received_at"))
    clock = as_of or submissions["received_at"].max()
    last = submissions.select(period_index("reporting_period").max()).item()
    if until is not None:
        last = max(last or 0, int(until[:4]) * 12 + int(until[5:7]) - 1)
    grid = (submissions.group_by("furnisher_id").agg(period_index("reporting_period").min().alias("first"))
            .with_columns(pl.int_ranges("first", (last or 0) + 1).alias("_i")).explode("_i")
            .select("furnisher_id", index_period("_i").alias("reporting_period")))
    end = pl.col("reporting_period").str.to_date("%Y-%m").dt.month_end()
    arrived = pl.coalesce(pl.col("first_received_at"), pl.lit(clock, dtype=pl.Datetime("us", "UTC")))
    days = (arrived.dt.date() - end).dt.total_days()
    return (grid.join(files, on=KEYS, how="left").join(per_line, on=KEYS, how="left")
            .with_columns(pl.col("files", "records_received", "records_rejected", "records_incomplete",
                                 "records_id_invalid").fill_null(0))
            .with_columns(days.alias("days_to_submit"))
            .with_columns(((pl.col("days_to_submit") - due_days) / (late_cap_days - due_days)).clip(0, 1)
                          .alias("lateness"), (pl.col("days_to_submit") > due_days).alias("late"))
            .sort(KEYS))


def top_error_codes(submissions: pl.DataFrame, findings: pl.DataFrame, *, n: int | None = None) -> pl.DataFrame:
    """Per furnisher and period, the ``n`` finding codes (all when None) on most records, as a list of
    (code, severity, records)."""
    counts = (findings.join(submissions.select("submission_id", *KEYS), on="submission_id")
              .group_by([*KEYS, "code", "severity"]).agg(pl.struct("submission_id", "line").n_unique()
                                                          .alias("records")))
    ranked = counts.sort([*KEYS, "records", "code"], descending=[False, False, True, False])
    if n is not None:
        ranked = ranked.group_by(KEYS, maintain_order=True).head(n)
    return (ranked.group_by(KEYS, maintain_order=True).agg(pl.struct("code", "severity", "records").alias("top_codes")))


def state_metrics(states: pl.DataFrame) -> pl.DataFrame:
    """Per furnisher and period: accounts stored, still held for want of consent, and delinquent (any days past
    due) among live credit accounts."""
    live = pl.col("account_status").is_in(LIVE_STATUSES) & ~pl.col("product_type").is_in(NOT_CREDIT)
    return states.group_by(KEYS).agg(
        pl.len().alias("accounts"), pl.col("held").cast(pl.Int64).sum().alias("held"),
        live.sum().alias("live_credit"), (live & (pl.col("days_past_due") > 0)).sum().alias("delinquent")
    ).cast(COUNTS_SCHEMA)


def consistency(states: pl.DataFrame, submissions: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Per furnisher and period p: accounts live in p−1 (``open_prev``), those of them absent from p without
    being closed or rejected (``vanished``), and impossible moves between p−1 and p (``jumps``: a payment
    status rising more than one bucket, a closed account reported live again, an instalment balance growing
    more than 10% + 100 yuan)."""
    nxt = index_period(period_index("reporting_period") + 1)
    prev = states.select(*ACCOUNT, nxt.alias("reporting_period"), pl.col("account_status").alias("prev_status"),
                         pl.col("payment_status").alias("prev_payment"), pl.col("balance").alias("prev_balance"))
    owed = prev.filter(pl.col("prev_status").is_in(LIVE_STATUSES) & ~pl.col("prev_payment").is_in(SETTLED_STATUSES))
    rejected = (findings.filter(pl.col("severity") == "error").join(
        submissions.select("submission_id", *KEYS), on="submission_id")
        .select(*ACCOUNT, "reporting_period").unique())
    filed = submissions.select(KEYS).unique()
    vanished = (owed.join(filed, on=KEYS, how="semi")
                .join(states.select(*ACCOUNT, "reporting_period"), on=[*ACCOUNT, "reporting_period"], how="anti")
                .join(rejected, on=[*ACCOUNT, "reporting_period"], how="anti")
                .group_by(KEYS).agg(pl.len().alias("vanished")))
    bucket = pl.col("payment_status").replace_strict(BUCKETS, default=None, return_dtype=pl.Int32)
    prev_bucket = pl.col("prev_payment").replace_strict(BUCKETS, default=None, return_dtype=pl.Int32)
    pairs = prev.join(states, on=[*ACCOUNT, "reporting_period"])
    jumps = pairs.group_by(KEYS).agg(
        ((bucket - prev_bucket) > 1).fill_null(False).sum().alias("status_jumps"),
        ((pl.col("prev_status") == "closed") & pl.col("account_status").is_in(LIVE_STATUSES)).sum()
        .alias("reopened"),
        (pl.col("product_type").is_in(INSTALLMENT_PRODUCTS)
         & (pl.col("balance") > pl.col("prev_balance") * BALANCE_JUMP_FACTOR + BALANCE_JUMP_SLACK)).sum()
        .alias("balance_jumps"))
    return consistency_table(owed.join(filed, on=KEYS, how="semi").group_by(KEYS).agg(pl.len().alias("open_prev")),
                             vanished, jumps)


def consistency_table(open_prev: pl.DataFrame, vanished: pl.DataFrame, jumps: pl.DataFrame) -> pl.DataFrame:
    """`consistency`'s table from its three group-bys (here or on Spark): a row per furnisher and period with
    accounts owed from the month before."""
    return (open_prev.join(vanished, on=KEYS, how="left").join(jumps, on=KEYS, how="left")
            .with_columns(pl.col("open_prev", "vanished", "status_jumps", "reopened", "balance_jumps").fill_null(0)
                          .cast(pl.Int64)))


@dataclass(frozen=True, slots=True)
class Expected:
    """When the standard expects an optional field: on every record (``column`` None), or where ``column`` is
    one of ``values`` (``op`` ``in``), above ``values[0]`` (``>``) or equal to it (``==``). One rule, read as a
    Polars expression here and as Spark SQL by ``metrics_spark``."""

    field: str
    column: str | None = None
    op: str = "in"
    values: tuple = ()

    def expr(self) -> pl.Expr:
        """The condition as a Polars expression."""
        if self.column is None:  # every record (a literal would be one value, not one per row, in an aggregation)
            return pl.col("furnisher_id").is_not_null()
        col = pl.col(self.column)
        return col.is_in(self.values) if self.op == "in" else col > self.values[0] if self.op == ">" \
            else col == self.values[0]

    def sql(self) -> str:
        """The condition as Spark SQL (its constants quoted, or written as numbers)."""
        if self.column is None:
            return "TRUE"
        quoted = [str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'" for v in self.values]
        return f"{self.column} IN ({', '.join(quoted)})" if self.op == "in" else f"{self.column} {self.op} {quoted[0]}"


# Optional fields the standard expects in context.
EXPECTED_FIELDS: tuple[Expected, ...] = (
    Expected("consent_ref"),  # every record
    Expected("credit_limit", "product_type", "in", tuple(REVOLVING_PRODUCTS)),
    Expected("original_amount", "product_type", "in", tuple(INSTALLMENT_PRODUCTS)),
    Expected("term_months", "product_type", "in", tuple(INSTALLMENT_PRODUCTS)),
    Expected("first_delinquency_date", "days_past_due", ">", (0,)),
    Expected("negative_notice_date", "payment_status", "in", tuple(PAST_DUE_STATUSES)),
    Expected("closed_on", "account_status", "==", ("closed",)),
)
FILL_SCHEMA = {"furnisher_id": pl.Int64, "reporting_period": pl.String, "field": pl.String, "expected": pl.Int64,
               "filled": pl.Int64}


def optional_fill(states: pl.DataFrame) -> pl.DataFrame:
    """Per furnisher, period and optional field: the stored records where the standard expects it
    (``expected``) and those of them that filled it (``filled``), ``FILL_SCHEMA``."""
    return pl.concat([
        states.group_by(KEYS).agg(rule.expr().sum().alias("expected"),
                                  (rule.expr() & (pl.col(f"has_{rule.field}") == 1)).sum().alias("filled"))
        .with_columns(pl.lit(rule.field).alias("field")).select(list(FILL_SCHEMA)).cast(FILL_SCHEMA)
        for rule in EXPECTED_FIELDS])


def field_fill(optional: pl.DataFrame, files: pl.DataFrame, findings: pl.DataFrame,
               submissions: pl.DataFrame) -> pl.DataFrame:
    """Long frame ``furnisher_id, reporting_period, field, expected, filled``: how often each required field
    (from ``REQUIRED_MISSING`` findings) and each optional field where the standard expects it (``optional``:
    `optional_fill` of the stored records) was filled."""
    missing = (findings.filter(pl.col("code") == "REQUIRED_MISSING")
               .join(submissions.select("submission_id", *KEYS), on="submission_id")
               .group_by([*KEYS, "field"]).agg(pl.len().alias("missing")))
    required = (files.filter(pl.col("files") > 0).select(*KEYS, pl.col("records_received").alias("expected"))
                .join(pl.DataFrame({"field": list(REQUIRED_COLUMNS)}), how="cross")
                .join(missing, on=[*KEYS, "field"], how="left")
                .select(*KEYS, "expected", (pl.col("expected") - pl.col("missing").fill_null(0)).alias("filled"),
                        "field"))
    return pl.concat([optional.select(list(FILL_SCHEMA)).cast(FILL_SCHEMA),
                      required.select(list(FILL_SCHEMA)).cast(FILL_SCHEMA)]).sort([*KEYS, "field"])


@dataclass(frozen=True, slots=True)
class StateFigures:
    """The figures read from the account states (the newest version of each account-period), per furnisher
    and period: the heavy part of the quality job, computed here or on Spark (``metrics_spark``)."""

    counts: pl.DataFrame  # `state_metrics`
    consistency: pl.DataFrame  # `consistency`
    fill: pl.DataFrame  # `optional_fill`

    def of(self, furnisher_id: int) -> StateFigures:
        """The figures of one furnisher."""
        mine = pl.col("furnisher_id") == furnisher_id
        return StateFigures(self.counts.filter(mine), self.consistency.filter(mine), self.fill.filter(mine))


def state_figures(frames: QualityFrames) -> StateFigures:
    """`StateFigures` of ``frames``, in process."""
    states = latest_versions(frames.states)
    return StateFigures(state_metrics(states), consistency(states, frames.submissions, frames.findings),
                        optional_fill(states))


def coverage(files: pl.DataFrame, *, window: int = 3) -> pl.DataFrame:
    """Per furnisher and period: records received against the median of its previous ``window`` files
    (``volume_baseline``) and the shortfall below it (``volume_shortfall``, 0 when volume held or grew)."""
    received = files.filter(pl.col("files") > 0).sort(KEYS)
    return received.with_columns(
        pl.col("records_received").shift(1).rolling_median(window, min_samples=1).over("furnisher_id")
        .alias("volume_baseline")).with_columns(
        (pl.col("volume_baseline") - pl.col("records_received")).clip(0, None).alias("volume_shortfall")
    ).select(*KEYS, "volume_baseline", "volume_shortfall")


def compute_metrics(frames: QualityFrames, *, due_days: int = 15, late_cap_days: int = 60,
                    as_of: datetime | None = None, until: str | None = None,
                    figures: StateFigures | None = None) -> pl.DataFrame:
    """Every metric's numerator and denominator per furnisher and period (one row each, periods a furnisher
    skipped included with ``files = 0``).

    Args:
        frames: the bulk reads (`QualityFrames`); ``states`` may hold several versions per account-period.
        due_days: days after the period end by which a file is on time.
        late_cap_days: days after the period end at which a file counts as wholly late.
        as_of: the bureau's clock for files not received (default: the latest arrival).
        until: the last period of the grid (default: the latest period any file describes).
        figures: the states' figures when computed already (on Spark); else from ``frames.states``.
    Returns:
        One row per (furnisher_id, reporting_period) with ``furnisher`` and the columns `grades.score` reads.
    """
    figures = figures or state_figures(frames)
    files = file_metrics(frames.submissions, frames.findings, due_days=due_days, late_cap_days=late_cap_days,
                         as_of=as_of, until=until)
    return (files.join(figures.counts, on=KEYS, how="left")
            .join(figures.consistency, on=KEYS, how="left")
            .join(coverage(files), on=KEYS, how="left")
            .join(top_error_codes(frames.submissions, frames.findings), on=KEYS, how="left")
            .join(frames.members, on="furnisher_id", how="left")
            .with_columns(pl.col("accounts", "held", "live_credit", "delinquent", "open_prev", "vanished",
                                 "status_jumps", "reopened", "balance_jumps").fill_null(0).cast(pl.Int64))
            .sort(KEYS))
