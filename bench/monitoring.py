"""Portfolio monitoring benchmark (issue 18, Measured): trigger latency from an event's acknowledgement to its
webhook's receipt, deliveries lost or duplicated across a kill -9 of the worker, and batch inquiry throughput
against online inquiries, measured in one run per engine.

Steps, per engine (SQLite, the embedded default; PostgreSQL):
1. Build (once, kept in ``--data``) a bureau where the lender MON_LENDER holds ``--accounts`` open accounts
   (one monthly file of its own, ``bench/records.make_records``, with its consents to furnish) and monitors
   every one of their holders (``monitoring.service.register_many`` on the existing-account exception, the
   reference being the account number); a platform, MON_PLATFORM, holds consents to furnish for them all.
2. Each run registers a new webhook endpoint of MON_LENDER at a real HTTP receiver in a process of its own
   (``bench/webhook_receiver.py``: it verifies every signature and logs the receipt time and delivery id).
3. **Latency**: the API is served by uvicorn; the platform posts ``--rate`` ``opened`` events a second
   (``POST /v1/events``, a batch every 100 ms) for ``--duration`` seconds, each about a monitored person not
   used before in the run, so each one writes one ``new_credit`` trigger for MON_LENDER. The engine's own way
   of delivering: on SQLite the serving process's webhook thread, on PostgreSQL an ``openbureau webhooks
   run`` process. Per trigger, the time from the acknowledgement of its event's batch (the 2xx received) to
   its receipt by the receiver: p50, p99, max, count (target: p99 under 2 s at 100 events/s, 100,000 accounts).
4. **kill -9**: the same stream again, delivered by an ``openbureau webhooks run`` process on both engines
   (the serving process's thread off), killed with SIGKILL half way through and restarted a second later; the
   lease is ``--lease`` seconds (the default 60 s would only make the wait longer). After the drain: triggers
   written, received, **lost** (a delivery never received), duplicates under the **same** delivery id
   (allowed: at least once) and triggers received under **different** delivery ids (a bug), bad signatures.
5. **Inquiries**: online, wrk posts account-review inquiries of MON_LENDER about random monitored persons for
   ``--inquiry-seconds`` (``POST /v1/inquiries``, ``--connections`` at once); then, the server stopped, a
   batch of ``--batch-rows`` such rows is answered by the batch worker in this process (chunks committed with
   their inquiries and audit entries). Rows/s of the batch ÷ inquiries/s online.

``--redis`` sets ``OPENBUREAU_REDIS_URL`` for the server and the workers. The deliveries' queue is the
database (the outbox written with each trigger) whether Redis is set or not: Redis carries the API's rate
limits and the wakes of the worker processes (a server that commits triggers publishes one), so the workers
need not wait for their next look.

    .venv/bin/python bench/monitoring.py --accounts 5000 --duration 20 --engine both         # a few minutes
    .venv/bin/python bench/monitoring.py --accounts 100000 --duration 60 --engine both       # the issue's size
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.paced import percentile  # noqa: E402
from bench.report_api import LUA_HEAD, PG_ADMIN, healthy, log, wrk  # noqa: E402

LENDER, PLATFORM = "MON_LENDER", "MON_PLATFORM"
CLI = Path(sys.executable).parent / "openbureau"
LUA = LUA_HEAD + r"""request = function()
  local body = '{"subject":{"id_type":"CN_RESIDENT_ID","id_number":"' .. ids[math.random(#ids)] ..
               '"},"purpose":"account_review"}'
  return wrk.format(nil, "/v1/inquiries", nil, body)
end
"""


def database_url(engine: str, home: Path, accounts: int) -> str | None:
    """The engine's URL (None on SQLite: the embedded default, ``bureau.db`` in the data directory)."""
    if engine == "sqlite":
        return None
    name = os.environ.get("MONBENCH_PG_DATABASE") or f"openbureau_monbench_{accounts}"  # a name of one's own
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def settings_for(engine: str, data: Path, accounts: int):
    from openbureau.kit.settings import Settings

    keys = json.loads((data / "keys.json").read_text()) if (data / "keys.json").exists() else {}
    return Settings(data_dir=data / engine, database_url=database_url(engine, data / engine, accounts), **keys)


def build(engine: str, data: Path, accounts: int, seed: int) -> dict:
    """The bureau of ``engine`` (built once): {'keys': {code: api key}, 'monitored': n}; ids.txt lists the
    monitored persons' id numbers, refs.json their references."""
    from bench.records import make_consents, make_records
    from openbureau.audit.service import terminal_operator
    from openbureau.consent.schemas import Subject
    from openbureau.inquiries import access
    from openbureau.intake import quarantine
    from openbureau.intake import service as intake
    from openbureau.kit.db import session_scope
    from openbureau.members.models import Role, Vetting
    from openbureau.members.schemas import MemberCreate
    from openbureau.members.service import add_member, get_member
    from openbureau.monitoring import service as monitoring
    from openbureau.monitoring.schemas import SubscriptionCreate
    from openbureau.principals import Principal
    from openbureau.runtime import open_runtime

    home = data / engine
    if (home / "built.json").exists():
        return json.loads((home / "built.json").read_text())
    home.mkdir(parents=True, exist_ok=True)
    url = database_url(engine, home, accounts)
    if url is not None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif (home / "bureau.db").exists():
        (home / "bureau.db").unlink()
    settings = settings_for(engine, data, accounts)
    runtime = open_runtime(settings)
    if not (data / "keys.json").exists():  # one pair of PII keys for both engines
        (data / "keys.json").write_text((home / "keys.json").read_text())
    keys, members = {}, {}
    with session_scope(runtime.engine, write=True) as session:
        for code, roles in ((LENDER, [Role.SUBSCRIBER, Role.FURNISHER]), (PLATFORM, [Role.FURNISHER])):
            member, key = add_member(session, principal=terminal_operator(), data=MemberCreate(
                code=code, name=f"Benchmark {code.lower()}", roles=roles, vetting=Vetting.APPROVED))
            keys[code], members[code] = key.api_key, member
    records = make_records(accounts, period="2026-10", seed=seed)
    path = home / "lender-2026-10.csv"
    records.write_csv(path)
    consents = make_consents(records)
    for code in (LENDER, PLATFORM):
        consents.write_csv(home / f"consents-{code}.csv")
        quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                   actor=members[code], path=home / f"consents-{code}.csv")
    started = time.perf_counter()
    loaded = intake.submit(runtime.engine, settings=settings, policy=runtime.policy, furnisher_code=LENDER,
                           path=path, today=date(2026, 11, 20)).submission
    log(f"{engine}: {loaded.records_accepted + loaded.records_warnings:,} accounts loaded in "
        f"{time.perf_counter() - started:.0f} s")
    registrar = monitoring.Registrar(vault=runtime.vault, policy=runtime.policy, access=access)
    rows = list(records.select("furnisher_account_id", "id_number").iter_rows())
    monitored: list[tuple[str, str]] = []
    started = time.perf_counter()
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        with session_scope(runtime.engine, write=True) as session:
            lender = Principal.of_member(get_member(session, code=LENDER))
            result = monitoring.register_many(session, registrar=registrar, principal=lender, items=[
                SubscriptionCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=number), reference=ref)
                for ref, number in chunk])
        monitored += [chunk[o.position - 1] for o in result.outcomes if o.outcome == "registered"]
    log(f"{engine}: {len(monitored):,} accounts registered for monitoring in {time.perf_counter() - started:.0f} s")
    (home / "ids.txt").write_text("".join(f"{number}\n" for _, number in monitored))
    (home / "refs.json").write_text(json.dumps(monitored))
    built = {"keys": keys, "monitored": len(monitored)}
    (home / "built.json").write_text(json.dumps(built))
    runtime.engine.dispose()
    return built


