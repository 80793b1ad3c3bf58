"""Identity resolution on each batch engine: DuckDB in memory against Spark ``local[2]``, the same bureau.

Builds one SQLite bureau from the simulated market (``bench/identity.py``'s ``sim`` kind: records stored as
intake would store them), then, ``--repeats`` times per engine, copies it and runs
``openbureau identity resolve --engine ENGINE --json`` on the copy in a fresh process, as an operator would.
Prints per engine the median and range of the command's wall time and of the resolution's own time (the
summary's ``seconds``: for Spark it includes starting the session), and checks that every run made the same
links (merges and reviews) whatever the engine.

    .venv/bin/python bench/engines.py                     # about 30 000 records, 3 runs per engine
    .venv/bin/python bench/engines.py --size 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.identity import sim_records, store  # noqa: E402

ENGINES = ("duckdb", "spark")


def _links(data_dir: Path) -> tuple[frozenset, frozenset]:
    engine = create_engine(f"sqlite:///{data_dir / 'bureau.db'}")
    with engine.connect() as conn:
        merges = frozenset(conn.execute(text("SELECT person_id, into_person_id FROM identity_merges")).all())
        reviews = frozenset(conn.execute(text("SELECT person_id, candidate_person_id FROM identity_reviews")).all())
    engine.dispose()
    return merges, reviews


def run_once(bureau: Path, work: Path, engine: str) -> dict:
    """Resolve a copy of ``bureau`` with ``engine`` in a fresh process; its times and links."""
    copy = work / f"run-{engine}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(bureau, copy)
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(copy)}
    env.pop("OPENBUREAU_DATABASE_URL", None)
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "openbureau"), "identity", "resolve", "--engine", engine,
                           "--json"], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    summary = json.loads(done.stdout)
    return {"wall": wall, "seconds": summary["seconds"], "summary": summary, "links": _links(copy)}


def run_warm(bureau: Path, work: Path, repeats: int) -> dict[str, list[float]]:
    """Resolution seconds in this process with one Spark session kept across runs (its first run, which
    warms the JVM, is left out) against DuckDB's: what a long-lived driver pays per run."""
    from openbureau.audit.service import terminal_operator
    from openbureau.identity.resolution import resolve
    from openbureau.identity.resolution.linker import DuckDBLinker, SparkLinker
    from openbureau.kit.settings import Settings
    from openbureau.kit.spark import spark_session
    from openbureau.runtime import open_runtime

    times: dict[str, list[float]] = {e: [] for e in ENGINES}
    with spark_session(Settings(data_dir=bureau).spark_options()) as spark:
        for i in range(repeats + 1):
            for engine, linker in (("duckdb", DuckDBLinker()), ("spark", SparkLinker(spark))):
                copy = work / f"warm-{engine}"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(bureau, copy)
                runtime = open_runtime(Settings(data_dir=copy))
                summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault,
                                  principal=terminal_operator(), linkage=linker)
                runtime.engine.dispose()
                if i:
                    times[engine].append(summary.seconds)
    return times


def _figure(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} s ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    """Build the bureau, resolve it on each engine ``--repeats`` times, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=30_000, help="records of the simulated market (about)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        work = Path(tmp)
        records, _ = sim_records(args.size, work)
        bureau = work / "bureau"
        store(records, bureau).engine.dispose()
        runs: dict[str, list[dict]] = {e: [] for e in ENGINES}
        for _ in range(args.repeats):
            for engine in ENGINES:  # alternated, so that the machine's load falls on both alike
                runs[engine].append(run_once(bureau, work, engine))
        first = runs["duckdb"][0]["summary"]
        print(f"bureau: {first['records']:,} records, {first['persons_strong']:,} resident-ID persons, "
              f"{first['persons_weak']:,} weakly identified; {first['candidate_pairs']:,} pairs above the lower "
              f"threshold, {first['merged']:,} merged, {first['queued']:,} queued")
        print(f"{'engine':>7} {'command (median, range)':>26} {'resolution (median, range)':>28}")
        for engine in ENGINES:
            print(f"{engine:>7} {_figure([r['wall'] for r in runs[engine]]):>26} "
                  f"{_figure([r['seconds'] for r in runs[engine]]):>28}")
        ratio = statistics.median(r["seconds"] for r in runs["spark"]) / statistics.median(
            r["seconds"] for r in runs["duckdb"])
        print(f"spark / duckdb (resolution, medians): {ratio:.2f}")
        warm = run_warm(bureau, work, args.repeats)
        print("one process, the Spark session kept (after one warm-up run):")
        for engine in ENGINES:
            print(f"{engine:>7} {'':>26} {_figure(warm[engine]):>28}")
        print(f"spark / duckdb (resolution, medians, warm): "
              f"{statistics.median(warm['spark']) / statistics.median(warm['duckdb']):.2f}")
        links = {r["links"] for e in ENGINES for r in runs[e]}
        print("same links on every engine and run:", "yes" if len(links) == 1 else f"NO ({len(links)} answers)")
        if len(links) != 1:
            sys.exit(1)


if __name__ == "__main__":
    main()
