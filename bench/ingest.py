"""Ingest benchmark: N records end to end (parse, validate, link, store) against the engine's raw ceiling.

For each engine it runs, each in a fresh process and a fresh database:
- ceiling: the same file read by the same reader and bulk-inserted as-is into a bare table of text columns,
  one per column of the file (executemany in one transaction on SQLite, COPY on PostgreSQL);
- end to end: ``intake submit`` of the file into an empty bureau whose furnisher has already sent its
  consents to furnish (imported before the clock starts, as a real furnisher's would be on file).
It prints records/s, the ratio end-to-end / ceiling, and peak memory during the run (the loading process plus
its preparing process, which run side by side, sampled every 50 ms): resident memory, and of it the
anonymous part (the processes' own heaps: what a load allocates; ``bench/memory.py`` says why).

    .venv/bin/python bench/ingest.py --records 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import polars as pl
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import MemorySampler  # noqa: E402
from openbureau.intake import standard  # noqa: E402

PG_ADMIN = os.environ.get("OPENBUREAU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def child_ceiling(url: str, path: Path, chunk_size: int) -> dict:
    """Read the file and bulk-insert its rows as they are into a bare table."""
    from sqlalchemy import Column, MetaData, Table, Text

    from openbureau.intake.readers import ChunkReader, FileFormat
    from openbureau.kit.db import make_engine
    from openbureau.kit.dialects import dialect_for

    engine = make_engine(url)
    # The file's own columns: the reader adds every other column of the standard (69 in v1.1) as empty, and
    # inserting those nulls too made the ceiling half as fast again as the file it stands for.
    columns = [c for c in pl.read_csv(path, n_rows=0).columns if c in standard.COLUMNS]
    table = Table("raw_records", MetaData(), *(Column(c, Text) for c in columns))
    table.metadata.create_all(engine)
    started = time.perf_counter()
    rows = 0
    with MemorySampler() as memory, engine.execution_options(sqlite_begin="BEGIN IMMEDIATE").begin() as conn:
        writer = dialect_for(conn)
        for chunk in ChunkReader(path, FileFormat.CSV, chunk_size=chunk_size).chunks():
            writer.insert(conn, table, chunk.select(columns))
            rows += chunk.height
    return {"seconds": time.perf_counter() - started, "rows": rows, **memory.figures()}


def child_end_to_end(url: str, path: Path, chunk_size: int, data_dir: Path) -> dict:
    """Submit the file to an empty bureau through the intake service."""
    from openbureau.intake import service
    from openbureau.kit.settings import Settings
    from openbureau.runtime import open_runtime

    # The furnisher and its consents are set up in a process of their own, so that the memory it takes to
    # import millions of consents is not counted as the load's.
    subprocess.run([sys.executable, __file__, "--child", "setup", "--url", url, "--file", str(path),
                    "--data-dir", str(data_dir)], check=True)
    # Niceness 0: the load alone is measured, at the priority of the ceiling run it is compared with.
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=url, chunk_size=chunk_size, load_niceness=0))
    with MemorySampler() as memory:
        started = time.perf_counter()
        result = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy,
                                furnisher_code="BENCH", path=path, today=date(2026, 11, 22))
        seconds = time.perf_counter() - started
    s = result.submission
    return {"seconds": seconds, "rows": s.records_received, "accepted": s.records_accepted + s.records_warnings,
            "rejected": s.records_rejected, "quarantined": s.records_quarantined, **memory.figures()}


def child_setup(url: str, path: Path, data_dir: Path) -> None:
    """Register the furnisher and import a consent to furnish for every person of the file."""
    from openbureau.audit.service import terminal_operator
    from openbureau.intake.quarantine import import_consents
    from openbureau.kit.db import session_scope
    from openbureau.kit.settings import Settings
    from openbureau.members.models import Role
    from openbureau.members.schemas import MemberCreate
    from openbureau.members.service import add_member
    from openbureau.runtime import open_runtime

    runtime = open_runtime(Settings(data_dir=data_dir, database_url=url))
    with session_scope(runtime.engine, write=True) as session:
        member, _ = add_member(session, principal=terminal_operator(),
                               data=MemberCreate(code="BENCH", name="Bench", roles=[Role.FURNISHER]))
    import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, actor=member,
                    path=path.with_suffix(".consents.csv"))


def child_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments a benchmark passes to its measured child process: ``--child``, the database's ``--url``,
    the ``--file`` to load or import and the bureau's ``--data-dir``."""
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--data-dir", type=Path)


