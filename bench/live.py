"""Inquiries during a load: ``POST /v1/inquiries`` on an idle bureau, then the same while a large file loads.

A load used to hold the database's write lock for its whole length, so inquiries (each logged before it is
answered) waited for it and failed with 503. Now a load writes in short transactions and publishes at once
(docs/intake.md, "Loads never block inquiries"). This benchmark measures what an inquiry sees, in one run
per engine:

1. The bureau of ``bench/report_api.py`` (built once and kept; ``--persons``, ``--months``).
2. A furnishing file of ``--records`` records of other people from a furnisher of its own
   (``bench/records.make_records``), written once.
3. The server (``--workers`` processes) driven by wrk for ``--duration`` seconds on the idle bureau, then the
   file submitted through the CLI in a second process and wrk started at once for the same time (the load
   must last longer: the benchmark says so when it does not).

It prints p50, p99 and errors (non-2xx answers, socket errors) idle and during the load, the ratio of the
two p99s (target: at most 2, and at most 50 ms), and how long the load took.

    .venv/bin/python bench/live.py --persons 20000 --months 6 --records 1000000 --engine both
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.records import make_records  # noqa: E402
from bench.report_api import LUA, SUBSCRIBER, build, database_url, log, serve, wrk  # noqa: E402

LOADER = "BENCH_LOAD"


def env_for(engine: str, args: argparse.Namespace) -> dict[str, str]:
    keys = json.loads((args.data / "keys.json").read_text())
    return {**os.environ, "OPENBUREAU_DATA_DIR": str(args.data / engine),
            "OPENBUREAU_DATABASE_URL": database_url(engine, args.data, args.persons),
            "OPENBUREAU_PII_KEY": keys["pii_key"], "OPENBUREAU_INDEX_KEY": keys["index_key"]}


def loader_file(args: argparse.Namespace) -> Path:
    """The file to load during the inquiries (written once)."""
    path = args.data / f"load-{args.records}.csv"
    if not path.exists():
        log(f"writing a file of {args.records:,} records")
        make_records(args.records, period="2026-10", seed=args.seed + 1).write_csv(path)
    return path


def register_loader(engine: str, args: argparse.Namespace) -> None:
    from openbureau.audit.service import terminal_operator
    from openbureau.kit.db import session_scope
    from openbureau.kit.errors import Conflict
    from openbureau.kit.settings import Settings
    from openbureau.members.models import Role
    from openbureau.members.schemas import MemberCreate
    from openbureau.members.service import add_member
    from openbureau.runtime import open_runtime

    env = env_for(engine, args)
    runtime = open_runtime(Settings(data_dir=Path(env["OPENBUREAU_DATA_DIR"]),
                                    database_url=env["OPENBUREAU_DATABASE_URL"],
                                    pii_key=env["OPENBUREAU_PII_KEY"], index_key=env["OPENBUREAU_INDEX_KEY"]))
    try:
        with session_scope(runtime.engine, write=True) as session:
            add_member(session, principal=terminal_operator(),
                       data=MemberCreate(code=LOADER, name="Benchmark loader", roles=[Role.FURNISHER]))
    except Conflict:  # registered by an earlier run
        pass
    runtime.engine.dispose()


def run(engine: str, args: argparse.Namespace) -> dict:
    built = build(engine, data=args.data, persons=args.persons, months=args.months, seed=args.seed)
    register_loader(engine, args)
    path = loader_file(args)
    script = args.data / f"live-{engine}.lua"
    script.write_text(LUA % {"ids": built["ids"], "key": built["keys"][SUBSCRIBER], "seed": args.seed})
    server = serve(engine, data=args.data, persons=args.persons, port=args.port, workers=args.workers)
    url = f"http://127.0.0.1:{args.port}/v1/inquiries"
    try:
        wrk(url, seconds=args.warmup, connections=args.connections, script=script)
        log(f"{engine}: idle, {args.duration} s")
        idle = wrk(url, seconds=args.duration, connections=args.connections, script=script)
        log(f"{engine}: during a load of {args.records:,} records, {args.duration} s")
        started = time.perf_counter()
        # A copy of the file each run: the same bytes again would return the earlier result.
        copy = path.with_name(f"load-{engine}-{int(time.time())}.csv")
        copy.write_bytes(path.read_bytes())
        with copy.open("ab") as handle:  # one more valid record makes the bytes new
            handle.write(make_records(1, period="2026-10", seed=int(time.time()) % 10_000).write_csv(
                include_header=False).encode())
        cli = str(Path(sys.executable).with_name("openbureau"))
        loading = subprocess.Popen([cli, "intake", "submit", str(copy), "--furnisher", LOADER], env=env_for(engine, args), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        during = wrk(url, seconds=args.duration, connections=args.connections, script=script)
        still_loading = loading.poll() is None
        _, err = loading.communicate()
        load_seconds = time.perf_counter() - started
        copy.unlink(missing_ok=True)
        if loading.returncode != 0:
            raise SystemExit(f"the load failed: {err.decode()[-2000:]}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {"engine": engine, "idle": idle, "during": during, "load_seconds": load_seconds,
            "load_outlasted_inquiries": still_loading}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    args.data = (args.data or ROOT / "bench" / "out" / f"report-api-{args.persons}").resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    results = [run(engine, args) for engine in engines]
    print()
    print(f"Inquiries idle and during a load of {args.records:,} records ({args.connections} connections, "
          f"{args.workers} server processes, {os.cpu_count()} cores)")
    print(f"{'engine':<11}{'idle/s':>9}{'p50':>7}{'p99':>7}{'load/s':>9}{'p50':>7}{'p99':>8}{'errors':>8}"
          f"{'p99 ratio':>11}{'load s':>8}")
    for r in results:
        i, d = r["idle"], r["during"]
        errors = d["non2xx"] + (0 if d["socket_errors"] is None else 1)
        note = "" if r["load_outlasted_inquiries"] else "  (the load ended before the inquiries: use more records)"
        print(f"{r['engine']:<11}{i['rps']:>9,.0f}{i['p50']:>7.1f}{i['p99']:>7.1f}{d['rps']:>9,.0f}{d['p50']:>7.1f}"
              f"{d['p99']:>8.1f}{errors:>8}{d['p99'] / i['p99']:>11.2f}{r['load_seconds']:>8.0f}{note}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
