"""Quality and market batch jobs over a large synthetic bureau.

What it measures, honestly: a full 1 M persons × 24 months market is 64 M records and would take hours to
ingest here, so this does not replay a simulated market. It writes a synthetic bureau straight into the
tables with ``openbureau.kit.dialects`` (members, one submission per furnisher and period, account states for
``--persons`` persons over ``--months`` months with reach-based products, findings for 1.5% of records,
a few dropped accounts, one late file and one field emptied), then times the two jobs exactly as the API runs them:
``figures.run_quality`` (bulk read + metrics + grades + anomalies, window = the last period, history = all
months) and ``figures.run_market`` (the last period). It prints rows read, seconds and rows/s.

    .venv/bin/python bench/quality.py                     # 1,000,000 persons × 3 months on SQLite
    .venv/bin/python bench/quality.py --persons 100000 --postgres postgresql+psycopg://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from openbureau.accounts.models import AccountState  # noqa: E402
from openbureau.intake.models import Finding, Submission  # noqa: E402
from openbureau.kit.db import make_engine  # noqa: E402
from openbureau.kit.dialects import dialect_for  # noqa: E402
from openbureau.members.models import Member  # noqa: E402
from openbureau.migrations import upgrade  # noqa: E402
from openbureau.policy import QualitySettings  # noqa: E402
from openbureau.quality import figures  # noqa: E402

# (furnisher, product, reach, term months): about 1.5 accounts per person.
PRODUCTS = [("SUPERAPP", "revolving", 0.40, None), ("DIGIBANK", "installment", 0.10, 12),
            ("ECOMM", "bnpl", 0.20, 3), ("BANK_A", "credit_card", 0.15, None), ("BANK_A", "mortgage", 0.04, 360),
            ("BANK_B", "credit_card", 0.10, None), ("CONSFIN", "installment", 0.07, 24),
            ("TELECOM", "telecom", 0.30, None), ("UTILITY", "utility", 0.15, None)]
CODES = list(dict.fromkeys(p[0] for p in PRODUCTS))


def _periods(end: str, months: int) -> list[str]:
    n = int(end[:4]) * 12 + int(end[5:]) - 1
    return [f"{(n - i) // 12:04d}-{(n - i) % 12 + 1:02d}" for i in reversed(range(months))]


def build(url: str, *, persons: int, months: int, seed: int) -> int:
    """Write the synthetic bureau; return the number of account states."""
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade(engine)
    periods = _periods("2026-06", months)
    accounts = []
    for code, product, reach, term in PRODUCTS:
        holders = np.flatnonzero(rng.random(persons) < reach) + 1
        accounts.append(pl.DataFrame({"person_id": holders}).with_columns(
            pl.lit(CODES.index(code) + 1, pl.Int64).alias("furnisher_id"),
            (pl.lit(f"{product[:3].upper()}") + pl.col("person_id").cast(pl.String)).alias("furnisher_account_id"),
            pl.lit(product).alias("product_type"), pl.lit(term, pl.Int64).alias("term_months")))
    base = pl.concat(accounts)
    n = base.height
    stored = 0
    with engine.execution_options(sqlite_begin="BEGIN IMMEDIATE").begin() as conn:
        writer = dialect_for(conn)
        writer.insert(conn, Member.__table__, pl.DataFrame({
            "id": range(1, len(CODES) + 1), "code": CODES, "name": CODES, "roles": ["furnisher"] * len(CODES),
            "created_at": [datetime.now(UTC)] * len(CODES)}))
        sub_id = 0
        for i, period in enumerate(periods):
            dpd = np.where(rng.random(n) < 0.04, rng.integers(1, 200, n), 0)
            keep = rng.random(n) > np.where(base["furnisher_id"].to_numpy() == 9, 0.02, 0.002)  # dropped
            bad = rng.random(n) < 0.015  # rejected records: findings, not stored
            # ECOMM stops sending consent references in the last month: a FIELD_EMPTIED flag to find.
            ecomm = base["furnisher_id"].to_numpy() == CODES.index("ECOMM") + 1
            consent_rate = np.where(ecomm & (i == months - 1), 0.2, 0.8)
            frame = base.with_columns(
                pl.lit(period).alias("reporting_period"), pl.lit(1, pl.Int16).alias("version"),
                pl.Series("line", np.arange(2, n + 2)), pl.lit(b"").alias("identity_enc"),
                pl.lit(date(2024, 1, 1)).alias("opened_on"), pl.lit("CNY").alias("currency"),
                pl.lit(None, pl.Int64).alias("credit_limit"), pl.lit(None, pl.Int64).alias("original_amount"),
                pl.Series("balance", rng.integers(0, 5_000_000, n)), pl.lit(10_000).alias("amount_due"),
                pl.lit(10_000).alias("amount_paid"), pl.Series("past_due_amount", np.where(dpd > 0, 10_000, 0)),
                pl.Series("days_past_due", dpd, dtype=pl.Int32),
                pl.Series("payment_status", np.where(dpd == 0, "N", np.minimum(7, (dpd + 29) // 30).astype(str))),
                pl.lit("open").alias("account_status"),
                pl.lit(None, pl.Date).alias("first_delinquency_date"), pl.lit(None, pl.Date).alias("closed_on"),
                pl.Series("consent_ref", np.where(rng.random(n) < consent_rate, "C1", None)),
                pl.lit(None, pl.Date).alias("negative_notice_date"), pl.lit(0, pl.Int16).alias("correction"),
                pl.lit(0, pl.Int16).alias("has_warnings"), pl.lit(0, pl.Int16).alias("negative_held"),
                pl.Series("held_reason", np.where(rng.random(n) < 0.2, "no_consent", None)),
                pl.lit(None, pl.Datetime("us", "UTC")).alias("released_at"),
                pl.lit(datetime.now(UTC)).alias("stored_at"))
            period_end = pl.Series([period]).str.to_date("%Y-%m").dt.month_end()[0]
            for fid, code in enumerate(CODES, 1):
                sub_id += 1
                late = 40 if (code == "UTILITY" and i == months - 1) else 5
                mine = frame.filter(pl.col("furnisher_id") == fid)
                flags = pl.Series(bad[(frame["furnisher_id"] == fid).to_numpy()])
                writer.insert(conn, Submission.__table__, pl.DataFrame({
                    "id": [sub_id], "furnisher_id": [fid], "sha256": [f"{sub_id:064d}"],
                    "filename": [f"{period}.csv"], "format": ["csv"], "size_bytes": [0], "status": ["loaded"],
                    "received_at": [datetime.combine(period_end + timedelta(days=late), datetime.min.time(), UTC)],
                    "records_received": [mine.height], "records_accepted": [mine.height - int(flags.sum())],
                    "records_warnings": [0], "records_rejected": [int(flags.sum())], "records_quarantined": [0],
                    "findings_count": [int(flags.sum())]}))
                rejected = mine.filter(flags)
                writer.insert(conn, Finding.__table__, rejected.select(
                    pl.lit(sub_id, pl.Int64).alias("submission_id"), "line", "furnisher_account_id",
                    pl.lit("balance").alias("field"), pl.lit("REQUIRED_MISSING").alias("code"),
                    pl.lit("error").alias("severity"), pl.lit(None, pl.String).alias("value"),
                    pl.lit("balance is required").alias("message")))
                rows = mine.filter(~flags & pl.Series(keep[(frame["furnisher_id"] == fid).to_numpy()])).with_columns(
                    pl.lit(sub_id, pl.Int64).alias("submission_id"))
                writer.insert(conn, AccountState.__table__, rows)
                stored += rows.height
    engine.dispose()
    return stored


def measure(url: str, *, months: int) -> None:
    """Time the quality job and the market job on the bureau at ``url``."""
    engine = make_engine(url)
    with engine.connect() as conn:
        period = figures.latest_period(conn)
        run = figures.run_quality(conn, period=period, months=1, settings=QualitySettings())
        print(f"quality job: {run.rows_read:,} rows read, {run.seconds:.1f} s, {run.rows_read / run.seconds:,.0f} "
              f"rows/s; grades: {dict(run.scorecards.select('furnisher', 'grade').iter_rows())}")
        print(f"  anomaly flags: {run.anomalies.select('furnisher', 'rule', 'field').rows()}")
        mrun = figures.run_market(conn, period=period)
        print(f"market job: {mrun.rows_read:,} rows read, {mrun.seconds:.1f} s, "
              f"{mrun.rows_read / mrun.seconds:,.0f} rows/s; HHI credit {mrun.tables['hhi_credit']}")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bureau.db"
        started = time.perf_counter()
        states = build(url, persons=args.persons, months=args.months, seed=args.seed)
        print(f"built {args.persons:,} persons × {args.months} months: {states:,} account states in "
              f"{time.perf_counter() - started:.0f} s ({'PostgreSQL' if args.postgres else 'SQLite'})")
        measure(url, months=args.months)


if __name__ == "__main__":
    main()
