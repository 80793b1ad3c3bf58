"""Where one inquiry's time goes: ``POST /v1/inquiries`` driven through the whole ASGI app in this process.

The app (edge, routing, dependencies, the inquiry service, the group-committed log and its audit entry) is
called directly as an ASGI callable from asyncio tasks, ``--concurrency`` requests in flight at a time as
wrk's connections would be, with the request mix of ``bench/report_api.py``'s Lua script (a random person
with their consent reference, loan origination, a declared income). No socket and no HTTP parser: what is
measured is the serving process's own work, in CPU time (``time.process_time``), which a machine shared
with other work disturbs far less than throughput.

For each run it prints CPU ms per inquiry, database statements and pool checkouts per inquiry (SQLAlchemy
events), transactions begun, and with ``--profile`` the functions with most cumulative time (cProfile).

``--baseline PYTHON`` runs the same measurement under another interpreter (another checkout's virtualenv,
e.g. ``../main/.venv/bin/python``, whose editable install is that checkout's code), alternating runs of
the two, and prints the median and range of each. ``--answers`` prints a digest of the prepared answers
of ``--answers`` persons at a fixed moment (nothing is logged), to compare two versions' answers.

    .venv/bin/python bench/inquiry_profile.py --data bench/out/inquiry-20000 --engine sqlite -n 2000 --runs 3
    .venv/bin/python bench/inquiry_profile.py --data ... --baseline ../main/.venv/bin/python --runs 3
    .venv/bin/python bench/inquiry_profile.py --data ... --profile -n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import pstats
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report_api import SUBSCRIBER, database_url  # noqa: E402


class Counts:
    """Database work seen through SQLAlchemy's events, on every engine of the process."""

    def __init__(self, *, by_statement: bool = False) -> None:
        self.statements = self.checkouts = self.begins = 0
        self.by_statement = by_statement
        self.timed: dict[str, list[float]] = {}  # statement -> [count, seconds in the driver]
        self._started = 0.0

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        def on_statement(*_args) -> None:
            self.statements += 1
            if self.by_statement:
                self._started = time.perf_counter()

        def after_statement(_conn, _cursor, statement, *_args) -> None:
            if self.by_statement:
                entry = self.timed.setdefault(" ".join(statement.split())[:150], [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - self._started

        event.listen(Engine, "after_cursor_execute", after_statement)

        def on_checkout(*_args) -> None:
            self.checkouts += 1

        def on_begin(*_args) -> None:
            self.begins += 1

        event.listen(Engine, "before_cursor_execute", on_statement)
        event.listen(Engine, "begin", on_begin)
        event.listen(Pool, "checkout", on_checkout)

    def snapshot(self) -> tuple[int, int, int]:
        return self.statements, self.checkouts, self.begins


def _settings(data: Path, engine: str, persons: int):
    from openbureau.kit.settings import Settings

    keys = json.loads((data / "keys.json").read_text())
    return Settings(data_dir=data / engine, database_url=database_url(engine, data, persons),
                    pii_key=keys["pii_key"], index_key=keys["index_key"], rate_limit_per_minute=10**9)


def _bodies(data: Path, count: int, seed: int) -> list[bytes]:
    ids = (data / "ids.txt").read_text().split()
    draw = random.Random(seed)
    out = []
    for _ in range(count):
        n = draw.randrange(len(ids))  # line n (from 0) is the person whose consent is LX-Q<n>
        out.append(json.dumps({"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ids[n]},
                               "purpose": "loan_origination", "consent_ref": f"LX-Q{n}",
                               "declared_monthly_income": 800000}).encode())
    return out


async def _call(app, key: bytes, body: bytes) -> int:
    """One POST /v1/inquiries through the ASGI app; its status."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/v1/inquiries", "raw_path": b"/v1/inquiries", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765),
             "headers": [(b"host", b"127.0.0.1:8765"), (b"content-type", b"application/json"),
                         (b"x-api-key", key), (b"content-length", str(len(body)).encode())]}
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # no disconnect while the answer is made
        return {"type": "http.disconnect"}

    status = 0

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(app, key: bytes, bodies: list[bytes], concurrency: int) -> list[int]:
    """Send every body, ``concurrency`` in flight at a time; the statuses."""
    queue = iter(bodies)
    statuses: list[int] = []

    async def worker() -> None:
        for body in queue:
            statuses.append(await _call(app, key, body))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def _measure(args: argparse.Namespace) -> dict:
    from openbureau.api.app import create_app, tune_gc

    built = json.loads((args.data / args.engine / "built.json").read_text())
    key = built["keys"][SUBSCRIBER].encode()
    counts = Counts(by_statement=args.by_statement)
    counts.install()
    app = create_app(settings=_settings(args.data, args.engine, args.persons))
    bodies = _bodies(args.data, args.warmup + args.n, args.seed)
    async with app.router.lifespan_context(app):
        statuses = await _drive(app, key, bodies[:args.warmup], args.concurrency)
        tune_gc()  # as a serving process does once it has started (api.app.create_app(serving=True))
        counts.timed.clear()
        before, cpu, wall = counts.snapshot(), time.process_time(), time.perf_counter()
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        statuses += await _drive(app, key, bodies[args.warmup:], args.concurrency)
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = counts.snapshot()
    failed = sum(1 for s in statuses if s != 201)
    if failed:
        raise SystemExit(f"{failed} of {len(statuses)} inquiries were not answered 201 (first: "
                         f"{next(s for s in statuses if s != 201)})")
    n = args.n
    result = {"cpu_ms": 1000 * cpu / n, "wall_ms": 1000 * wall / n, "statements": (after[0] - before[0]) / n,
              "checkouts": (after[1] - before[1]) / n, "begins": (after[2] - before[2]) / n, "n": n}
    if args.by_statement:
        result["by_statement"] = "\n".join(
            f"{count / n:6.2f}/inquiry {1e6 * seconds / count:8.1f} us each  {text}"
            for text, (count, seconds) in sorted(counts.timed.items(), key=lambda kv: -kv[1][1]))
    if profiler is not None:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        result["profile"] = text.getvalue()
    return result


def _answers(args: argparse.Namespace) -> dict:
    """A digest of the prepared answers for the first ``--answers`` bodies at one fixed moment."""
    from openbureau.kit.db import session_scope
    from openbureau.members.service import get_member
    from openbureau.principals import Principal
    from openbureau.reports import service
    from openbureau.reports.schemas import InquiryCreate
    from openbureau.runtime import open_runtime

    runtime = open_runtime(_settings(args.data, args.engine, args.persons))
    # A moment after the bureau was built (its consents were granted then), the same for every version compared.
    built = (args.data / args.engine / "built.json").stat().st_mtime
    now = datetime.fromtimestamp(built - built % 86_400 + 2 * 86_400, tz=UTC)
    digest = hashlib.sha256()
    with session_scope(runtime.engine, read_only=True) as session:
        principal = Principal.of_member(get_member(session, code=SUBSCRIBER))
        for body in _bodies(args.data, args.answers, args.seed):
            prepared = service.prepare_inquiry(session, vault=runtime.vault, principal=principal, policy=runtime.policy,
                                               request=InquiryCreate.model_validate_json(body), now=now)
            answer = prepared.answer.model_dump(mode="json")
            digest.update(json.dumps([answer, prepared.entry.values, prepared.entry.audit], default=str,
                                     sort_keys=True).encode())
    return {"answers": args.answers, "digest": digest.hexdigest()}


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def _compare(args: argparse.Namespace) -> None:
    """Alternate runs of this checkout and the baseline interpreter; median and range of each."""
    own = [a for a in sys.argv[1:]]
    drop = {"--baseline", "--runs"}
    passed, skip = [], False
    for a in own:
        if skip:
            skip = False
            continue
        if a in drop:
            skip = True
            continue
        if a.split("=", 1)[0] in drop:
            continue
        passed.append(a)
    script = str(Path(__file__).resolve())
    runs: dict[str, list[dict]] = {"baseline": [], "current": []}
    for i in range(args.runs):
        for name, python in (("baseline", args.baseline), ("current", sys.executable)):
            out = subprocess.run([python, script, *passed, "--runs", "1", "--json"], capture_output=True,
                                 text=True, check=False)
            if out.returncode:
                raise SystemExit(f"{name} run failed:\n{out.stderr[-3000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            runs[name].append(result)
            print(f"run {i + 1} {name:<9} {result['cpu_ms']:.3f} ms CPU/inquiry, {result['statements']:.2f} "
                  f"statements, {result['checkouts']:.2f} checkouts, {result['begins']:.2f} begins", flush=True)
    print(f"\n{args.engine}, {args.n} inquiries per run, {args.concurrency} in flight, median (range) of {args.runs}")
    for name, results in runs.items():
        print(f"{name:<9} CPU ms/inquiry {_spread([r['cpu_ms'] for r in results])}  statements "
              f"{_spread([r['statements'] for r in results])}  checkouts {_spread([r['checkouts'] for r in results])}"
              f"  begins {_spread([r['begins'] for r in results])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a bureau built by bench/report_api.py's build()")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=20_000, help="as built (names the PostgreSQL database)")
    parser.add_argument("-n", type=int, default=2_000, help="inquiries measured per run")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile the measured inquiries")
    parser.add_argument("--profile-out", type=Path, help="with --profile: also write the statistics (pstats) here")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--by-statement", action="store_true",
                        help="time spent in the driver per statement (wall time: includes waiting)")
    parser.add_argument("--baseline", help="another checkout's python, measured alternately with this one")
    parser.add_argument("--answers", type=int, default=0, help="digest of this many prepared answers instead")
    parser.add_argument("--json", action="store_true", help="one JSON line per run (used by --baseline)")
    args = parser.parse_args()
    args.data = args.data.resolve()
    if args.answers:
        print(json.dumps(_answers(args)))
        return
    if args.baseline:
        _compare(args)
        return
    results = []
    for _ in range(args.runs):
        result = asyncio.run(_measure(args))
        results.append(result)
        if args.json:
            print(json.dumps({k: v for k, v in result.items() if k not in ("profile", "by_statement")}))
        else:
            print(f"{result['cpu_ms']:.3f} ms CPU/inquiry ({result['wall_ms']:.3f} ms wall), "
                  f"{result['statements']:.2f} statements, {result['checkouts']:.2f} checkouts, "
                  f"{result['begins']:.2f} begins per inquiry", flush=True)
        for part in ("by_statement", "profile"):
            if part in result:
                print(result[part])
    if len(results) > 1 and not args.json:
        print(f"median (range) of {len(results)}: CPU ms/inquiry {_spread([r['cpu_ms'] for r in results])}")


if __name__ == "__main__":
    main()
