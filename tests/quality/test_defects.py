"""The simulator's injected defects are found: each raises the right metric for the furnisher that has it, and
the grades rank the furnishers as their configured defect rates do (both engines)."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.policy import QualitySettings
from openbureau.quality.figures import run_quality
from openbureau.sim import FURNISHERS
from tests.quality.conftest import END, MONTHS, ReplayedMarket

RECORD_DEFECTS = ("missing_required", "invalid_id_number", "status_mismatch", "closed_with_balance",
                  "duplicate_record")


@pytest.fixture
def run(replayed: ReplayedMarket):
    with replayed.runtime.engine.connect() as conn:
        return run_quality(conn, period=END, months=MONTHS, settings=QualitySettings())


@pytest.fixture
def truth(replayed: ReplayedMarket) -> pl.DataFrame:
    return pl.read_parquet(replayed.market / "truth" / "defects.parquet")


def _injected(truth: pl.DataFrame, defect: str, *, after: str | None = None) -> dict[str, int]:
    rows = truth.filter(pl.col("defect_type") == defect)
    if after is not None:
        rows = rows.filter(pl.col("period") > after)
    counts = dict(rows.group_by("furnisher").len().iter_rows())
    return {f.code: counts.get(f.code, 0) for f in FURNISHERS}


def _card(run, column: str) -> dict[str, int | float]:
    return dict(run.scorecards.select("furnisher", column).iter_rows())


def _code_counts(run, code: str) -> dict[str, int]:
    rows = (run.metrics.select("furnisher", "top_codes").explode("top_codes").drop_nulls("top_codes")
            .unnest("top_codes").filter(pl.col("code") == code).group_by("furnisher").agg(pl.col("records").sum()))
    counts = dict(rows.iter_rows())
    return {f.code: counts.get(f.code, 0) for f in FURNISHERS}


@pytest.mark.parametrize(("defect", "code"), [
    ("missing_required", "REQUIRED_MISSING"), ("invalid_id_number", "ID_CHECK_DIGIT"),
    ("status_mismatch", "STATUS_DPD_MISMATCH"), ("closed_with_balance", "CLOSED_WITH_BALANCE"),
    ("duplicate_record", "DUPLICATE_IN_FILE")])
def test_each_record_defect_is_counted_for_its_furnisher(run, truth, defect, code) -> None:
    assert _code_counts(run, code) == _injected(truth, defect)


def test_missing_fields_lower_completeness(run, truth) -> None:
    incomplete, injected = _card(run, "records_incomplete"), _injected(truth, "missing_required")
    assert all(incomplete[f] >= injected[f] for f in injected)
    rates = _card(run, "completeness_rate")
    worst = max(injected, key=lambda f: injected[f] / max(_card(run, "records_received")[f], 1))
    assert rates[worst] == max(rates.values())


def test_invalid_ids_lower_identity_quality(run, truth) -> None:
    assert _card(run, "records_id_invalid") == _injected(truth, "invalid_id_number")


def test_every_rejected_record_is_a_defect(run, truth) -> None:
    rejected = _card(run, "records_rejected")
    injected = {f: sum(_injected(truth, d)[f] for d in RECORD_DEFECTS) for f in rejected}
    assert rejected == injected


def test_dropped_accounts_are_found_as_vanished(run, truth) -> None:
    first = run.periods[0]
    vanished, dropped = _card(run, "vanished"), _injected(truth, "dropped_account", after=first)
    for furnisher, n in dropped.items():
        assert vanished[furnisher] <= n, furnisher  # nothing vanishes that was not dropped
    # most drops are seen: not those of an account whose previous record was itself rejected or dropped
    assert sum(vanished.values()) >= 0.8 * sum(dropped.values())
    assert max(vanished, key=vanished.get) == max(dropped, key=dropped.get)


def test_late_files_are_the_late_ones(run, truth) -> None:
    late = set(run.metrics.filter(pl.col("late")).select("furnisher", "reporting_period").iter_rows())
    injected = set(truth.filter(pl.col("defect_type") == "late_file").select("furnisher", "period").iter_rows())
    assert late == injected
    rates = _card(run, "timeliness_rate")
    assert all(rates[f] > 0 for f, _ in injected)
    assert all(rates[f] == 0 for f in rates if f not in {f for f, _ in injected})


def test_grades_rank_furnishers_as_their_defect_rates(run) -> None:
    configured = {f.code: sum(getattr(f.defects, d) for d in (*RECORD_DEFECTS, "dropped_account"))
                  for f in FURNISHERS}
    scores = _card(run, "score")
    order = sorted(configured, key=configured.get)
    ranks = pl.DataFrame({"configured": [configured[f] for f in order], "score": [scores[f] for f in order]})
    rho = ranks.select(pl.corr("configured", "score", method="spearman")).item()
    assert rho <= -0.9, (rho, dict(zip(order, ranks["score"], strict=True)))
    grades = [dict(run.scorecards.select("furnisher", "grade").iter_rows())[f] for f in order]
    assert grades == sorted(grades), list(zip(order, grades, strict=True))  # A..E never improve with more defects
    assert grades[0] == "A" and grades[-1] in ("D", "E")
