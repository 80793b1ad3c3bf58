"""Metro 2 read and write throughput against the CSV reader on the same records, with peak memory.

Writes a generated Metro 2 file of ``--records`` accounts (header, base segments, one in five with a J1
segment, one in ten with a K1, trailer) with ``openbureau.metro2.write`` and reads it back with
``openbureau.metro2.read`` (every field and semantic check, streamed) and with intake's streaming reader
(``intake.readers.ChunkReader``: the codec, then frames of the standard's columns). The same accounts are then
written in the standard's columns as CSV (Polars, in batches) and read with the same ``ChunkReader``, so both
formats do the same kind of work into the same frames; last, Polars' whole-file ``read_csv`` (every column as
text, no checks) is printed as the raw ceiling. Peak resident memory is printed after the streamed phases and
after Polars' whole-file read (``ru_maxrss`` only grows, so the whole-file read comes last). The load average
at the start is printed with the figures.

With ``--intake`` it measures instead the whole intake of the generated file (``openbureau.intake.service.submit``:
read and checked by the codec, mapped, validated, linked, encrypted, stored) into a fresh embedded bureau under
the US profile, and the peak resident memory of the load (this process and a preparing process, if any).

    .venv/bin/python bench/metro2.py                  # 1,000,000 records
    .venv/bin/python bench/metro2.py --records 200000
    .venv/bin/python bench/metro2.py --intake         # end to end into SQLite
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from openbureau.intake import standard  # noqa: E402
from openbureau.intake.readers import ChunkReader, FileFormat  # noqa: E402
from openbureau.metro2 import base, header, read, with_trailer, write  # noqa: E402
from openbureau.metro2.mapping import to_standard  # noqa: E402
from openbureau.metro2.records import Record  # noqa: E402

REPORTED = date(2026, 9, 30)
STATUSES = [("11", "", 0), ("11", "", 0), ("11", "", 0), ("71", "", 1), ("13", "0", 0), ("97", "", 6)]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def accounts(count: int) -> Iterator[Record]:
    """``count`` valid accounts, deterministic."""
    yield header(activity_date=REPORTED, date_created=REPORTED, reporter_name="BENCH BANK",
                 reporter_address="1 MAIN STREET SPRINGFIELD IL")
    for i in range(count):
        status, rating, late = STATUSES[i % len(STATUSES)]
        balance = 0 if status == "13" else 500 + i % 9000
        past_due = balance if status == "97" else 50 * late
        values = {
            "time_stamp": "10012026120000", "identification_number": "BENCHFURN1",
            "consumer_account_number": f"ACC{i:012d}", "portfolio_type": "R", "account_type": "18",
            "date_opened": REPORTED - timedelta(days=400 + i % 3000), "credit_limit": 10000, "highest_credit": 9000,
            "terms_duration": "REV", "terms_frequency": "M", "scheduled_monthly_payment_amount": 25,
            "actual_payment_amount": 25, "account_status": status, "payment_rating": rating,
            "payment_history_profile": ("L" if status == "97" else "0") * 24, "current_balance": balance,
            "amount_past_due": past_due, "original_charge_off_amount": balance if status == "97" else 0,
            "date_of_account_information": REPORTED,
            "date_of_first_delinquency": (date(2025, 11, 1) if status == "97" else date(2026, 8, 1)) if late else None,
            "date_closed": date(2026, 9, 20) if status == "13" else None,
            "surname": "SURNAME", "first_name": f"FIRST{i % 1000}", "social_security_number": f"{100000000 + i}",
            "date_of_birth": date(1960, 1, 1) + timedelta(days=i % 15000), "telephone_number": 2175550000 + i % 9999,
            "ecoa_code": "1", "first_line_of_address": f"{i % 999} ELM ST", "city": "SPRINGFIELD", "state": "IL",
            "postal_zip_code": "62701",
        }
        appended = []
        if i % 5 == 0:
            appended.append(("J1", {"surname": "SURNAME", "first_name": "JOINT", "ecoa_code": "2"}))
        if i % 10 == 0:
            appended.append(("K1", {"original_creditor_name": "ORIGINAL CO", "creditor_classification": 2}))
        yield base(values, *appended)


def intake(n: int) -> None:
    """Submit a generated file of ``n`` accounts to a fresh embedded bureau (US profile); print the figures."""
    import base64
    import os

    from openbureau.audit.service import terminal_operator
    from openbureau.intake import service
    from openbureau.kit.db import session_scope
    from openbureau.kit.settings import Settings
    from openbureau.members.schemas import MemberCreate
    from openbureau.members.service import add_member
    from openbureau.runtime import open_runtime

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.metro2"
        write(with_trailer(accounts(n)), path)
        keys = {name: base64.b64encode(os.urandom(32)).decode() for name in ("pii_key", "index_key")}
        runtime = open_runtime(Settings(data_dir=Path(tmp) / "data", jurisdiction="US", **keys))
        with session_scope(runtime.engine, write=True) as session:
            add_member(session, principal=terminal_operator(),
                       data=MemberCreate(code="BENCH", name="Bench Bank", roles=["furnisher"]))
        t = time.perf_counter()
        s = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BENCH",
                           path=path, today=date(2026, 11, 22)).submission
        seconds = time.perf_counter() - t
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"Metro 2 intake, {n:,} accounts ({path.stat().st_size / 2**20:.0f} MiB), SQLite, US profile")
        print(f"  end to end (service.submit):      {seconds:6.1f} s  {n / seconds:>10,.0f} records/s")
        print(f"  {s.status}: {s.records_accepted:,} accepted, {s.records_warnings:,} with warnings, "
              f"{s.records_rejected:,} rejected; findings {s.finding_counts}")
        print(f"  peak RSS: loader {_rss_mib():,.0f} MiB, preparing process {children:,.0f} MiB")


def _csv_of(path: Path, csv: Path, *, batch: int = 50_000) -> tuple[float, int]:
    """The base records of the Metro 2 file at ``path`` as a CSV of the standard's columns, written in batches
    (mapping not timed); (seconds spent in ``polars.write_csv``, records)."""
    spent, rows, count = 0.0, [], 0
    with csv.open("wb") as out:
        def flush() -> None:
            nonlocal spent, rows
            frame = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]}, orient="row")
            t = time.perf_counter()
            frame.write_csv(out, include_header=count == len(rows))
            spent += time.perf_counter() - t
            rows = []

        for record in read(path):
            if record.kind == "base":
                row = to_standard(record)
                rows.append({c: row[c] for c in standard.COLUMNS})
                count += 1
                if len(rows) == batch:
                    flush()
        if rows:
            flush()
    return spent, count


def _chunked(path: Path, fmt: FileFormat) -> tuple[float, int]:
    """Seconds and records of reading ``path`` with intake's streaming reader (frames of the standard's columns)."""
    t = time.perf_counter()
    rows = sum(frame.height for frame in ChunkReader(path, fmt, chunk_size=100_000).chunks())
    return time.perf_counter() - t, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--intake", action="store_true", help="measure the intake of the file end to end")
    args = parser.parse_args()
    n = args.records
    if args.intake:
        intake(n)
        return
    start_rss = _rss_mib()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.metro2"
        t = time.perf_counter()
        write(with_trailer(accounts(n)), path)
        write_s = time.perf_counter() - t
        size = path.stat().st_size
        t = time.perf_counter()
        records = errors = 0
        for record in read(path):
            records += 1
            errors += len(record.errors)
        read_s = time.perf_counter() - t
        assert errors == 0, f"{errors} errors in a generated file"
        m2_chunk_s, m2_rows = _chunked(path, FileFormat.METRO2)
        assert m2_rows == n
        metro2_rss = _rss_mib()

        csv = Path(tmp) / "bench.csv"
        csv_write_s, written = _csv_of(path, csv)
        assert written == n
        csv_size = csv.stat().st_size
        csv_chunk_s, csv_rows = _chunked(csv, FileFormat.CSV)
        assert csv_rows == n
        csv_rss = _rss_mib()
        t = time.perf_counter()
        back = pl.read_csv(csv, infer_schema=False)
        polars_s = time.perf_counter() - t
        assert back.height == n
        columns = len(back.columns)
        del back
    print(f"{n:,} accounts, load average at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)")
    print(f"Metro 2 ({records:,} records, {size / 2**20:.0f} MiB)")
    print(f"  write (openbureau.metro2.write):       {write_s:6.1f} s  {n / write_s:>10,.0f} records/s")
    print(f"  read  (openbureau.metro2.read):        {read_s:6.1f} s  {n / read_s:>10,.0f} records/s  (all checks)")
    print(f"  read  (intake ChunkReader, metro2):    {m2_chunk_s:6.1f} s  {n / m2_chunk_s:>10,.0f} records/s"
          "  (checks, mapped to standard frames)")
    print(f"  peak RSS after Metro 2 phases: {metro2_rss:,.0f} MiB (at start {start_rss:,.0f} MiB)")
    print(f"CSV of the same accounts in standard columns ({columns} columns, {csv_size / 2**20:.0f} MiB)")
    print(f"  write (polars.write_csv, 50k batches): {csv_write_s:6.1f} s  {n / csv_write_s:>10,.0f} records/s")
    print(f"  read  (intake ChunkReader, csv):       {csv_chunk_s:6.1f} s  {n / csv_chunk_s:>10,.0f} records/s"
          "  (standard frames)")
    print(f"  peak RSS after streamed CSV phases: {csv_rss:,.0f} MiB")
    print(f"  read  (polars.read_csv, whole file):   {polars_s:6.1f} s  {n / polars_s:>10,.0f} records/s"
          "  (raw ceiling, no checks)")
    print(f"  peak RSS after polars.read_csv: {_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