def environment(engine: str, args: argparse.Namespace, **extra: str) -> dict[str, str]:
    settings = settings_for(engine, args.data, args.accounts)
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value(),
           "OPENBUREAU_RATE_LIMIT_PER_MINUTE": str(10**9), "OPENBUREAU_BATCHES_IN_PROCESS": "false", **extra}
    env.pop("OPENBUREAU_DATABASE_URL", None)
    if settings.database_url is not None:
        env["OPENBUREAU_DATABASE_URL"] = settings.database_url
    if args.redis:
        env["OPENBUREAU_REDIS_URL"] = args.redis
    return env


def start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def serve(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    server = start([sys.executable, "-m", "uvicorn", "openbureau.api.main:app", "--host", "127.0.0.1", "--port",
                    str(port), "--log-level", "warning", "--no-access-log"], env, log_path)
    if not healthy(port):
        stop(server, signal.SIGKILL)
        raise SystemExit(f"the server did not start (see {log_path})")
    return server


def new_endpoint(engine: str, args: argparse.Namespace, url: str) -> str:
    """Register MON_LENDER's endpoint at ``url`` (its earlier ones deleted); the secret."""
    from openbureau.kit.db import session_scope
    from openbureau.members.service import get_member
    from openbureau.monitoring import webhooks
    from openbureau.principals import Principal
    from openbureau.runtime import open_runtime

    runtime = open_runtime(settings_for(engine, args.data, args.accounts))
    with session_scope(runtime.engine, write=True) as session:
        lender = Principal.of_member(get_member(session, code=LENDER))
        for endpoint in webhooks.list_endpoints(session, principal=lender):
            webhooks.delete_endpoint(session, principal=lender, endpoint_id=endpoint.id)
        secret = webhooks.create_endpoint(session, vault=runtime.vault, principal=lender, url=url,
                                          allow_loopback=True).secret
    runtime.engine.dispose()
    return secret


def phase_deliveries(engine: str, args: argparse.Namespace, after_trigger: int) -> tuple[int, list[str]]:
    """(the last trigger's id, delivery ids of the triggers after ``after_trigger``)."""
    from sqlalchemy import func, select

    from openbureau.kit.db import make_engine
    from openbureau.monitoring.models import Trigger, WebhookDelivery

    db = make_engine(settings_for(engine, args.data, args.accounts).resolved_database_url)
    with db.connect() as conn:
        last = conn.scalar(select(func.max(Trigger.id))) or 0
        ids = conn.scalars(select(WebhookDelivery.delivery_id).where(WebhookDelivery.trigger_id > after_trigger)).all()
    db.dispose()
    return last, list(ids)


def feed(base: str, key: str, refs: list[tuple[str, str]], *, rate: int, seconds: float, tag: str) -> dict:
    """Post ``rate`` opened events a second, a batch every 100 ms, each about the next monitored person;
    {(reference, occurred_at ms): acknowledgement time}, and the batches refused."""
    from bench.live import _event

    per_batch, sent, refused, acks = max(1, rate // 10), 0, 0, {}
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        begun = tick = time.perf_counter()
        while time.perf_counter() - begun < seconds:
            at = datetime.now(UTC)
            chosen = [refs[(sent + i) % len(refs)] for i in range(per_batch)]
            batch = [_event(number, f"{tag}-{sent + i}", at) for i, (_, number) in enumerate(chosen)]
            try:
                answer = client.post("/v1/events", json={"events": batch})
                ok = answer.status_code == 200 and answer.json()["rejected"] == 0
            except httpx.HTTPError:
                ok = False
            acknowledged = time.time()
            if ok:
                acks.update({(ref, round(at.timestamp(), 3)): acknowledged for ref, _ in chosen})
            refused += not ok
            sent += per_batch
            tick += 0.1
            time.sleep(max(0.0, tick - time.perf_counter()))
    return {"acks": acks, "refused_batches": refused, "events": sent}


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")] if path.exists() else []


def drain(path: Path, expected: set[str], timeout: float) -> list[dict]:
    """Wait until every expected delivery id was received (or ``timeout``); the receiver's log."""
    deadline = time.monotonic() + timeout
    while True:
        lines = read_log(path)
        if expected <= {r["delivery"] for r in lines} or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


def stream(engine: str, args: argparse.Namespace, *, built: dict, refs: list, tag: str, receiver_log: Path,
           kill: subprocess.Popen | None = None, restart=None) -> dict:
    """One paced stream of events, its triggers drained; what was received, lost and duplicated."""
    before, _ = phase_deliveries(engine, args, 0)
    start_at = len(read_log(receiver_log))
    base = f"http://127.0.0.1:{args.port}"
    if kill is not None:
        killer = threading.Timer(args.duration / 2, lambda: restart(kill))
        killer.start()
    fed = feed(base, built["keys"][PLATFORM], refs, rate=args.rate, seconds=args.duration, tag=tag)
    _, expected = phase_deliveries(engine, args, before)
    lines = drain(receiver_log, set(expected), timeout=args.lease + 120)[start_at:]
    lines = [r for r in lines if r["delivery"] in set(expected)]
    cut = [r for r in lines if r["trigger"] is None]  # a request cut short: the worker killed while sending it
    lines = [r for r in lines if r["trigger"] is not None]
    by_delivery: dict[str, int] = {}
    by_trigger: dict[str, set[str]] = {}
    for r in lines:
        by_delivery[r["delivery"]] = by_delivery.get(r["delivery"], 0) + 1
        by_trigger.setdefault(r["trigger"], set()).add(r["delivery"])
    first: dict[str, float] = {}
    for r in lines:
        key = (r["reference"], round(datetime.fromisoformat(r["occurred_at"]).timestamp(), 3))
        if key in fed["acks"] and r["delivery"] not in first:
            first[r["delivery"]] = (r["t"] - fed["acks"][key]) * 1000
    latencies = list(first.values())
    return {"events": fed["events"], "refused_batches": fed["refused_batches"], "triggers": len(expected),
            "received": len(by_delivery), "lost": len(set(expected) - set(by_delivery)),
            "duplicates_same_id": sum(n - 1 for n in by_delivery.values()),
            "duplicates_other_id": sum(len(d) > 1 for d in by_trigger.values()),
            "bad_signatures": sum(not r["verified"] for r in lines), "cut_short": len(cut), "matched": len(latencies),
            "p50_ms": round(percentile(latencies, 0.5)) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99)) if latencies else None,
            "max_ms": round(max(latencies)) if latencies else None}


