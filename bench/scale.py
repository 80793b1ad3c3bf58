"""The scale run: bureaus of growing size on PostgreSQL, the cost per record of each batch step at each size,
and how the cost grows (issue: beyond one machine; docs/scaling.md, Measured at scale).

For each size (persons; ``--months`` months of files each), on PostgreSQL:
1. Build the bureau once (``bench/report_api.build``: simulate the market, replay every file and consent
   through the real intake, import the benchmark lender's query consents, VACUUM ANALYZE); kept in
   ``--data/<size>`` and reused. Intake is timed by the replay: seconds per stored account state.
2. Identity resolution (``openbureau identity resolve``) with DuckDB, then with Spark ``local[2]`` up to
   ``--spark-up-to`` persons (a second resolution finds the merges made: it reads and scores the same
   records and writes little). Seconds per record.
3. Quality: the scorecards of the newest period (``quality.figures.run_quality``), seconds per account state
   read, in process and (up to ``--spark-up-to``) with the states' figures on Spark.
4. Training set: every file observed at the newest period (``training_set`` with no outcome months, so a
   one-month bureau can be measured: the rows are built, the outcomes are all "not bad"), seconds per person.
5. Inquiries: ``--inquiries`` reports of random persons through the service (``reports.service.inquire``,
   logged and audited) in one process, one after another: p50 and p99 in ms.

The server's settings that intake's cost depends on (shared buffers, WAL size, checkpoint interval, WAL
compression) are printed and kept with each size's figures.

Then, per step, the cost per record at the largest size ÷ at the smallest (near-linear: ≤ 1.2), and the time
to resolve 100 M records projected from the DuckDB resolution's measured curve, ``t(n) = a × n^b`` fitted
by least squares on log t and log n (b = 1 is linear).

    .venv/bin/python bench/scale.py --sizes 1000000,3000000 --months 1
    .venv/bin/python bench/scale.py --sizes 20000,60000 --months 1 --spark-up-to 60000   # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report_api import PG_ADMIN, SUBSCRIBER, build, database_url, log  # noqa: E402

ENGINE = "postgresql"


def runtime_of(data: Path, persons: int):
    from openbureau.kit.settings import Settings
    from openbureau.runtime import open_runtime

    keys = json.loads((data / "keys.json").read_text())
    return open_runtime(Settings(data_dir=data / ENGINE, database_url=database_url(ENGINE, data, persons), **keys))


def states_stored(runtime) -> int:
    from sqlalchemy import func, select

    from openbureau.accounts.models import AccountState

    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AccountState)).scalar_one()


def resolve(runtime, batch_engine: str) -> dict:
    from openbureau.audit.service import terminal_operator
    from openbureau.identity.resolution import resolve as resolve_persons

    settings = runtime.settings.model_copy(update={"batch_engine": batch_engine})
    started = time.perf_counter()
    summary = resolve_persons(runtime.engine, settings=settings, vault=runtime.vault, principal=terminal_operator())
    return {"seconds": time.perf_counter() - started, "records": summary.records}


def quality(runtime, spark: bool) -> dict:
    from openbureau.kit.db import session_scope
    from openbureau.quality import figures

    with session_scope(runtime.engine) as session:
        conn = session.connection()
        period = figures.latest_period(conn)
        started = time.perf_counter()
        run = figures.run_quality(conn, period=period, months=1, settings=runtime.policy.quality,
                                  spark=runtime.settings.spark_options() if spark else None)
    return {"seconds": time.perf_counter() - started, "records": run.rows_read}


def training(runtime) -> dict:
    from openbureau.kit.db import session_scope
    from openbureau.scoring.training_set import latest_period, training_set

    with session_scope(runtime.engine) as session:
        period = latest_period(session)
        started = time.perf_counter()
        data = training_set(session, observation_period=period, outcome_months=0)
    persons = len(data.rows) + sum(data.excluded.values())
    return {"seconds": time.perf_counter() - started, "records": persons}


def inquiries(runtime, ids: list[str], count: int, seed: int) -> dict:
    from openbureau.consent.profiles import Purpose
    from openbureau.consent.schemas import Subject
    from openbureau.kit.db import session_scope
    from openbureau.members.service import get_member
    from openbureau.principals import Principal
    from openbureau.reports.schemas import InquiryCreate
    from openbureau.reports.service import inquire

    with session_scope(runtime.engine) as session:
        principal = Principal.of_member(get_member(session, code=SUBSCRIBER))
    rng = random.Random(seed)
    times = []
    for _ in range(count):
        n = rng.randrange(len(ids))
        request = InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=ids[n]),
                                purpose=Purpose.LOAN_ORIGINATION, consent_ref=f"LX-Q{n}")
        started = time.perf_counter()
        with session_scope(runtime.engine, write=True) as session:
            inquire(session, vault=runtime.vault, principal=principal, policy=runtime.policy, request=request,
                    now=datetime.now(UTC))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)],
            "count": count}


# The server settings the intake's cost at scale depends on (docs/scaling.md, The same builds on a tuned server).
SERVER_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression")


def server_settings() -> dict[str, str]:
    """The PostgreSQL server's settings in :data:`SERVER_SETTINGS`, as it reports them."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SERVER_SETTINGS}


