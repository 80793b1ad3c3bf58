"""Injected defects: measured rates against the configuration, and clean records obeying every rule."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from openbureau.intake.readers import ChunkReader, detect_format
from openbureau.intake.standard import REQUIRED_COLUMNS
from openbureau.intake.validation import FileState, validate_chunk
from openbureau.sim import FURNISHERS, read_manifest
from openbureau.sim.defects import DEFECT_TYPES, plan_files
from openbureau.sim.identities import is_valid_resident_id

_PERIOD_END = (pl.col("reporting_period") + "-01").str.to_date().dt.month_end()
_BUCKET = (pl.when(pl.col("days_past_due") == 0).then(pl.lit("N"))
           .otherwise(((pl.col("days_past_due") + 29) // 30).clip(1, 7).cast(pl.String)))
_NO_NOTICE = [f.code for f in FURNISHERS if not f.negative_notice]


def _date(name: str) -> pl.Expr:
    return pl.col(name).str.to_date()


# Rules every record without an injected defect must satisfy (furnishing standard v1).
RULES: dict[str, pl.Expr] = {
    "required field empty": pl.any_horizontal([pl.col(c).is_null() for c in REQUIRED_COLUMNS]),
    "currency not CNY": pl.col("currency") != "CNY",
    "negative amount": pl.any_horizontal([pl.col(c) < 0 for c in ("balance", "amount_due", "amount_paid",
                                                                  "past_due_amount", "days_past_due")]),
    "opened after the period": _date("opened_on") > _PERIOD_END,
    "closed with balance or without date": (pl.col("account_status") == "closed")
    & ((pl.col("balance") != 0) | pl.col("closed_on").is_null()),
    "closed_on outside the account's life": (_date("closed_on") > _PERIOD_END) | (_date("closed_on") < _date("opened_on")),
    "past due without first delinquency date": (pl.col("days_past_due") > 0) & pl.col("first_delinquency_date").is_null(),
    "past due without amount": (pl.col("days_past_due") > 0) & (pl.col("past_due_amount") <= 0),
    "past due without notice": (pl.col("days_past_due") > 0) & pl.col("negative_notice_date").is_null()
    & ~pl.col("furnisher").is_in(_NO_NOTICE),
    "notice after the period": _date("negative_notice_date") > _PERIOD_END,
    "days past due disagree with first delinquency": (pl.col("days_past_due") > 0)
    & ((_PERIOD_END - _date("first_delinquency_date")).dt.total_days() != pl.col("days_past_due")),
    "revolving over 110% of limit": pl.col("product_type").is_in(["revolving", "credit_card"])
    & (pl.col("credit_limit").is_null() | (pl.col("balance") > pl.col("credit_limit") * 1.1)),
    "instalment without amount or term": pl.col("product_type").is_in(["installment", "mortgage", "auto", "bnpl"])
    & (pl.col("original_amount").is_null() | pl.col("term_months").is_null()),
    "payment_status disagrees with days past due": pl.col("payment_status").is_in(list("N1234567"))
    & (pl.col("payment_status") != _BUCKET),
    "* while something is due": (pl.col("payment_status") == "*")
    & ((pl.col("days_past_due") != 0) | (pl.col("amount_due") != 0)),
    "closing status on an open account": pl.col("payment_status").is_in(list("CGDZ"))
    & (pl.col("account_status") != "closed"),
    "charged off before 180 days": (pl.col("account_status") == "charged_off") & (pl.col("days_past_due") <= 180),
    "past due above balance": pl.col("past_due_amount") > pl.col("balance"),
    "resident ID invalid": (pl.col("id_type") == "CN_RESIDENT_ID")
    & ~pl.col("id_number").map_elements(is_valid_resident_id, return_dtype=pl.Boolean),
}


def test_records_without_defects_obey_every_rule(records: pl.DataFrame) -> None:
    clean = records.filter(pl.col("defect_type").is_null())
    assert clean.height > 30_000
    broken = {name: clean.filter(rule.fill_null(False)).height for name, rule in RULES.items()}
    assert broken == dict.fromkeys(RULES, 0)
    # The market exercises the interesting states.
    assert set(clean["payment_status"]) >= {"N", "1", "2", "3", "7", "*", "C", "G"}
    assert set(clean["account_status"]) == {"open", "closed", "charged_off"}


def test_each_recorded_defect_is_visible_in_its_file(records: pl.DataFrame) -> None:
    marked = records.filter(pl.col("defect_type").is_not_null())
    assert set(marked["defect_type"]) == set(DEFECT_TYPES) - {"dropped_account"}
    for row in marked.iter_rows(named=True):
        kind = row["defect_type"]
        if kind == "missing_required":
            assert row[row["field"]] is None, row
        elif kind == "invalid_id_number":
            assert not is_valid_resident_id(row["id_number"])
        elif kind == "status_mismatch":
            dpd, status = row["days_past_due"], row["payment_status"]
            assert (status == "N") == (dpd > 0)
        elif kind == "closed_with_balance":
            assert row["account_status"] == "closed" and row["balance"] > 0
    copies = marked.filter(pl.col("defect_type") == "duplicate_record")
    counts = records.group_by("furnisher", "reporting_period", "furnisher_account_id").len()
    joined = copies.join(counts, on=["furnisher", "reporting_period", "furnisher_account_id"])
    assert (joined["len"] == 2).all()


def _within(observed: int, n: int, rate: float) -> bool:
    expected = n * rate
    return abs(observed - expected) <= 4.5 * math.sqrt(n * rate * (1 - rate)) + 2


def test_measured_defect_rates_match_configured_rates(market: Path, records: pl.DataFrame) -> None:
    dropped = (pl.read_parquet(market / "truth" / "defects.parquet")
               .filter(pl.col("defect_type") == "dropped_account").group_by("furnisher").len())
    dropped_by = dict(dropped.iter_rows())
    for furnisher in FURNISHERS:
        rows = records.filter(pl.col("furnisher") == furnisher.code)
        keys = rows.select("reporting_period", "furnisher_account_id")
        duplicates = rows.height - keys.n_unique()
        base = rows.height - duplicates + dropped_by.get(furnisher.code, 0)
        resident = rows.filter((pl.col("id_type") == "CN_RESIDENT_ID") & pl.col("id_number").is_not_null())
        measured = {
            "missing_required": (rows.height, rows.filter(RULES["required field empty"]).height),
            "invalid_id_number": (resident.height, resident.filter(RULES["resident ID invalid"]).height),
            "status_mismatch": (base, rows.filter(RULES["payment_status disagrees with days past due"]
                                                  .fill_null(False)).height),
            "closed_with_balance": (base, rows.filter((pl.col("account_status") == "closed")
                                                      & (pl.col("balance") > 0)).height),
            "duplicate_record": (base, duplicates),
        }
        open_base = rows.filter(pl.col("account_status") == "open").height + dropped_by.get(furnisher.code, 0)
        measured["dropped_account"] = (open_base, dropped_by.get(furnisher.code, 0))
        for defect, (n, observed) in measured.items():
            rate = getattr(furnisher.defects, defect)
            assert _within(observed, n, rate), (furnisher.code, defect, observed, n, rate)


@pytest.mark.parametrize("furnisher", FURNISHERS, ids=lambda f: f.code)
def test_late_files_follow_the_configured_share_and_delays(furnisher) -> None:
    delay, late = plan_files((furnisher,), 4_000, np.random.default_rng(5))
    assert _within(int(late.sum()), 4_000, furnisher.defects.late_file)
    on_time, tardy = furnisher.timeliness.on_time_days, furnisher.timeliness.late_days
    assert ((delay[~late] >= on_time[0]) & (delay[~late] <= on_time[1])).all()
    assert ((delay[late] >= tardy[0]) & (delay[late] <= tardy[1])).all()


def test_intake_validator_accepts_clean_records_and_catches_each_defect(market: Path) -> None:
    """The bureau's own reader and validator agree with the generator's truth about defects."""
    findings = []
    for entry in read_manifest(market):
        reader = ChunkReader(entry.path, detect_format(entry.path.name))
        state = FileState()
        for chunk in reader.chunks():
            result = validate_chunk(chunk, today=date(2026, 11, 22), state=state)
            findings.append(result.findings.with_columns(furnisher=pl.lit(entry.furnisher),
                                                         period=pl.lit(entry.period)))
        assert not reader.malformed
    found = pl.concat(findings)
    defects = (pl.read_parquet(market / "truth" / "defects.parquet")
               .filter(pl.col("line").is_not_null() & pl.col("event_date").is_null())
               .select("furnisher", "period", "line", "defect_type"))
    joined = found.join(defects, on=["furnisher", "period", "line"], how="left")
    on_clean = joined.filter(pl.col("defect_type").is_null())
    # Only the utility, which by its profile sends no negative-information notices, draws a warning.
    assert set(on_clean["code"]) <= {"NEGATIVE_NOTICE_MISSING"}
    assert set(on_clean["furnisher"]) <= set(_NO_NOTICE)
    expected = {"missing_required": "REQUIRED_MISSING", "invalid_id_number": "ID_CHECK_DIGIT",
                "status_mismatch": "STATUS_DPD_MISMATCH", "closed_with_balance": "CLOSED_WITH_BALANCE",
                "duplicate_record": "DUPLICATE_IN_FILE"}
    errors = joined.filter(pl.col("severity") == "error")
    for defect, code in expected.items():
        marked = defects.filter(pl.col("defect_type") == defect)
        caught = errors.filter((pl.col("defect_type") == defect) & (pl.col("code") == code))
        assert caught.select("furnisher", "period", "line").n_unique() == marked.height > 0, defect
