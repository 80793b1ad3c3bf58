"""Anomaly flags against the furnisher's own history, with their evidence."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.quality.anomalies import AnomalyRules, describe, detect

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def _metrics(received=(100, 100, 100, 100), live=(0, 0, 0, 0), delinquent=(0, 0, 0, 0)) -> pl.DataFrame:
    return pl.DataFrame({"furnisher_id": [1] * 4, "reporting_period": PERIODS, "files": [1] * 4,
                         "records_received": list(received), "live_credit": list(live),
                         "delinquent": list(delinquent)})


def _fill(field="consent_ref", expected=(100, 100, 100, 100), filled=(95, 95, 95, 95)) -> pl.DataFrame:
    return pl.DataFrame({"furnisher_id": [1] * 4, "reporting_period": PERIODS, "field": [field] * 4,
                         "expected": list(expected), "filled": list(filled)})


def test_volume_drop_is_flagged_with_its_evidence() -> None:
    flags = detect(_metrics(received=(100, 110, 90, 60)), _fill())
    assert flags.height == 1
    flag = flags.row(0, named=True)
    assert (flag["reporting_period"], flag["rule"], flag["value"], flag["baseline"]) == ("2026-04", "VOLUME_DROP",
                                                                                          60, 100)
    assert flag["threshold"] == pytest.approx(80)
    assert "60 records against a usual 100" in describe(flag["rule"], None, 60, 100, 80)


def test_small_moves_and_short_history_are_not_flagged() -> None:
    assert detect(_metrics(received=(100, 110, 90, 85)), _fill()).height == 0
    # the second period has one previous period only: no baseline
    assert detect(_metrics(received=(100, 10, 100, 100)), _fill()).height == 0


def test_delinquency_that_falls_suspiciously() -> None:
    flags = detect(_metrics(live=(1000,) * 4, delinquent=(50, 52, 48, 10)), _fill())
    assert flags["rule"].to_list() == ["DELINQUENCY_FALL"]
    assert flags["value"].item() == pytest.approx(0.01) and flags["baseline"].item() == pytest.approx(0.05)


def test_a_fall_chance_explains_is_not_flagged() -> None:
    assert detect(_metrics(live=(20,) * 4, delinquent=(2, 2, 2, 0)), _fill()).height == 0


def test_a_field_suddenly_empty() -> None:
    flags = detect(_metrics(), _fill(filled=(95, 96, 94, 30)))
    flag = flags.row(0, named=True)
    assert (flag["rule"], flag["field"], flag["value"]) == ("FIELD_EMPTIED", "consent_ref", 0.30)
    assert flag["threshold"] == pytest.approx(0.75)


def test_a_field_rarely_filled_or_rarely_expected_is_not_flagged() -> None:
    assert detect(_metrics(), _fill(filled=(40, 40, 40, 5))).height == 0
    assert detect(_metrics(), _fill(expected=(10,) * 4, filled=(10, 10, 10, 0))).height == 0
    assert detect(_metrics(), _fill(expected=(10,) * 4, filled=(10, 10, 10, 0)),
                  AnomalyRules(min_expected=5)).height == 1
