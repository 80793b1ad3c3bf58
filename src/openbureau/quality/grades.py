"""From pooled metrics to failure rates, scores and a grade A–E per furnisher.

Each metric becomes a failure rate ``r`` (the share of records, accounts or files that fail it); its score is
``s = clip(1 − r / tolerance, 0, 1)``: 1 when nothing fails, 0 at the tolerance. The furnisher's score is the
weighted mean of the scores of the metrics that apply (weights re-normalised over them: disputes do not
exist yet, the first file has no previous month); the grade is the band the score falls in.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SUMMED = ("files", "records_received", "records_rejected", "records_incomplete", "records_id_invalid", "lateness",
          "accounts", "held", "live_credit", "delinquent", "open_prev", "vanished", "status_jumps", "reopened",
          "balance_jumps", "volume_baseline", "volume_shortfall")


@dataclass(frozen=True, slots=True)
class MetricRule:
    """How one metric counts in the grade."""

    weight: float
    tolerance: float  # the failure rate at which the metric's score reaches 0
    description: str


RULES: dict[str, MetricRule] = {
    "completeness": MetricRule(0.20, 0.05, "records with a required (or contextually required) field empty"),
    "validity": MetricRule(0.25, 0.10, "records rejected by at least one rule"),
    "consistency": MetricRule(0.15, 0.04, "live accounts that vanished or moved impossibly since last month"),
    "timeliness": MetricRule(0.10, 0.25, "lateness of the period's file (0 by the due day, 1 at the cap)"),
    "coverage": MetricRule(0.10, 0.20, "shortfall of records against the furnisher's previous files"),
    "identity": MetricRule(0.10, 0.02, "records with an invalid identity document number"),
    "disputes": MetricRule(0.10, 0.05, "records disputed and corrected (not measured until disputes exist)"),
}
# Consent coverage is reported beside the grade, not in it: it measures the lawful basis a furnisher holds
# (its business model decides when consent is asked), not the quality of what it furnishes.
BANDS: tuple[tuple[str, float], ...] = (("A", 0.90), ("B", 0.80), ("C", 0.70), ("D", 0.55), ("E", 0.0))


def grade_for(score: float | None) -> str | None:
    """The band of ``score``: ``grade_for(0.93) == "A"``, ``grade_for(0.5) == "E"``."""
    if score is None:
        return None
    return next(letter for letter, floor in BANDS if score >= floor)


def pool(metrics: pl.DataFrame, *, periods: list[str] | None = None) -> pl.DataFrame:
    """Sum each furnisher's numerators and denominators over ``periods`` (all when None)."""
    rows = metrics if periods is None else metrics.filter(pl.col("reporting_period").is_in(periods))
    codes = (rows.select("furnisher_id", "top_codes").explode("top_codes").drop_nulls("top_codes")
             .unnest("top_codes").group_by("furnisher_id", "code", "severity").agg(pl.col("records").sum())
             .sort(["furnisher_id", "records", "code"], descending=[False, True, False])
             .group_by("furnisher_id", maintain_order=True).head(5)
             .group_by("furnisher_id").agg(pl.struct("code", "severity", "records").alias("top_codes")))
    return (rows.group_by("furnisher_id", "furnisher").agg(
        pl.len().alias("periods"), pl.col("reporting_period").min().alias("period_from"),
        pl.col("reporting_period").max().alias("period_to"),
        pl.col("days_to_submit").filter(pl.col("files") > 0).max().alias("max_days_to_submit"),
        pl.col("late").sum().alias("late_files"), *[pl.col(c).fill_null(0).sum() for c in SUMMED])
        .join(codes, on="furnisher_id", how="left").sort("furnisher"))


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None)


def failure_rates(pooled: pl.DataFrame) -> pl.DataFrame:
    """Add ``<metric>_rate`` for every metric in `RULES` (null where it does not apply) and ``consent_coverage``."""
    received = pl.col("records_received")
    return pooled.with_columns(
        _ratio(pl.col("records_incomplete"), received).alias("completeness_rate"),
        _ratio(pl.col("records_rejected"), received).alias("validity_rate"),
        _ratio(pl.sum_horizontal("vanished", "status_jumps", "reopened", "balance_jumps"), pl.col("open_prev"))
        .alias("consistency_rate"),
        _ratio(pl.col("lateness"), pl.col("periods")).alias("timeliness_rate"),
        _ratio(pl.col("volume_shortfall"), pl.col("volume_baseline")).alias("coverage_rate"),
        _ratio(pl.col("records_id_invalid"), received).alias("identity_rate"),
        pl.lit(None, dtype=pl.Float64).alias("disputes_rate"),
        (1 - _ratio(pl.col("held"), pl.col("accounts"))).alias("consent_coverage"),
    )


def score(rates: pl.DataFrame, rules: dict[str, MetricRule] = RULES) -> pl.DataFrame:
    """Add ``<metric>_score``, the weighted ``score`` over the metrics that apply, and the ``grade``.

    Example: failure rates of 1% (completeness), 3% (validity) and nothing else give scores 0.8 and 0.7 and
    1.0 elsewhere; with disputes not applicable the weights re-normalise over the other 0.9.
    """
    scored = rates.with_columns(
        (1 - pl.col(f"{name}_rate") / rule.tolerance).clip(0, 1).alias(f"{name}_score")
        for name, rule in rules.items())
    weights = [pl.when(pl.col(f"{n}_score").is_not_null()).then(r.weight).otherwise(0.0) for n, r in rules.items()]
    weighted = [(pl.col(f"{n}_score") * r.weight).fill_null(0.0) for n, r in rules.items()]
    total = pl.sum_horizontal(weights)
    scored = scored.with_columns(pl.when(total > 0).then(pl.sum_horizontal(weighted) / total).otherwise(None)
                                 .round(4).alias("score"))
    band = pl.lit(None, dtype=pl.String)
    for letter, floor in reversed(BANDS):
        band = pl.when(pl.col("score") >= floor).then(pl.lit(letter)).otherwise(band)
    return scored.with_columns(band.alias("grade"))


def scorecard_frame(metrics: pl.DataFrame, *, periods: list[str] | None = None,
                    rules: dict[str, MetricRule] = RULES) -> pl.DataFrame:
    """Pooled, rated and graded: one row per furnisher over ``periods``."""
    return score(failure_rates(pool(metrics, periods=periods)), rules)


__all__ = ["BANDS", "RULES", "MetricRule", "failure_rates", "grade_for", "pool", "score", "scorecard_frame"]