def batch_rows_per_s(engine: str, args: argparse.Namespace, ids: list[str]) -> float:
    """Rows a second of one batch job of ``--batch-rows`` account-review rows, answered by the batch worker."""
    from openbureau.batches import service
    from openbureau.batches.worker import Worker
    from openbureau.intake.files import seal_file
    from openbureau.kit.db import session_scope
    from openbureau.members.service import get_member
    from openbureau.principals import Principal
    from openbureau.runtime import open_runtime

    settings = settings_for(engine, args.data, args.accounts)
    runtime = open_runtime(settings)
    draw = random.Random(args.seed)
    path = args.data / engine / "batch.csv"
    path.write_text("reference,id_type,id_number,purpose\n" + "".join(
        f"ROW-{n},CN_RESIDENT_ID,{draw.choice(ids)},account_review\n" for n in range(args.batch_rows)))
    with session_scope(runtime.engine) as session:
        lender = Principal.of_member(get_member(session, code=LENDER))
    with path.open("rb") as source:
        sealed = seal_file(settings, source, max_bytes=settings.batch_max_bytes)
    job = service.submit(runtime.engine, settings=settings, principal=lender, sealed=sealed, file_format="csv")
    started = time.perf_counter()
    Worker(runtime.engine, settings=settings, vault=runtime.vault, policy=runtime.policy).run_once()
    seconds = time.perf_counter() - started
    with session_scope(runtime.engine) as session:
        read = service.get_batch(session, principal=lender, batch_id=job.id)
    runtime.engine.dispose()
    if read.status != "done" or read.rows_answered != read.rows_total:
        raise SystemExit(f"batch {read.status}: {read.rows_answered:,} of {read.rows_total:,} answered")
    return read.rows_answered / seconds


