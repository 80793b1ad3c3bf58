"""Flags for a furnisher's period that departs from its own history, each with its evidence.

The baseline of a figure is its median over the furnisher's previous ``history`` periods (at least
``min_history`` of them); the median rather than the mean, so that one bad month does not move it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from openbureau.quality.metrics import KEYS

COLUMNS = {"furnisher_id": pl.Int64, "reporting_period": pl.String, "rule": pl.String, "field": pl.String,
           "value": pl.Float64, "baseline": pl.Float64, "threshold": pl.Float64, "observations": pl.Int64}


@dataclass(frozen=True, slots=True)
class AnomalyRules:
    """Thresholds of the anomaly rules (docs/quality.md)."""

    history: int = 6  # previous periods in the baseline
    min_history: int = 2  # fewer previous periods: no baseline, no flag
    volume_drop: float = 0.20  # VOLUME_DROP: records received below (1 − this) × baseline
    delinquency_fall: float = 0.50  # DELINQUENCY_FALL: delinquent share below (1 − this) × baseline ...
    delinquency_min_z: float = 3.0  # ... and that many Poisson standard deviations below the expected count
    field_drop: float = 0.20  # FIELD_EMPTIED: fill rate below baseline − this (a fall of 20 points) ...
    min_baseline_fill: float = 0.50  # ... of a field usually filled at least this often ...
    min_expected: int = 20  # ... in a period with at least this many records where it is expected


def _baseline(column: str, rules: AnomalyRules, over: list[str]) -> pl.Expr:
    return (pl.col(column).shift(1).rolling_median(rules.history, min_samples=rules.min_history)
            .over(over, order_by="reporting_period"))


def volume_drops(metrics: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """VOLUME_DROP: a file with far fewer records than the furnisher's recent files."""
    rows = metrics.filter(pl.col("files") > 0).with_columns(
        pl.col("records_received").cast(pl.Float64).alias("value"),
        _baseline("records_received", rules, ["furnisher_id"]).cast(pl.Float64).alias("baseline"))
    return rows.with_columns((pl.col("baseline") * (1 - rules.volume_drop)).alias("threshold")).filter(
        pl.col("value") < pl.col("threshold")).select(
        *KEYS, pl.lit("VOLUME_DROP").alias("rule"), pl.lit(None, pl.String).alias("field"), "value", "baseline",
        "threshold", pl.col("records_received").alias("observations"))


def delinquency_falls(metrics: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """DELINQUENCY_FALL: the share of live credit accounts past due falls by half or more, and by more than
    chance explains (delinquent accounts are never reported, or are reported as current)."""
    rows = metrics.filter(pl.col("live_credit") > 0).with_columns(
        (pl.col("delinquent") / pl.col("live_credit")).alias("value"))
    rows = rows.with_columns(_baseline("value", rules, ["furnisher_id"]).alias("baseline"))
    expected = pl.col("baseline") * pl.col("live_credit")
    z = (expected - pl.col("delinquent")) / expected.sqrt()
    return rows.with_columns((pl.col("baseline") * (1 - rules.delinquency_fall)).alias("threshold")).filter(
        (pl.col("value") < pl.col("threshold")) & (z >= rules.delinquency_min_z)).select(
        *KEYS, pl.lit("DELINQUENCY_FALL").alias("rule"), pl.lit(None, pl.String).alias("field"), "value",
        "baseline", "threshold", pl.col("live_credit").alias("observations"))


def emptied_fields(fill: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """FIELD_EMPTIED: a field the furnisher usually fills is suddenly empty far more often."""
    rows = fill.filter(pl.col("expected") > 0).with_columns((pl.col("filled") / pl.col("expected")).alias("value"))
    rows = rows.with_columns(_baseline("value", rules, ["furnisher_id", "field"]).alias("baseline"))
    return rows.with_columns((pl.col("baseline") - rules.field_drop).alias("threshold")).filter(
        (pl.col("value") < pl.col("threshold")) & (pl.col("baseline") >= rules.min_baseline_fill)
        & (pl.col("expected") >= rules.min_expected)).select(
        *KEYS, pl.lit("FIELD_EMPTIED").alias("rule"), "field", "value", "baseline", "threshold",
        pl.col("expected").alias("observations"))


def detect(metrics: pl.DataFrame, fill: pl.DataFrame, rules: AnomalyRules | None = None) -> pl.DataFrame:
    """Every anomaly flag of every furnisher and period.

    Args:
        metrics: `metrics.compute_metrics` output (``records_received``, ``live_credit``, ``delinquent``).
        fill: `metrics.field_fill` output.
        rules: thresholds (default `AnomalyRules()`).
    Returns:
        ``furnisher_id, reporting_period, rule, field, value, baseline, threshold, observations``.
    """
    rules = rules or AnomalyRules()
    found = [volume_drops(metrics, rules), delinquency_falls(metrics, rules), emptied_fields(fill, rules)]
    return pl.concat([f.cast(COLUMNS) for f in found]).sort([*KEYS, "rule", "field"])


def describe(rule: str, field: str | None, value: float, baseline: float, threshold: float) -> str:
    """One sentence a reader can check against the evidence."""
    if rule == "VOLUME_DROP":
        return f"{value:,.0f} records against a usual {baseline:,.0f} (flag below {threshold:,.0f})"
    if rule == "DELINQUENCY_FALL":
        return (f"{value:.2%} of live credit accounts past due against a usual {baseline:.2%} "
                f"(flag below {threshold:.2%})")
    return f"{field} filled in {value:.1%} of the records expecting it against a usual {baseline:.1%}"
