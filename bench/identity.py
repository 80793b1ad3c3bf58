"""Identity resolution benchmark: ``resolve`` on bureaus of 100 k and 1 M stored records (5 M with --large).

Each bureau is the simulated market (12 months, as many persons as the size needs) stored straight into
a fresh SQLite bureau: persons linked exactly by (id_type, id_number), identity descriptions encrypted, as
intake would store them, but without intake itself (measured by bench/ingest.py): records the simulator
made invalid in an identifying field are left out, as intake would reject them. Only the
resolution is timed; it prints records/s and time per record at each size, so growth with size is visible.

    .venv/bin/python bench/identity.py            # 100 k and 1 M
    .venv/bin/python bench/identity.py --sizes 100000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from openbureau import sim  # noqa: E402
from openbureau.identity.evaluate import evaluate  # noqa: E402
from openbureau.identity.models import Person  # noqa: E402
from openbureau.identity.resolution import resolve  # noqa: E402
from openbureau.identity.service import seal_identities  # noqa: E402
from openbureau.intake.models import AccountState  # noqa: E402
from openbureau.kit.bulk import bulk_writer_for  # noqa: E402
from openbureau.kit.settings import Settings  # noqa: E402
from openbureau.runtime import open_runtime  # noqa: E402
from openbureau.sim.replay import register_members  # noqa: E402

MONTHS = 12
RECORDS_PER_PERSON_MONTH = 2.65  # the simulated market's density
COLUMNS = ["furnisher_account_id", "reporting_period", "id_type", "id_number", "full_name", "birth_date",
           "phone", "address"]


def _read(entry) -> pl.DataFrame:
    path = Path(entry.path)
    frame = {"csv": lambda: pl.read_csv(path, infer_schema=False), "parquet": lambda: pl.read_parquet(path),
             "jsonl": lambda: pl.read_ndjson(path, infer_schema_length=None)}[entry.format]()
    return frame.select(pl.col(c).cast(pl.String) for c in COLUMNS).with_columns(pl.lit(entry.furnisher)
                                                                                 .alias("furnisher"))


def build(size: int, work: Path) -> tuple[object, Path]:
    """A bureau of about ``size`` records in ``work``; returns its runtime and the truth directory."""
    persons = max(100, round(size / (RECORDS_PER_PERSON_MONTH * MONTHS)))
    market = work / "market"
    sim.generate(persons=persons, months=MONTHS, seed=42, out=market, end_period="2025-06")
    runtime = open_runtime(Settings(data_dir=work))
    register_members(runtime.engine)
    with runtime.engine.connect() as conn:
        members = dict(conn.execute(text("SELECT code, id FROM members")).all())
    records = pl.concat([_read(e) for e in sim.read_manifest(market)]).drop_nulls(["id_number", "id_type"])
    records = records.unique(["furnisher", "furnisher_account_id", "reporting_period"], keep="first")
    # Records intake would reject (an invalid resident ID above all) are left out, as intake leaves them.
    invalid = pl.read_parquet(market / "truth" / "defects.parquet").filter(
        pl.col("defect_type").is_in(["missing_required", "invalid_id_number"])).select(
        "furnisher", pl.col("period").alias("reporting_period"), "furnisher_account_id").unique()
    records = records.join(invalid, on=["furnisher", "reporting_period", "furnisher_account_id"], how="anti")
    keys = records.select("id_type", "id_number").unique().sort("id_type", "id_number").with_row_index(
        "person_id", offset=1).with_columns(pl.col("person_id").cast(pl.Int64))
    vault = runtime.vault
    index = [vault.blind_index(n, domain=t) for t, n in keys.select("id_type", "id_number").iter_rows()]
    now = datetime.now(UTC)
    person_rows = keys.select(pl.col("person_id").alias("id"), "id_type",
                              pl.Series("id_index", index, dtype=pl.Binary),
                              pl.Series("id_enc", vault.encrypt_many(keys["id_number"].to_list()), dtype=pl.Binary),
                              pl.lit(now).alias("created_at"), pl.lit(None, dtype=pl.Int64).alias("merged_into_id"))
    records = records.join(keys, on=["id_type", "id_number"])
    states = records.select(
        pl.col("furnisher").replace_strict(members, return_dtype=pl.Int64).alias("furnisher_id"),
        "furnisher_account_id", "reporting_period", pl.lit(1).alias("version"), pl.lit(1).alias("submission_id"),
        pl.int_range(pl.len()).alias("line"), "person_id", seal_identities(vault, records),
        pl.lit("installment").alias("product_type"), pl.lit(datetime(2024, 1, 1).date()).alias("opened_on"),
        pl.lit("CNY").alias("currency"), *[pl.lit(None, dtype=pl.Int64).alias(c) for c in
                                           ("credit_limit", "original_amount", "term_months")],
        *[pl.lit(0).alias(c) for c in ("balance", "amount_due", "amount_paid", "past_due_amount",
                                       "days_past_due", "correction", "has_warnings", "negative_held")],
        pl.lit("N").alias("payment_status"), pl.lit("open").alias("account_status"),
        *[pl.lit(None).alias(c) for c in ("first_delinquency_date", "closed_on", "consent_ref",
                                          "negative_notice_date", "held_reason", "released_at")],
        pl.lit(now).alias("stored_at"),
    )
    with runtime.engine.begin() as conn:
        writer = bulk_writer_for(conn)
        writer.insert(conn, Person.__table__, person_rows)
        writer.insert(conn, AccountState.__table__, states.select([c.name for c in AccountState.__table__.columns]))
    return runtime, market / "truth"


def main() -> None:
    """Build each size, resolve it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--large", action="store_true", help="also 5,000,000 records")
    args = parser.parse_args()
    sizes = args.sizes + ([5_000_000] if args.large else [])
    print(f"{'records':>10} {'weak':>7} {'merged':>7} {'queued':>7} {'seconds':>8} {'records/s':>10} "
          f"{'us/record':>9} {'precision':>9} {'recall':>7}")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-identity-") as tmp:
            runtime, truth = build(size, Path(tmp))
            started = time.perf_counter()
            summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault)
            seconds = time.perf_counter() - started
            quality = evaluate(runtime.engine, truth=truth)
            runtime.engine.dispose()
        print(f"{summary.records:>10,} {summary.persons_weak:>7,} {summary.merged:>7,} {summary.queued:>7,} "
              f"{seconds:>8.1f} {summary.records / seconds:>10,.0f} {1e6 * seconds / summary.records:>9.1f} "
              f"{quality.precision:>9.4f} {quality.recall:>7.4f}", flush=True)
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
