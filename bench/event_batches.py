"""What a batch of lending events costs by its size: CPU per batch and per event of ``receive_events`` (the
service behind ``POST /v1/events``) for batches of 1, 10, 100 and 1,000 events.

1. Simulate a small market and replay its monthly files into an embedded bureau (kept in ``--data`` and
   reused by later runs), so that events link to persons on file and pass the consent gate as a lender's
   would.
2. For each batch size, send ``--events`` events of one lender (``BANK_A``) in batches of that size, each
   event a copy of one of the market's own daily events with a new event id, dated a minute ago; measure
   the process's CPU time (``time.process_time``: Polars' threads included) per batch. The sizes are
   measured in turn, ``--runs`` times, and each figure is the median of the runs with their range.

It prints, per size, CPU ms per batch and per event. A batch's fixed cost is what a batch of one costs; the
per-event cost of a large batch is what the bureau's intake pays when furnishers batch their events.

3. Then single-event batches sent by ``--clients`` concurrent callers of the same lender through the
   serving process's intake (``intake.events.gathering.EventGatherer``, which takes a furnisher's batches
   that arrive together in as one), against one caller at a time through the same intake, in the same run:
   events a second and CPU ms per event of each.

    .venv/bin/python bench/event_batches.py --data bench/out/event-batches
    .venv/bin/python bench/event_batches.py --engine postgresql   # the same on PostgreSQL (a database of its own)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report_api  # noqa: E402

FURNISHER = "BANK_A"


def database_url(engine: str, data: Path, persons: int) -> str:
    """Where the bureau of ``engine`` is: a file in ``data`` on SQLite, a database of its own on PostgreSQL
    (named apart from ``bench/report_api.py``'s bureau of as many persons)."""
    if engine == "sqlite":
        return f"sqlite:///{data / 'bureau' / 'bureau.db'}"
    return report_api.database_url(engine, data, persons).replace("openbureau_bench_", "openbureau_event_batches_")


def build(data: Path, *, engine_name: str, persons: int, months: int, seed: int) -> None:
    """A bureau holding the market's monthly files (once; later runs reuse it)."""
    from openbureau import sim
    from openbureau.kit.crypto import PiiVault, load_keys
    from openbureau.kit.db import make_engine
    from openbureau.kit.settings import Settings
    from openbureau.migrations import upgrade
    from openbureau.runtime import Runtime
    from openbureau.sim.replay import register_members, replay

    market, bureau = data / "market", data / "bureau"
    sim.generate(persons=persons, months=months, seed=seed, out=market)
    bureau.mkdir(parents=True)
    keys = {k: base64.b64encode(os.urandom(32)).decode() for k in ("pii_key", "index_key")}
    url = database_url(engine_name, data, persons)
    if engine_name == "postgresql":
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(report_api.PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    settings = Settings(data_dir=bureau, database_url=url, **keys)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    register_members(engine)
    replay(engine, settings=settings, policy=runtime.policy, vault=runtime.vault, market=market, events=False)
    engine.dispose()
    (data / "keys.json").write_text(json.dumps(keys))


def measure(data: Path, *, url: str, sizes: list[int], events: int, runs: int, clients: int
            ) -> tuple[dict[int, list[float]], dict[int, list[tuple[float, float]]]]:
    """CPU seconds per batch, per size and run; and (events/s, CPU s per event) of single-event batches sent
    by 1 and by ``clients`` callers at once through the gathering intake, per run."""
    import asyncio

    from openbureau.intake.events.gathering import EventGatherer
    from openbureau.intake.events.schemas import EventBatch
    from openbureau.intake.events.service import receive_events
    from openbureau.kit.crypto import PiiVault, load_keys
    from openbureau.kit.db import make_engine, session_scope
    from openbureau.kit.settings import Settings
    from openbureau.members.service import get_member
    from openbureau.runtime import Runtime
    from openbureau.sim.event_files import read_event_manifest

    bureau = data / "bureau"
    settings = Settings(data_dir=bureau, database_url=url, **json.loads((data / "keys.json").read_text()))
    engine = make_engine(settings.resolved_database_url)
    runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    with session_scope(engine) as session:
        furnisher = get_member(session, code=FURNISHER)
        session.expunge(furnisher)
    files = [e.path for e in read_event_manifest(data / "market") if e.furnisher == FURNISHER]
    model = [{k: v for k, v in row.items() if v is not None}
             for row in pl.concat([pl.read_csv(p, infer_schema=False) for p in files], how="diagonal").to_dicts()]
    sent = 0

    def batch_of(size: int) -> tuple[pl.DataFrame, datetime]:
        nonlocal sent
        now = datetime.now(UTC)
        rows = []
        for _ in range(size):
            row = dict(model[sent % len(model)], event_id=f"bench-{os.getpid()}-{sent}",
                       occurred_at=(now - timedelta(minutes=1)).isoformat())
            rows.append(row)
            sent += 1
        return EventBatch.model_validate({"events": rows}).frame(), now

    def send(size: int) -> None:
        frame, now = batch_of(size)
        receive_events(engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=furnisher,
                       batch=frame, now=now)

    for size in sizes:  # warm-up: imports, caches, the first plans
        send(size)
    gatherer = EventGatherer(engine, vault=runtime.vault, profile=runtime.policy.profile)

    async def callers(count: int, total: int) -> None:
        async def caller(share: int) -> None:
            for _ in range(share):
                await gatherer.receive(furnisher, batch_of(1)[0])
        await asyncio.gather(*(caller(total // count) for _ in range(count)))

    cpu: dict[int, list[float]] = {size: [] for size in sizes}
    gathered: dict[int, list[tuple[float, float]]] = {1: [], clients: []}
    for _ in range(runs):
        for size in sizes:
            batches = max(1, events // size)
            started = time.process_time()
            for _ in range(batches):
                send(size)
            cpu[size].append((time.process_time() - started) / batches)
        for count in gathered:
            total = max(count, events // 2 // count * count)
            started, wall = time.process_time(), time.perf_counter()
            asyncio.run(callers(count, total))
            gathered[count].append((total / (time.perf_counter() - wall), (time.process_time() - started) / total))
    engine.dispose()
    return cpu, gathered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--data", type=Path, default=None, help="default: bench/out/event-batches[-postgresql]")
    parser.add_argument("--persons", type=int, default=2_000)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sizes", default="1,10,100,1000")
    parser.add_argument("--events", type=int, default=2_000, help="events sent per size and run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16, help="concurrent callers of single-event batches")
    args = parser.parse_args()
    suffix = "" if args.engine == "sqlite" else f"-{args.engine}"
    data = (args.data or ROOT / "bench" / "out" / f"event-batches{suffix}").resolve()
    if not (data / "keys.json").exists():
        print(f"building the bureau in {data} ({args.persons:,} persons x {args.months} months) ...", flush=True)
        build(data, engine_name=args.engine, persons=args.persons, months=args.months, seed=args.seed)
    sizes = [int(s) for s in args.sizes.split(",")]
    cpu, gathered = measure(data, url=database_url(args.engine, data, args.persons), sizes=sizes,
                            events=args.events, runs=args.runs, clients=args.clients)
    print(f"\nreceive_events on {args.engine}, {args.events:,} events per size and run, median (range) of {args.runs} "
          "runs (this process's CPU; PostgreSQL's own is not counted)")
    print(f"{'batch':>7} {'CPU ms / batch':>26} {'CPU ms / event':>26}")
    for size, values in cpu.items():
        per_batch = [1e3 * v for v in values]
        per_event = [v / size for v in per_batch]
        print(f"{size:>7} {_spread(per_batch):>26} {_spread(per_event):>26}")
    print(f"\nsingle-event batches through the gathering intake, {args.events // 2:,} events per run")
    print(f"{'callers':>7} {'events / s':>26} {'CPU ms / event':>26}")
    for count, values in gathered.items():
        print(f"{count:>7} {_spread([v[0] for v in values], 0):>26} {_spread([1e3 * v[1] for v in values]):>26}")


def _spread(values: list[float], digits: int = 3) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


if __name__ == "__main__":
    main()
