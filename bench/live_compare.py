"""Two versions or settings of the server compared on ``bench/live.py``'s measurement, alternating in one run.

Each variant names a source tree (put first on the server's ``PYTHONPATH``: a ``git worktree`` of the code
before a change, say), settings for the server (``OPENBUREAU_*``) and a rate of the platform's events. For each
variant in turn, ``--repeat`` times: the server started afresh, warmed, ``--rate`` inquiries a second planned for
``--duration`` s on the idle bureau, then the same while the ``--records`` file is uploaded to the server and
loaded by its load process, with the events arriving and wrk after (``live.during_load``). Prints each run, then
per variant the median and range of the idle p99, the paced p50 and p99 during the load, their ratio to idle,
wrk's rate and the load's time. The bureau is ``bench/live.py``'s (built and kept once); every load adds its file.

    git worktree add /tmp/before HEAD~1
    .venv/bin/python bench/live_compare.py --engine sqlite --rate 40 --variants \\
        '[{"label": "before", "tree": "/tmp/before/src"}, {"label": "after", "tree": "src"}]'
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import live  # noqa: E402
from bench.report_api import LUA, SUBSCRIBER, build, database_url, serve, vacuum, wrk  # noqa: E402


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def measure(args: argparse.Namespace, variant: dict, *, run: int, keys: tuple[str, str], script: Path) -> dict:
    """One run of one variant: idle paced inquiries, then ``live.during_load`` through the API."""
    platform_key, loader_key = keys
    extra = {k: str(v) for k, v in variant.get("env", {}).items()}
    saved = {k: os.environ.get(k) for k in ["PYTHONPATH", *extra]}
    os.environ.update({"PYTHONPATH": str(Path(variant["tree"]).resolve()), **extra})
    args.event_rate = variant.get("event_rate", args.default_event_rate)
    if args.engine == "postgresql":
        vacuum(database_url(args.engine, args.data, args.persons))
    server = serve(args.engine, data=args.data, persons=args.persons, port=args.port, workers=args.workers)
    base, url = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port}/v1/inquiries"
    try:
        wrk(url, seconds=args.warmup, connections=args.connections, script=script)
        live.feed_events(base, platform_key, args.consented, rate=max(args.event_rate, 100), seconds=args.warmup,
                         tag=f"WARM-{time.time_ns()}")
        idle = live.paced_inquiries(url, args, **args.inquirer, seed=args.seed + run)
        load = live.during_load(args.engine, args, path=live.loader_file(args), url=url, script=script, base=base,
                                platform_key=platform_key, consented=args.consented, niceness=10, turn_wait=0.05,
                                share=1.0, target=50.0, way="api", loader_key=loader_key)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    during = load["during_paced"]
    return {"variant": variant["label"], "run": run, "idle_p99": idle["p99"], "p50": during["p50"],
            "p99": during["p99"], "ratio": during["p99"] / idle["p99"], "errors": during["errors"],
            "wrk": load["during"]["rps"], "events_per_s": load["events_during"]["events_per_s"],
            "load_s": load["load_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=json.loads, required=True,
                        help='JSON list of {"label", "tree", "env": {...}, "event_rate"}')
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--event-rate", dest="default_event_rate", type=int, default=1_000)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    args.data = args.data or ROOT / "bench" / "out" / f"report-api-{args.persons}"
    built = build(args.engine, data=args.data, persons=args.persons, months=args.months, seed=args.seed)
    args.ids = built["ids"]
    keys = live.register_loader(args.engine, args)
    ids = Path(built["ids"]).read_text().split()
    args.consented, args.inquirer = ids[:live.CONSENTED], {"ids": ids, "key": built["keys"][SUBSCRIBER]}
    script = args.data / f"compare-{args.engine}.lua"
    script.write_text(LUA % {"ids": built["ids"], "key": built["keys"][SUBSCRIBER], "seed": args.seed})
    os.environ.update(live.load_env(10, 0.05, 1.0, 50.0))
    runs = []
    for run in range(args.repeat):
        for variant in args.variants:
            runs.append(measure(args, variant, run=run, keys=keys, script=script))
            print(json.dumps(runs[-1]), flush=True)
    print(f"\n{args.engine}, {args.rate:g} inquiries/s planned, a {args.records:,}-record load through the API; "
          f"median (range) of {args.repeat} runs")
    print(f"{'variant':<12} {'idle p99':>20} {'p50 during':>20} {'p99 during':>22} {'p99/idle':>18} "
          f"{'wrk /s':>22} {'load s':>20}")
    for variant in args.variants:
        mine = [r for r in runs if r["variant"] == variant["label"]]
        print(f"{variant['label']:<12}", *(f"{_spread([r[k] for r in mine]):>20}"
                                             for k in ("idle_p99", "p50", "p99", "ratio", "wrk", "load_s")))


if __name__ == "__main__":
    main()
