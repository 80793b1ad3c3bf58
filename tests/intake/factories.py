"""Factories of the intake domain: valid records and furnishing files in each format."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from openbureau.intake import standard

# A valid record of the standard (a real-format resident ID: region 110105, born 1949-12-31).
BASE = {
    "furnisher_account_id": "ACC-1",
    "reporting_period": "2026-09",
    "id_type": "CN_RESIDENT_ID",
    "id_number": "11010519491231002X",
    "full_name": "王小明",
    "birth_date": "1949-12-31",
    "phone": "13800138000",
    "address": "北京市朝阳区建国路1号",
    "product_type": "revolving",
    "opened_on": "2024-01-15",
    "currency": "CNY",
    "credit_limit": "5000000",
    "original_amount": None,
    "term_months": None,
    "balance": "120000",
    "amount_due": "12000",
    "amount_paid": "12000",
    "past_due_amount": "0",
    "days_past_due": "0",
    "payment_status": "N",
    "account_status": "open",
    "first_delinquency_date": None,
    "closed_on": None,
    "consent_ref": "C-1",
    "negative_notice_date": None,
    "correction": "0",
}

# More valid resident IDs (MOD 11-2 check digits), with their birth dates.
PEOPLE = [
    ("11010519491231002X", "1949-12-31", "王小明"),
    ("110101199003070011", "1990-03-07", "李娜"),
    ("440304198511220014", "1985-11-22", "陈伟"),
    ("310104197806150020", "1978-06-15", "张敏"),
]


def record(**overrides: str | None) -> dict[str, str | None]:
    """A valid record with some fields replaced."""
    return {**BASE, **overrides}


def person(index: int, **overrides: str | None) -> dict[str, str | None]:
    """A valid record of one of the known people."""
    id_number, birth, name = PEOPLE[index]
    return record(**{"id_number": id_number, "birth_date": birth, "full_name": name, **overrides})


def write_file(path: Path, records: list[dict[str, str | None]], *, columns: list[str] | None = None) -> Path:
    """Write records as CSV, JSON Lines or Parquet according to the file's suffix."""
    columns = columns or list(standard.COLUMNS)
    frame = pl.DataFrame([{c: r.get(c) for c in columns} for r in records], schema={c: pl.String for c in columns})
    if path.suffix == ".csv":
        frame.write_csv(path)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dicts()), "utf-8")
    else:
        frame.write_parquet(path)
    return path
