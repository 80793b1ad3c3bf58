"""The quality scorecards with their account-state figures computed on Spark are the same as in process, on
SQLite and PostgreSQL: every metric, grade and anomaly flag."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from openbureau.cli import quality
from openbureau.kit.db import session_scope
from openbureau.kit.spark import SparkOptions
from openbureau.policy import QualitySettings
from openbureau.quality import figures, metrics_spark
from openbureau.quality.metrics import state_figures
from tests.quality.conftest import END, ReplayedMarket
from tests.quality.factories import frames, state, submission


def _same(left: pl.DataFrame, right: pl.DataFrame, name: str) -> None:
    """Equal frames, row for row; doubles summed in another order may differ in the last bits only."""
    assert left.schema == right.schema, name
    assert left.height == right.height, name
    for column in right.columns:
        a, b = left[column], right[column]
        if a.dtype == pl.Float64:
            assert a.is_null().equals(b.is_null()), (name, column)
            assert ((a - b).abs().fill_null(0) <= 1e-12).all(), (name, column)
        else:
            assert a.equals(b), (name, column)


def _sorted(figures_) -> tuple[pl.DataFrame, ...]:
    return (figures_.counts.sort("furnisher_id", "reporting_period"),
            figures_.consistency.sort("furnisher_id", "reporting_period"),
            figures_.fill.sort("furnisher_id", "reporting_period", "field"))


def test_the_scorecards_of_a_replayed_bureau_are_the_same_on_spark(replayed: ReplayedMarket, spark) -> None:
    settings = QualitySettings()
    jobs = lambda: len(spark.sparkContext.statusTracker().getJobIdsForGroup())  # noqa: E731
    with session_scope(replayed.runtime.engine) as session:
        conn = session.connection()
        before = jobs()
        local = figures.run_quality(conn, period=END, months=3, settings=settings)
        assert jobs() == before  # in process: Spark untouched
        on_spark = figures.run_quality(conn, period=END, months=3, settings=settings, spark=SparkOptions())
        assert jobs() > before  # the states' figures were computed on Spark
    m = local.metrics
    assert m["accounts"].sum() > 1_000 and m["open_prev"].sum() > 1_000 and local.scorecards.height > 3
    assert (m["vanished"] + m["status_jumps"] + m["balance_jumps"] + m["reopened"]).sum() > 0  # compared too
    _same(on_spark.metrics, local.metrics, "metrics")
    _same(on_spark.scorecards, local.scorecards, "scorecards")
    _same(on_spark.anomalies.sort(on_spark.anomalies.columns), local.anomalies.sort(local.anomalies.columns),
          "anomalies")


def test_corrections_moves_held_and_rejected_records_are_counted_alike(spark) -> None:
    jan = [state(account="A1"), state(account="A2"), state(account="A3", account_status="closed", balance=0),
           state(account="A4", days_past_due=10, payment_status="1"), state(account="A5"),
           state(account="A6", payment_status="C", balance=0), state(account="A7", held=1),
           state(account="C1", product_type="credit_card", has_credit_limit=0, term_months=None, has_term_months=0),
           state(furnisher_id=2, account="B1", product_type="utility", days_past_due=5)]
    feb = [state(account="A1", period="2026-02", days_past_due=70, payment_status="3"),
           state(account="A2", period="2026-02", balance=200_000),
           state(account="A2", period="2026-02", balance=100_500, version=2),  # the correction replaces it
           state(account="A3", period="2026-02", balance=0),  # closed, reported open again
           state(account="A4", period="2026-02", days_past_due=None, payment_status=None),  # nulls count for nothing
           state(account="A8", period="2026-02", account_status="closed", has_closed_on=0, payment_status="2",
                 days_past_due=40),
           state(furnisher_id=2, account="B1", period="2026-02", product_type="utility", days_past_due=40)]
    f = frames(jan + feb, [submission(1, 1, "2026-01"), submission(2, 1, "2026-02"), submission(3, 2, "2026-01"),
                           submission(4, 2, "2026-02")],
               [(2, 7, "A5", "REQUIRED_MISSING", "balance", "error"), (2, 8, "A7", "BALANCE_HIGH", "balance", "warning"),
                (2, 9, None, "ID_FORMAT", "id_number", "error")])
    local, on_spark = state_figures(f), metrics_spark.state_figures(spark, f)
    for name, a, b in zip(("counts", "consistency", "fill"), _sorted(on_spark), _sorted(local), strict=True):
        _same(a, b, name)
    feb1 = local.consistency.filter((pl.col("furnisher_id") == 1) & (pl.col("reporting_period") == "2026-02")).row(
        0, named=True)
    # owed: A1, A2, A4, A5, A7, C1 (A3 closed, A6 settled); vanished: A7, C1 (A5 was sent but rejected)
    assert (feb1["open_prev"], feb1["vanished"], feb1["reopened"], feb1["status_jumps"]) == (6, 2, 1, 1)
    assert feb1["balance_jumps"] == 0  # the correction (100,500) replaced the jump (200,000)


def test_no_states_at_all_gives_empty_figures_alike(spark) -> None:
    f = frames([], [submission(1, 1, "2026-01")])
    for a, b in zip(_sorted(metrics_spark.state_figures(spark, f)), _sorted(state_figures(f)), strict=True):
        assert a.height == b.height == 0 and a.schema == b.schema


@pytest.mark.parametrize("replayed", ["sqlite"], indirect=True)  # an adapter: its services run on both engines
def test_quality_report_runs_the_scorecards_and_the_market_on_spark(replayed: ReplayedMarket, monkeypatch,
                                                                    spark) -> None:
    monkeypatch.setattr(quality, "open_runtime", lambda: replayed.runtime)
    monkeypatch.setenv("COLUMNS", "200")
    local = CliRunner().invoke(quality.app, ["report", "--months", "2"])
    result = CliRunner().invoke(quality.app, ["report", "--months", "2", "--engine", "spark"])
    assert result.exit_code == 0, result.output
    scorecards = lambda out: out[:out.index("Market")]  # noqa: E731
    market = lambda out: out[out.index("Market"):out.index("Computed in")]  # noqa: E731
    assert scorecards(result.output) == scorecards(local.output) and "grade" in scorecards(local.output)
    assert market(result.output) == market(local.output)
    assert CliRunner().invoke(quality.app, ["report", "--engine", "hadoop"]).exit_code == 2