def records_file(records: int, *, negative_share: float = 0.0) -> Path:
    """The benchmark's file of ``records`` records (and its consents file beside it), written once and kept in
    ``bench/out``."""
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    share = f"-negative{round(negative_share * 100)}" if negative_share else ""
    path = out_dir / f"ingest-{records}{share}.csv"
    if not path.exists():
        # In a child process, so that this process's peak memory (inherited by the measured children
        # through fork) stays small.
        print(f"writing {records:,} records to {path} ...", flush=True)
        code = (f"from bench.records import make_consents, make_records; "
                f"r = make_records({records}, negative_share={negative_share}); "
                f"r.write_csv({str(path)!r}); make_consents(r).write_csv({str(path.with_suffix('.consents.csv'))!r})")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return path


def _database(engine: str, workdir: Path) -> tuple[str, callable]:
    if engine == "sqlite":
        return f"sqlite:///{workdir / 'bureau.db'}", lambda: None
    name = f"openbureau_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", drop


def _run_child(kind: str, engine: str, path: Path, chunk_size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="ob-bench-") as tmp:
        workdir = Path(tmp)
        url, drop = _database(engine, workdir)
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--url", url, "--file", str(path),
                 "--chunk-size", str(chunk_size), "--data-dir", str(workdir / "data")],
                check=True, capture_output=True, text=True,
            )
        finally:
            drop()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--negative-share", type=float, default=0.0,
                        help="share of records 45 days past due (each a new negative item: a notice to write)")
    parser.add_argument("--child", choices=["ceiling", "e2e", "setup"])
    parser.add_argument("--url")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    if args.child == "ceiling":
        print(json.dumps(child_ceiling(args.url, args.file, args.chunk_size)))
        return
    if args.child == "setup":
        child_setup(args.url, args.file, args.data_dir)
        return
    if args.child == "e2e":
        print(json.dumps(child_end_to_end(args.url, args.file, args.chunk_size, args.data_dir)))
        return

    path = records_file(args.records, negative_share=args.negative_share)
    print(f"file: {path.name}, {path.stat().st_size / 2**20:,.0f} MiB, chunk size {args.chunk_size:,}")
    print(f"{'engine':<11}{'run':<13}{'seconds':>9}{'records/s':>12}{'peak MiB':>10}{'anon MiB':>10}{'ratio':>8}")
    for engine in args.engines.split(","):
        ceiling = _run_child("ceiling", engine, path, args.chunk_size)
        e2e = _run_child("e2e", engine, path, args.chunk_size)
        assert e2e["accepted"] == args.records and e2e["quarantined"] == 0, e2e
        c_rate, e_rate = ceiling["rows"] / ceiling["seconds"], e2e["rows"] / e2e["seconds"]
        print(f"{engine:<11}{'ceiling':<13}{ceiling['seconds']:>9.1f}{c_rate:>12,.0f}{ceiling['peak_mib']:>10,.0f}"
              f"{ceiling['anonymous_mib']:>10,.0f}")
        print(f"{engine:<11}{'end-to-end':<13}{e2e['seconds']:>9.1f}{e_rate:>12,.0f}{e2e['peak_mib']:>10,.0f}"
              f"{e2e['anonymous_mib']:>10,.0f}{e_rate / c_rate:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
