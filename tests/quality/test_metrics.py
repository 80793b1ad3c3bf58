"""Each metric on hand-made frames."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from openbureau.kit.periods import shift_period
from openbureau.quality.metrics import (
    attach_periods,
    compute_metrics,
    field_fill,
    file_metrics,
    latest_versions,
    optional_fill,
)
from tests.quality.factories import findings, frames, state, states, submission, submissions


def _row(metrics: pl.DataFrame, furnisher_id: int, period: str) -> dict:
    return metrics.filter((pl.col("furnisher_id") == furnisher_id)
                          & (pl.col("reporting_period") == period)).row(0, named=True)


def test_shift_period_crosses_years() -> None:
    assert shift_period("2026-01", -1) == "2025-12"
    assert shift_period("2025-12", 1) == "2026-01"
    assert shift_period("2026-06", -18) == "2024-12"


def test_completeness_and_identity_count_records_not_findings() -> None:
    f = frames([state()], [submission(1, 1, "2026-01", received=100, rejected=3)], [
        (1, 1, "A1", "REQUIRED_MISSING", "balance", "error"),
        (1, 2, "A2", "REQUIRED_MISSING", "balance", "error"),
        (1, 2, "A2", "REQUIRED_MISSING", "currency", "error"),
        (1, 3, "A3", "ID_CHECK_DIGIT", "id_number", "error"),
        (1, 4, "A4", "NEGATIVE_NOTICE_MISSING", "negative_notice_date", "warning"),
        (1, 5, "A5", "STATUS_DPD_MISMATCH", "payment_status", "error"),
    ])
    row = _row(compute_metrics(f), 1, "2026-01")
    assert (row["records_received"], row["records_rejected"]) == (100, 3)
    assert row["records_incomplete"] == 3  # lines 1, 2 (two fields) and 4
    assert row["records_id_invalid"] == 1
    codes = {c["code"]: c["records"] for c in row["top_codes"]}
    assert codes["REQUIRED_MISSING"] == 2 and codes["STATUS_DPD_MISMATCH"] == 1


def test_timeliness_from_period_end_and_missing_files_count_late() -> None:
    subs = submissions([submission(1, 1, "2026-01", day=5), submission(2, 1, "2026-03", day=30),
                        submission(3, 2, "2026-01", day=60)])
    clock = datetime(2026, 5, 1, tzinfo=UTC)
    files = file_metrics(subs, findings([]), due_days=15, late_cap_days=60, as_of=clock)
    by = {(r["furnisher_id"], r["reporting_period"]): r for r in files.iter_rows(named=True)}
    assert by[(1, "2026-01")]["days_to_submit"] == 5 and by[(1, "2026-01")]["lateness"] == 0
    assert by[(1, "2026-03")]["lateness"] == pytest.approx((30 - 15) / 45) and by[(1, "2026-03")]["late"]
    assert by[(2, "2026-01")]["lateness"] == 1.0
    # February never arrived: as of 1 May it is 62 days past its period end.
    skipped = by[(1, "2026-02")]
    assert skipped["files"] == 0 and skipped["days_to_submit"] == 62 and skipped["late"]
    # Furnisher 2 began in January: February and March are missing for it too.
    assert by[(2, "2026-03")]["files"] == 0
    later = file_metrics(subs, findings([]), due_days=15, late_cap_days=60, as_of=clock, until="2026-04")
    assert later["reporting_period"].max() == "2026-04" and later.height == 8


def test_vanished_accounts_exclude_closed_settled_and_rejected() -> None:
    jan = [state(account="A1"), state(account="A2"), state(account="A3", account_status="closed", balance=0),
           state(account="A4"), state(account="A5", payment_status="C", balance=0)]
    feb = [state(account="A1", period="2026-02")]
    f = frames(jan + feb, [submission(1, 1, "2026-01"), submission(2, 1, "2026-02")],
               [(2, 7, "A4", "REQUIRED_MISSING", "balance", "error")])
    row = _row(compute_metrics(f), 1, "2026-02")
    assert row["open_prev"] == 3  # A1, A2, A4 (A3 closed, A5 settled)
    assert row["vanished"] == 1  # A2; A4 was sent but rejected


def test_no_vanished_accounts_while_the_file_has_not_arrived() -> None:
    f = frames([state(account="A1")], [submission(1, 1, "2026-01"), submission(2, 2, "2026-02")])
    row = _row(compute_metrics(f), 1, "2026-02")
    assert row["files"] == 0 and row["vanished"] == 0


def test_impossible_moves_between_consecutive_periods() -> None:
    jan = [state(account="A1"), state(account="A2"), state(account="A3", account_status="closed", balance=0),
           state(account="A4", days_past_due=10, payment_status="1")]
    feb = [state(account="A1", period="2026-02", days_past_due=70, payment_status="3"),
           state(account="A2", period="2026-02", balance=200_000),
           state(account="A3", period="2026-02", balance=0),
           state(account="A4", period="2026-02", days_past_due=40, payment_status="2")]
    f = frames(jan + feb, [submission(1, 1, "2026-01"), submission(2, 1, "2026-02")])
    row = _row(compute_metrics(f), 1, "2026-02")
    assert (row["status_jumps"], row["balance_jumps"], row["reopened"]) == (1, 1, 1)


def test_coverage_compares_with_the_median_of_previous_files() -> None:
    subs = [submission(i, 1, p, received=n) for i, (p, n) in
            enumerate([("2026-01", 100), ("2026-02", 120), ("2026-03", 50), ("2026-04", 130)], 1)]
    m = compute_metrics(frames([state()], subs))
    assert _row(m, 1, "2026-01")["volume_baseline"] is None
    assert _row(m, 1, "2026-03")["volume_baseline"] == 110 and _row(m, 1, "2026-03")["volume_shortfall"] == 60
    assert _row(m, 1, "2026-04")["volume_shortfall"] == 0


def test_consent_coverage_counts_held_records() -> None:
    rows = [state(account=f"A{i}", held=1 if i < 3 else 0) for i in range(10)]
    row = _row(compute_metrics(frames(rows, [submission(1, 1, "2026-01")])), 1, "2026-01")
    assert (row["accounts"], row["held"]) == (10, 3)


def test_a_correction_replaces_the_version_it_corrects() -> None:
    rows = states([state(account="A1", balance=5), state(account="A1", version=2, balance=7)])
    assert latest_versions(rows)["balance"].to_list() == [7]


def test_period_of_a_file_whose_records_were_all_rejected_comes_from_its_name() -> None:
    subs = submissions([submission(1, 1, "2026-01"), submission(2, 1, "2026-02")]).drop("reporting_period")
    periods = pl.DataFrame({"submission_id": [1], "reporting_period": ["2026-01"], "records": [5]})
    assert attach_periods(subs, periods)["reporting_period"].to_list() == ["2026-01", "2026-02"]


def test_field_fill_for_optional_and_required_fields() -> None:
    rows = [state(account=f"A{i}", has_consent_ref=int(i % 2 == 0)) for i in range(10)]
    rows.append(state(account="C1", product_type="credit_card", has_credit_limit=0, has_original_amount=0,
                      has_term_months=0, term_months=None))
    subs = submissions([submission(1, 1, "2026-01", received=12)])
    missing = findings([(1, 3, "X", "REQUIRED_MISSING", "currency", "error")])
    files = file_metrics(subs, missing, due_days=15, late_cap_days=60)
    fill = {r["field"]: (r["expected"], r["filled"]) for r in
            field_fill(optional_fill(states(rows)), files, missing, subs).iter_rows(named=True)}
    assert fill["consent_ref"] == (11, 6)
    assert fill["credit_limit"] == (1, 0)
    assert fill["currency"] == (12, 11) and fill["balance"] == (12, 12)