def release_spark() -> None:
    """End the JVM the Spark steps started: a stopped session leaves it running, holding its heap (4.2 GB
    after the 1 M steps, which made the next size's identity resolution run out of memory)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    gateway.proc.kill()
    gateway.proc.wait()
    SparkContext._gateway = SparkContext._jvm = None


def measure(size: int, args: argparse.Namespace) -> dict:
    data = args.data / str(size)
    built = build(ENGINE, data=data, persons=size, months=args.months, seed=args.seed)
    runtime = runtime_of(data, size)
    states = states_stored(runtime)
    result = {"persons": size, "states": states, "server": server_settings(),
              "intake": {"seconds": built.get("replay_seconds"), "records": states},
              "intake_phases": phase_totals(built.get("replay_phases") or [])}
    log(f"{size:,}: {states:,} account states; intake {built.get('replay_seconds') or float('nan'):.0f} s")
    result["identity_duckdb"] = resolve(runtime, "duckdb")
    log(f"{size:,}: identity (DuckDB) {result['identity_duckdb']['seconds']:.0f} s")
    if size <= args.spark_up_to:
        result["identity_spark"] = resolve(runtime, "spark")
        log(f"{size:,}: identity (Spark) {result['identity_spark']['seconds']:.0f} s")
    result["quality"] = quality(runtime, spark=False)
    log(f"{size:,}: quality {result['quality']['seconds']:.0f} s")
    if size <= args.spark_up_to:
        result["quality_spark"] = quality(runtime, spark=True)
        log(f"{size:,}: quality (Spark) {result['quality_spark']['seconds']:.0f} s")
        release_spark()
    result["training_set"] = training(runtime)
    log(f"{size:,}: training set {result['training_set']['seconds']:.0f} s")
    ids = Path(built["ids"]).read_text().split()
    result["inquiries"] = inquiries(runtime, ids, args.inquiries, args.seed)
    runtime.engine.dispose()
    (data / "scale.json").write_text(json.dumps(result, indent=2))
    return result


PHASES = (("monthly", "monthly files"), ("events", "event files"), ("consents", "consent imports"),
          ("applications", "applications"))


def phase_totals(spans: list[dict]) -> dict:
    """The replay's time by kind of work (``bench.report_api.ReplayPhases``): seconds, rows and the
    PostgreSQL counters summed over the spans of each kind."""
    totals: dict[str, dict] = {}
    for span in spans:
        into = totals.setdefault(span["kind"], {})
        for key, value in span.items():
            if key not in ("kind", "furnisher"):
                into[key] = into.get(key, 0) + value
    return totals


def report_phases(results: list[dict]) -> None:
    """The intake's parts per size: where a replay's time went, and PostgreSQL's work over each part (WAL,
    its full-page images, blocks read from outside the shared buffers)."""
    print("\nIntake's parts (the replay's spans; PostgreSQL's counters over each span)")
    print(f"{'part':<18}{'persons':>11}{'seconds':>10}{'rows':>12}{'µs/row':>9}{'WAL GB':>9}{'full pages':>12}"
          f"{'blocks read':>13}")
    for kind, label in PHASES:
        for r in results:
            part = (r.get("intake_phases") or {}).get(kind)
            if not part:
                continue
            per_row = f"{part['seconds'] / part['rows'] * 1e6:>9.1f}" if part.get("rows") else f"{'-':>9}"
            counters = (f"{part['wal_bytes'] / 1e9:>9.2f}{part['wal_fpi']:>12,}{part['blks_read']:>13,}"
                        if "wal_bytes" in part else "")
            print(f"{label:<18}{r['persons']:>11,}{part['seconds']:>10.1f}{part.get('rows', 0):>12,}{per_row}"
                  f"{counters}")


def fit_power(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of t = a × n^b, least squares on the logarithms."""
    xs, ys = [math.log(n) for n, _ in points], [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - b * mx), b


