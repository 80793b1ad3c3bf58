"""The grade formula: failure rates → scores → weighted mean → band."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.quality.grades import BANDS, RULES, MetricRule, grade_for, pool, score, scorecard_frame
from openbureau.quality.metrics import compute_metrics
from tests.quality.factories import frames, state, submission


@pytest.mark.parametrize(("value", "grade"), [(1.0, "A"), (0.9, "A"), (0.8999, "B"), (0.8, "B"), (0.7, "C"),
                                              (0.55, "D"), (0.5499, "E"), (0.0, "E"), (None, None)])
def test_bands(value, grade) -> None:
    assert grade_for(value) == grade


def test_bands_are_documented_in_order() -> None:
    floors = [f for _, f in BANDS]
    assert floors == sorted(floors, reverse=True) and [g for g, _ in BANDS] == list("ABCDE")


def _rates(**rates: float | None) -> pl.DataFrame:
    return pl.DataFrame({f"{name}_rate": [rates.get(name)] for name in RULES}, schema={
        f"{name}_rate": pl.Float64 for name in RULES})


def test_score_is_the_weighted_mean_over_metrics_that_apply() -> None:
    out = score(_rates(completeness=0.01, validity=0.03, consistency=0.0, timeliness=0.0, coverage=0.0,
                       identity=0.0)).row(0, named=True)
    assert out["completeness_score"] == pytest.approx(0.8) and out["validity_score"] == pytest.approx(0.7)
    assert out["disputes_score"] is None
    expected = (0.2 * 0.8 + 0.25 * 0.7 + 0.15 + 0.1 + 0.1 + 0.1) / 0.9  # disputes' weight re-normalised away
    assert out["score"] == pytest.approx(expected, abs=1e-4) and out["grade"] == "B"


def test_a_rate_at_or_past_its_tolerance_scores_zero() -> None:
    out = score(_rates(completeness=0.5, validity=0.5, consistency=0.5, timeliness=1.0, coverage=1.0,
                       identity=0.5)).row(0, named=True)
    assert out["score"] == 0 and out["grade"] == "E"


def test_custom_rules() -> None:
    rules = {"validity": MetricRule(1.0, 0.1, "only validity")}
    out = score(pl.DataFrame({"validity_rate": [0.05]}), rules).row(0, named=True)
    assert out["score"] == pytest.approx(0.5) and out["grade"] == "E"


def test_pooling_sums_numerators_and_denominators() -> None:
    subs = [submission(1, 1, "2026-01", received=100, rejected=10), submission(2, 1, "2026-02", received=900,
                                                                             rejected=0)]
    metrics = compute_metrics(frames([state()], subs))
    pooled = pool(metrics)
    assert pooled["records_received"].item() == 1000 and pooled["records_rejected"].item() == 10
    card = scorecard_frame(metrics).row(0, named=True)
    assert card["validity_rate"] == pytest.approx(0.01)  # not the mean of 10% and 0%
    assert scorecard_frame(metrics, periods=["2026-02"])["validity_rate"].item() == 0
