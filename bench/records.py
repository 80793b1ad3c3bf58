"""Valid furnishing records in bulk, for benchmarks: vectorised, deterministic for a seed."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from openbureau.intake import standard
from openbureau.kit.periods import period_end

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
_REGIONS = np.array([110101, 110105, 310104, 440304, 330106, 510107, 420106, 320102])
_SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
_GIVEN = np.array(list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"))


def resident_ids(births: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid 18-character resident ID numbers for birth dates (numpy datetime64[D])."""
    n = len(births)
    region = rng.choice(_REGIONS, n).astype(str)
    ymd = np.char.replace(births.astype(str), "-", "")
    seq = np.char.zfill(rng.integers(0, 1000, n).astype(str), 3)
    body = np.char.add(np.char.add(region, ymd), seq)
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(n, 17) - ord("0")
    return np.char.add(body, _CHECK[(digits @ _WEIGHTS) % 11])


def make_records(count: int, *, period: str = "2026-09", seed: int = 7, persons: int | None = None,
                 negative_share: float = 0.0) -> pl.DataFrame:
    """``count`` valid revolving-account records of ``persons`` people (default: one account each), of which
    about ``negative_share`` are 45 days past due (the person told on the 20th of the month)."""
    rng = np.random.default_rng(seed)
    persons = persons or count
    births = np.datetime64("1960-01-01") + rng.integers(0, 12_000, persons).astype("timedelta64[D]")
    ids = resident_ids(births, rng)
    names = np.char.add(np.char.add(rng.choice(_SURNAMES, persons), rng.choice(_GIVEN, persons)),
                        rng.choice(_GIVEN, persons))
    phones = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, persons).astype(str), 9))
    owner = np.arange(count) % persons
    limit = rng.integers(1, 500, count) * 10_000
    balance = (limit * rng.random(count)).astype(np.int64)
    due = balance // 10
    frame = pl.DataFrame({
        "furnisher_account_id": [f"ACC{i:09d}" for i in range(count)],
        "reporting_period": period,
        "id_type": "CN_RESIDENT_ID",
        "id_number": ids[owner],
        "full_name": names[owner],
        "birth_date": births[owner].astype(str),
        "phone": phones[owner],
        "address": "北京市朝阳区建国路" + pl.Series(owner % 997).cast(pl.String) + "号",
        "product_type": "revolving",
        "opened_on": str(date(2020, 1, 15)),
        "currency": "CNY",
        "credit_limit": limit.astype(str),
        "original_amount": None,
        "term_months": None,
        "balance": balance.astype(str),
        "amount_due": due.astype(str),
        "amount_paid": due.astype(str),
        "past_due_amount": "0",
        "days_past_due": "0",
        "payment_status": "N",
        "account_status": "open",
        "first_delinquency_date": None,
        "closed_on": None,
        "consent_ref": "C" + pl.Series(owner).cast(pl.String),
        "negative_notice_date": None,
        "correction": "0",
    })
    if negative_share:
        late = pl.Series((rng.random(count) < negative_share) & (due > 0))
        frame = frame.with_columns(
            pl.when(late).then(pl.lit("45")).otherwise(pl.col("days_past_due")).alias("days_past_due"),
            pl.when(late).then(pl.lit("2")).otherwise(pl.col("payment_status")).alias("payment_status"),
            pl.when(late).then(pl.col("amount_due")).otherwise(pl.col("past_due_amount")).alias("past_due_amount"),
            pl.when(late).then(pl.lit(str(period_end(period) - timedelta(days=44)))).otherwise(None)
            .alias("first_delinquency_date"),
            pl.when(late).then(pl.lit(f"{period}-20")).otherwise(None).alias("negative_notice_date"),
        )
    return frame.select(pl.col(c).cast(pl.String) for c in standard.V1_COLUMNS)  # a v1 file, as furnishers send today


def make_consents(records: pl.DataFrame) -> pl.DataFrame:
    """A consent to furnish for every person of ``records`` (the consent file a furnisher would send)."""
    people = records.select("id_type", "id_number").unique(maintain_order=True)
    return people.select(
        ("BENCH-" + pl.int_range(0, pl.len()).cast(pl.String)).alias("consent_ref"),
        "id_type", "id_number",
        pl.lit("furnish").alias("purpose"),
        pl.lit("2020-01-01T00:00:00Z").alias("granted_at"),
        pl.lit(None, dtype=pl.String).alias("expires_at"),
        pl.lit("app").alias("channel"),
        pl.col("id_number").hash().cast(pl.String).str.zfill(64).alias("evidence_hash"),  # a digest per person
        pl.lit("active").alias("status"),
        pl.lit(None, dtype=pl.String).alias("revoked_at"),
    )