STEPS = ("intake", "identity_duckdb", "identity_spark", "quality", "quality_spark", "training_set")


def report(results: list[dict]) -> None:
    print(f"\nScale run on PostgreSQL ({ENGINE}), {len(results)} sizes; microseconds per record "
          "(intake and quality: per account state; identity: per record resolved; training set: per person)")
    for r in results:  # as the steps were measured (a kept build's intake was measured when it was built)
        if r.get("server"):
            print(f"{r['persons']:,} persons: " + ", ".join(f"{k} {v}" for k, v in r["server"].items()))
    print(f"{'step':<18}" + "".join(f"{r['persons']:>14,}" for r in results) + f"{'ratio last/first':>18}")
    for step in STEPS:
        cells = [r.get(step) for r in results]
        per = [None if c is None or not c.get("seconds") else c["seconds"] / c["records"] * 1e6 for c in cells]
        shown = "".join(f"{p:>14.1f}" if p is not None else f"{'-':>14}" for p in per)
        known = [p for p in per if p is not None]
        ratio = f"{known[-1] / known[0]:>18.2f}" if len(known) >= 2 else f"{'-':>18}"
        if len(known) >= 3:
            ratio += f"  (last/previous {known[-1] / known[-2]:.2f})"
        print(f"{step:<18}{shown}{ratio}")
    print(f"{'inquiry p50 ms':<18}" + "".join(f"{r['inquiries']['p50']:>14.1f}" for r in results))
    print(f"{'inquiry p99 ms':<18}" + "".join(f"{r['inquiries']['p99']:>14.1f}" for r in results))
    report_phases(results)
    points = [(r["identity_duckdb"]["records"], r["identity_duckdb"]["seconds"]) for r in results]
    if len(points) >= 2:
        a, b = fit_power(points)
        print(f"\nIdentity resolution (DuckDB): t(n) = {a:.3g} × n^{b:.3f} s fitted on {len(points)} sizes; "
              f"100 M records: {a * 1e8 ** b / 3600:.1f} h projected (one machine, if memory allowed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,3000000,10000000", help="persons per bureau, comma-separated")
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--spark-up-to", type=int, default=1_000_000, help="largest size also run on Spark")
    parser.add_argument("--inquiries", type=int, default=500)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "scale")
    parser.add_argument("--spark-driver-memory", default="8g",
                        help="the Spark driver's heap (local mode: the whole of Spark's); Spark's own 1g runs out "
                             "at about 150,000 records")
    args = parser.parse_args()
    os.environ.setdefault("OPENBUREAU_SPARK_DRIVER_MEMORY", args.spark_driver_memory)
    results = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        results.append(measure(size, args))
        report(results)


if __name__ == "__main__":
    main()