def stand_in_for_autovacuum(engine: str, args: argparse.Namespace) -> bool:
    """On a PostgreSQL server whose autovacuum is off, ``VACUUM (ANALYZE)`` the bureau before a run, as
    autovacuum would have done between runs: without it the deliveries' rows, updated two or three times each,
    leave their indexes full of dead entries, the tables grown from empty keep no statistics, and each run
    measures the bloat of the ones before it. Whether it was needed (False on SQLite or with autovacuum on)."""
    if engine != "postgresql":
        return False
    url = database_url(engine, args.data / engine, args.accounts).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
            return False
        conn.execute("VACUUM (ANALYZE)")
    log(f"{engine}: autovacuum is off on this server: VACUUM (ANALYZE) before the run")
    return True


def run(engine: str, args: argparse.Namespace) -> dict:
    built = build(engine, args.data, args.accounts, args.seed)
    vacuumed = stand_in_for_autovacuum(engine, args)
    home = args.data / engine
    refs = [tuple(r) for r in json.loads((home / "refs.json").read_text())]
    random.Random(args.seed + time.time_ns()).shuffle(refs)
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    receiver_log = logs / f"received-{time.time_ns()}.jsonl"
    secret = new_endpoint(engine, args, f"http://127.0.0.1:{args.receiver_port}/hooks")
    receiver = start([sys.executable, str(ROOT / "bench" / "webhook_receiver.py"), "--port", str(args.receiver_port),
                      "--log", str(receiver_log)], {**os.environ, "WEBHOOK_SECRET": secret}, logs / "receiver.log")
    time.sleep(1)
    result = {"engine": engine, "accounts": built["monitored"], "rate": args.rate, "duration_s": args.duration,
              "redis": bool(args.redis), "vacuumed_before": vacuumed}
    half = len(refs) // 2  # the two streams speak of different persons
    try:
        # 1. Latency, delivered the engine's own way.
        embedded = engine == "sqlite"
        env = environment(engine, args, OPENBUREAU_WEBHOOKS_IN_PROCESS="true" if embedded else "false")
        server = serve(env, args.port, logs / "server.log")
        worker = None if embedded else start([str(CLI), "webhooks", "run"], env, logs / "worker.log")
        try:
            log(f"{engine}: latency, {args.rate} events/s for {args.duration} s "
                f"({'the serving process delivers' if embedded else 'a worker process delivers'})")
            result["latency"] = stream(engine, args, built=built, refs=refs[:half], tag=f"L{time.time_ns()}",
                                       receiver_log=receiver_log)
        finally:
            if worker is not None:
                stop(worker)
            stop(server)
        # 2. kill -9 of a worker process mid-stream.
        env = environment(engine, args, OPENBUREAU_WEBHOOKS_IN_PROCESS="false",
                          OPENBUREAU_WEBHOOK_LEASE_SECONDS=str(args.lease),
                          OPENBUREAU_WEBHOOK_TIMEOUT_SECONDS=str(max(1.0, args.lease / 3 - 0.5)))
        server = serve(env, args.port, logs / "server.log")
        workers = [start([str(CLI), "webhooks", "run"], env, logs / "worker.log")]

        def restart(process: subprocess.Popen) -> None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            log(f"{engine}: worker killed (SIGKILL), restarted in 1 s")
            time.sleep(1)
            workers.append(start([str(CLI), "webhooks", "run"], env, logs / "worker.log"))

        try:
            log(f"{engine}: kill -9, {args.rate} events/s for {args.duration} s, lease {args.lease:g} s")
            result["kill_9"] = stream(engine, args, built=built, refs=refs[half:], tag=f"K{time.time_ns()}",
                                      receiver_log=receiver_log, kill=workers[0], restart=restart)
            result["kill_9"]["worker_exit"] = workers[0].returncode
            # 3. Online inquiries, through the same server.
            script = home / "review.lua"
            script.write_text(LUA % {"ids": home / "ids.txt", "seed": args.seed, "key": built["keys"][LENDER]})
            log(f"{engine}: online inquiries for {args.inquiry_seconds} s, {args.connections} connections")
            online = wrk(f"http://127.0.0.1:{args.port}", seconds=args.inquiry_seconds,
                         connections=args.connections, script=script)
        finally:
            for w in workers:
                stop(w)
            stop(server)
        log(f"{engine}: a batch of {args.batch_rows:,} rows")
        batch = batch_rows_per_s(engine, args, [n for _, n in refs])
        result["inquiries"] = {"online_per_s": round(online["rps"], 1), "online_p99_ms": online["p99"],
                               "online_non2xx": online["non2xx"], "batch_rows_per_s": round(batch, 1),
                               "batch_over_online": round(batch / online["rps"], 2)}
    finally:
        stop(receiver)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000, help="monitored accounts of the lender")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--rate", type=int, default=100, help="events a second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of each stream of events")
    parser.add_argument("--lease", type=float, default=10, help="the kill -9 stream's lease, seconds")
    parser.add_argument("--inquiry-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8, help="online inquiries in flight")
    parser.add_argument("--batch-rows", type=int, default=2000)
    parser.add_argument("--redis", nargs="?", const="redis://127.0.0.1:6379/0", default=None,
                        help="OPENBUREAU_REDIS_URL for the server and workers (default URL when given bare)")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--receiver-port", type=int, default=8791)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", type=Path, default=None, help="where the bureaus are kept (default bench/out/...)")
    args = parser.parse_args()
    args.data = (args.data or ROOT / "bench" / "out" / f"monitoring-{args.accounts}").resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    results = [run(engine, args) for engine in engines]
    print(json.dumps(results, indent=2))
    print(f"({os.cpu_count()} cores; server, worker, receiver and the event feed share them)")


if __name__ == "__main__":
    main()
