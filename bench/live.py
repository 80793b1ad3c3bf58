"""Inquiries during a load: ``POST /v1/inquiries`` on an idle bureau, then the same while a large file loads.

A load used to hold the database's write lock for its whole length, so inquiries (each logged before it is
answered) waited for it and failed with 503. Now a load writes in short transactions and publishes at once
(docs/intake.md, "Loads never block inquiries"). This benchmark measures what an inquiry sees, in one run
per engine:

1. The bureau of ``bench/report_api.py`` (built once and kept; ``--persons``, ``--months``).
2. A furnishing file of ``--records`` records of other people from a furnisher of its own
   (``bench/records.make_records``), written once, with that furnisher's consents to furnish for all of
   them (imported once per bureau), so that the load publishes every record as a lender's file would.
3. The server (``--workers`` processes) asked ``--rate`` inquiries a second planned in advance
   (``bench/paced.py``: the latency an inquirer sees, from each planned departure) for ``--duration``
   seconds, then driven by wrk at ``--connections`` for as long (the capacity: wrk sends the next inquiry
   as soon as one is answered), on the idle bureau; then the file submitted and both measurements started
   at once, one after the other (the load must last longer than both: the benchmark says so when it does
   not). ``--submit api`` (the default) uploads the file to the server (``POST /v1/submissions``, with
   curl), whose load process loads it, as a lender's file arrives at a live bureau; ``--submit cli`` runs
   ``openbureau intake submit`` in a new process; ``api,cli`` measures both, and ``--repeat N`` measures
   every way and setting N times, alternating, in one run.

It prints p50, p99 and errors (non-2xx answers, socket errors) idle and during the load, the ratio of the
two p99s (target: at most 2, and at most 50 ms; the paced figure is the one the target speaks of, since at
full speed a p99 is the number of connections over the rate), and how long the load took. While the file loads, a
platform of its own (``BENCH_EVENTS``) also reports ``--event-rate`` lending events a second
(``POST /v1/events``, batches every 100 ms), and the benchmark counts their errors.

Then the same inquiries during each of the other writers that must not hold them up (``--jobs``), each in a
second process: a consent import of every person of the bureau, ``openbureau db cluster`` (the rewrite of
account states in person order), and the next load after a load killed with SIGKILL ``--kill-after`` seconds
in (it first deletes what the killed one wrote); p50, p99, errors, and how long the job took.

Then, on the idle bureau:

4. **Event to signal**: ``--trials`` times, the platform reports a loan ``opened`` for a person and the
   benchmark's lender inquires about that person at once; the time from the event's acknowledgement to the
   answer of the first inquiry that counts the new account (``new_accounts_1d`` of ``MULTI_LENDING``).
   p50 and p99 (target: p99 under 1 s).
5. **Event intake**: ``--event-clients`` clients post batches of ``--event-batch`` new events for
   ``--event-seconds`` seconds; events stored per second (target: at least 5,000 sustained).

    .venv/bin/python bench/live.py --persons 100000 --months 6 --records 1000000 --engine both
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from bench.paced import paced  # noqa: E402
from bench.records import make_records  # noqa: E402
from bench.report_api import LUA, SUBSCRIBER, build, database_url, log, serve, vacuum, wrk  # noqa: E402

LOADER = "BENCH_LOAD"
PLATFORM = "BENCH_EVENTS"
CONSENTED = 5_000  # persons the platform holds a consent to furnish for (the first lines of ids.txt)


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


def register_loader(engine: str, args: argparse.Namespace) -> tuple[str, str]:
    """Register the loading furnisher and the reporting platform (with consents to furnish for the first
    ``CONSENTED`` persons); the platform's API key and the loading furnisher's."""
    import polars as pl

    from openbureau.audit.service import terminal_operator
    from openbureau.intake import quarantine
    from openbureau.kit.db import session_scope
    from openbureau.kit.errors import Conflict
    from openbureau.kit.settings import Settings
    from openbureau.members.models import Role
    from openbureau.members.schemas import MemberCreate
    from openbureau.members.service import add_member, get_member, issue_key
    from openbureau.runtime import open_runtime

    env = env_for(engine, args)
    runtime = open_runtime(Settings(data_dir=Path(env["OPENBUREAU_DATA_DIR"]),
                                    database_url=env["OPENBUREAU_DATABASE_URL"],
                                    pii_key=env["OPENBUREAU_PII_KEY"], index_key=env["OPENBUREAU_INDEX_KEY"]))
    for code in (LOADER, PLATFORM):
        try:
            with session_scope(runtime.engine, write=True) as session:
                add_member(session, principal=terminal_operator(),
                           data=MemberCreate(code=code, name=f"Benchmark {code.lower()}", roles=[Role.FURNISHER]))
        except Conflict:  # registered by an earlier run
            pass
    with session_scope(runtime.engine, write=True) as session:
        key = issue_key(session, principal=terminal_operator(), member=get_member(session, code=PLATFORM)).api_key
        loader_key = issue_key(session, principal=terminal_operator(), member=get_member(session, code=LOADER)).api_key
    ids = Path(args.ids).read_text().split()[:CONSENTED]
    consents = args.data / f"platform-consents-{engine}.csv"
    pl.DataFrame({"consent_ref": [f"BE-{n}" for n in range(len(ids))], "id_type": "CN_RESIDENT_ID",
                  "id_number": ids, "purpose": "furnish", "granted_at": "2020-01-01T00:00:00Z", "channel": "app",
                  "evidence_hash": ["ab" * 32] * len(ids)}).write_csv(consents)
    with session_scope(runtime.engine) as session:
        platform, loader = get_member(session, code=PLATFORM), get_member(session, code=LOADER)
    quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, actor=platform,
                               path=consents)
    # The loading furnisher holds a consent to furnish for every person of its file, as a lender would: a file
    # the consent gate held back whole would be stored without being published (no person's file, notice or
    # monitoring trigger written), which is not the load the target speaks of. Imported once per bureau.
    done = args.data / f"loader-consents-{engine}-{args.records}.done"
    if not done.exists():
        subjects = pl.read_csv(loader_file(args), columns=["id_number"], infer_schema=False)["id_number"].unique()
        log(f"{engine}: consents to furnish for the {len(subjects):,} persons of the load's file")
        path = args.data / f"loader-consents-{engine}.csv"
        pl.DataFrame({"consent_ref": [f"BL-{n}" for n in range(len(subjects))], "id_type": "CN_RESIDENT_ID",
                      "id_number": subjects, "purpose": "furnish", "granted_at": "2020-01-01T00:00:00Z",
                      "channel": "app", "evidence_hash": ["ab" * 32] * len(subjects)}).write_csv(path)
        quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, actor=loader,
                                   path=path)
        path.unlink()
        done.touch()
    runtime.engine.dispose()
    return key, loader_key


def _event(person: str, event_id: str, at: datetime) -> dict:
    return {"event_id": event_id, "event_type": "opened", "occurred_at": at.isoformat(),
            "furnisher_account_id": f"L-{event_id}", "id_type": "CN_RESIDENT_ID", "id_number": person,
            "full_name": "测试", "birth_date": f"{person[6:10]}-{person[10:12]}-{person[12:14]}",
            "product_type": "bnpl", "currency": "CNY", "amount": 150000, "term_months": 3, "opened_on":
            at.date().isoformat(), "amount_due": 50000}


def feed_events(base: str, key: str, ids: list[str], *, rate: int, seconds: float, tag: str,
                in_flight: int = 8) -> dict:
    """Post ``rate`` events a second in batches every 100 ms for ``seconds``, each batch at its planned time
    whatever the answers to the earlier ones (up to ``in_flight`` batches unanswered at once: a platform's
    servers do not wait for the bureau); events acknowledged per second, batch errors, p99 ms."""
    import httpx

    if rate <= 0:  # --event-rate 0: the load alone
        return {"events": 0, "batches": 0, "batch_errors": 0, "events_per_s": 0.0, "batch_p99_ms": None,
                "late_batches": 0}
    per_batch = max(1, rate // 10)
    rng = random.Random(tag)
    latencies: list[float] = []
    acknowledged = errors = late = 0
    counting = threading.Lock()

    def post(client: httpx.Client, batch: list[dict]) -> None:
        nonlocal acknowledged, errors
        t0 = time.perf_counter()
        try:
            answer = client.post("/v1/events", json={"events": batch})
            ok = answer.status_code == 200 and answer.json()["rejected"] == 0
        except httpx.HTTPError:
            ok = False
        with counting:
            latencies.append((time.perf_counter() - t0) * 1000)
            acknowledged += per_batch if ok else 0
            errors += 0 if ok else 1

    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    start = time.perf_counter()
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30, limits=limits) as client, \
            ThreadPoolExecutor(in_flight) as senders:
        pending: list = []
        tick, number = start, 0
        while tick - start < seconds:
            pending = [f for f in pending if not f.done()]
            if len(pending) >= in_flight:  # the bureau is that far behind: this batch leaves late
                late += 1
                pending[0].result()
                continue
            now = datetime.now(UTC)
            batch = [_event(rng.choice(ids), f"{tag}-{number + i}", now) for i in range(per_batch)]
            number += per_batch
            pending.append(senders.submit(post, client, batch))
            tick += 0.1
            time.sleep(max(0.0, tick - time.perf_counter()))
        for f in pending:
            f.result()
    latencies.sort()
    return {"events": number, "batches": len(latencies), "batch_errors": errors,
            "events_per_s": acknowledged / (time.perf_counter() - start), "late_batches": late,
            "batch_p99_ms": latencies[int(0.99 * (len(latencies) - 1))] if latencies else None}


def event_to_signal(base: str, *, platform_key: str, lender_key: str, ids: list[str], trials: int) -> dict:
    """Milliseconds from an ``opened`` event's acknowledgement to an inquiry answer that counts it."""
    import httpx

    def accounts_1d(client: httpx.Client, n: int) -> int | None:
        body = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ids[n]}, "purpose": "loan_origination",
                "consent_ref": f"LX-Q{n}"}
        answer = client.post("/v1/inquiries", json=body, headers={"X-API-Key": lender_key})
        answer.raise_for_status()
        report = answer.json()["report"]
        if report is None:  # no file (every record of the person held or rejected): not a trial
            return None
        signal_ = next(s for s in report["signals"] if s["code"] == "MULTI_LENDING")
        return signal_["values"]["new_accounts_1d"]

    rng = random.Random(trials)
    seen: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        trial = 0
        while len(seen) < trials:
            trial += 1
            n = rng.randrange(len(ids))
            before = accounts_1d(client, n)
            if before is None:
                continue
            answer = client.post("/v1/events", headers={"X-API-Key": platform_key}, json={"events": [
                _event(ids[n], f"SIG-{time.time_ns()}-{trial}", datetime.now(UTC))]})
            answer.raise_for_status()
            acknowledged = time.perf_counter()
            while (accounts_1d(client, n) or 0) <= before:
                if time.perf_counter() - acknowledged > 10:
                    raise SystemExit("an acknowledged event was not counted within 10 s")
            seen.append((time.perf_counter() - acknowledged) * 1000)
    seen.sort()
    return {"trials": trials, "p50_ms": seen[len(seen) // 2], "p99_ms": seen[int(0.99 * (len(seen) - 1))],
            "max_ms": seen[-1]}


def event_intake(base: str, key: str, ids: list[str], *, clients: int, batch: int, seconds: float) -> dict:
    """Events stored per second, ``clients`` posting batches of ``batch`` new events as fast as answered."""
    import httpx

    def client_loop(number: int) -> tuple[int, int]:
        stored = errors = 0
        rng = random.Random(number)
        start = time.perf_counter()
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
            while time.perf_counter() - start < seconds:
                now = datetime.now(UTC)
                events = [_event(rng.choice(ids), f"T{number}-{time.time_ns()}-{i}", now) for i in range(batch)]
                answer = client.post("/v1/events", json={"events": events})
                if answer.status_code == 200:
                    stored += answer.json()["stored"]
                else:
                    errors += 1
        return stored, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client_loop, range(clients)))
    elapsed = time.perf_counter() - started
    stored = sum(r[0] for r in results)
    return {"stored": stored, "errors": sum(r[1] for r in results), "events_per_s": stored / elapsed}


def maintenance_jobs(engine: str, args: argparse.Namespace, ids: list[str]
                     ) -> list[tuple[str, Callable[[], list[str]]]]:
    """The other writers that must not hold inquiries up, each with what makes its command just before it is
    measured: a consent import of every person (new references each run), the rewrite of account states in
    person order, and the load that follows a killed one."""
    consents = args.data / f"maintenance-consents-{engine}.csv"
    tag = time.time_ns()
    with consents.open("w") as handle:
        handle.write("consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash\n")
        for n, number in enumerate(ids):
            handle.write(f"M{tag}-{n},CN_RESIDENT_ID,{number},furnish,2020-01-01T00:00:00Z,app,{'cd' * 32}\n")
    cli = str(Path(sys.executable).with_name("openbureau"))
    jobs = {"consents": (f"a consent import of {len(ids):,}",
                         lambda: [cli, "consent", "import", str(consents), "--member", LOADER]),
            "cluster": ("the person-order rewrite", lambda: [cli, "db", "cluster"]),
            "discard": (f"the discard of a load killed after {args.kill_after:g} s",
                        lambda: [cli, "intake", "submit", str(killed_load(engine, args)), "--furnisher", LOADER])}
    return [jobs[name] for name in args.jobs if name in jobs]


def new_accounts(path: Path, engine: str, tag: str) -> Path:
    """A copy of the file ``path`` whose account references end in ``tag``: the same records as new accounts
    (the same records again would all be refused as already stored, and the same bytes would return the
    earlier result)."""
    copy = path.with_name(f"load-{engine}{tag}.csv")
    pl.scan_csv(path, infer_schema=False).with_columns(pl.col("furnisher_account_id") + tag).sink_csv(copy)
    return copy


def killed_load(engine: str, args: argparse.Namespace) -> Path:
    """Start the load of ``--records`` records, kill it (SIGKILL, its preparing process too) after
    ``--kill-after`` seconds, and return a small file of the same furnisher: its load first deletes what the
    killed one wrote (``intake.loader.discard_interrupted``), which is the job measured."""
    tag = f"-K{time.time_ns() % 10**9}"
    big = new_accounts(loader_file(args), engine, tag)
    small = big.with_name(f"load-small-{engine}{tag}.csv")
    make_records(1_000, period="2026-10", seed=args.seed + 2).with_columns(  # accounts of its own
        pl.col("furnisher_account_id") + tag + "S").write_csv(small)
    cli = str(Path(sys.executable).with_name("openbureau"))
    log(f"{engine}: a load of {args.records:,} records, killed after {args.kill_after:g} s")
    loading = subprocess.Popen([cli, "intake", "submit", str(big), "--furnisher", LOADER], env=env_for(engine, args),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(args.kill_after)
    os.killpg(loading.pid, signal.SIGKILL)
    loading.wait()
    big.unlink()
    return small


def paced_inquiries(url: str, args: argparse.Namespace, *, ids: list[str], key: str, seed: int) -> dict:
    """The inquiries of the wrk script at ``--rate`` a second, planned in advance (``bench/paced.py``)."""
    def body(rng: random.Random) -> dict:
        n = rng.randrange(len(ids))  # line n + 1 of the ids file: the person whose consent is LX-Q<n>
        return {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ids[n]}, "purpose": "loan_origination",
                "consent_ref": f"LX-Q{n}", "declared_monthly_income": 800000}

    return paced(url, body=body, headers={"X-API-Key": key}, rate=args.rate, seconds=args.duration, seed=seed)


def during_job(command: list[str], env: dict[str, str], *, url: str, args: argparse.Namespace,
               script: Path) -> dict:
    """While ``command`` runs in a second process: inquiries at ``--rate`` a second planned in advance, then wrk,
    each for ``--duration`` seconds (as during a load); how long the job took and whether it outlasted both."""
    started = time.perf_counter()
    job = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    during_paced = paced_inquiries(url, args, **args.inquirer, seed=args.seed + 2)
    answered = wrk(url, seconds=args.duration, connections=args.connections, script=script)
    outlasted = job.poll() is None
    _, err = job.communicate()
    if job.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:3])} failed: {err.decode()[-2000:]}")
    return {**answered, "paced": during_paced, "job_seconds": time.perf_counter() - started,
            "job_outlasted_inquiries": outlasted}


def run(engine: str, args: argparse.Namespace) -> dict:
    built = build(engine, data=args.data, persons=args.persons, months=args.months, seed=args.seed)
    args.ids = built["ids"]
    platform_key, loader_key = register_loader(engine, args)
    ids = Path(built["ids"]).read_text().split()
    consented = ids[:CONSENTED]
    base = f"http://127.0.0.1:{args.port}"
    path = loader_file(args)
    script = args.data / f"live-{engine}.lua"
    script.write_text(LUA % {"ids": built["ids"], "key": built["keys"][SUBSCRIBER], "seed": args.seed})
    if engine == "postgresql":
        # Each run adds its file and events to the bureau; autovacuum would have vacuumed and analysed them
        # by the next run (a server may run without it, as this machine's does): done here, before measuring.
        vacuum(database_url(engine, args.data, args.persons))
    # A file submitted through the API is loaded by the server's load process, with the server's settings.
    os.environ.update(load_env(args.load_niceness[0], args.turn_wait[0], args.load_work_share[0],
                               args.load_latency_target[0]))
    server = serve(engine, data=args.data, persons=args.persons, port=args.port, workers=args.workers)
    url = f"http://127.0.0.1:{args.port}/v1/inquiries"
    try:
        wrk(url, seconds=args.warmup, connections=args.connections, script=script)
        # The event intake warmed too: a new intake's first batches run cold (caches, plans), and what is
        # measured is the bureau in its stride.
        feed_events(base, platform_key, consented, rate=args.event_rate, seconds=args.warmup,
                    tag=f"WARM-{engine}-{time.time_ns()}")
        args.inquirer = {"ids": ids, "key": built["keys"][SUBSCRIBER]}
        log(f"{engine}: idle, {args.rate}/s for {args.duration} s, then {args.connections} connections")
        idle_paced = paced_inquiries(url, args, **args.inquirer, seed=args.seed)
        idle = wrk(url, seconds=args.duration, connections=args.connections, script=script)
        loads = []
        settings = [(n, t, w, g) for n in args.load_niceness for t in args.turn_wait for w in args.load_work_share
                    for g in args.load_latency_target]
        for way, (niceness, turn_wait, share, target) in [(way, chosen) for _ in range(args.repeat)
                                                          for way in args.submit for chosen in settings
                                                          if way == "cli" or chosen == settings[0]]:
            log(f"{engine}: during a load of {args.records:,} records submitted by {way} (niceness {niceness}, "
                f"turn wait {turn_wait:g} s, work share {share:g}, latency target {target:g} ms), {args.duration} s")
            loads.append(during_load(engine, args, path=path, url=url, script=script, base=base,
                                     platform_key=platform_key, consented=consented, niceness=niceness,
                                     turn_wait=turn_wait, share=share, target=target, way=way,
                                     loader_key=loader_key))
        maintenance, signal_, intake_ = {}, None, None
        for job, command in ([] if args.loads_only else maintenance_jobs(engine, args, ids)):
            made = command()
            log(f"{engine}: during {job}, {args.duration} s")
            maintenance[job] = during_job(made, env_for(engine, args), url=url, args=args, script=script)
        if not args.loads_only:
            log(f"{engine}: event to signal, {args.trials} trials")
            signal_ = event_to_signal(base, platform_key=platform_key, lender_key=built["keys"][SUBSCRIBER],
                                      ids=consented, trials=args.trials)
            log(f"{engine}: event intake, {args.event_clients} clients x {args.event_seconds} s")
            intake_ = event_intake(base, platform_key, consented, clients=args.event_clients,
                                   batch=args.event_batch, seconds=args.event_seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    first = loads[0]
    return {"engine": engine, "idle": idle, "idle_paced": idle_paced, "during": first["during"], "load_seconds": first["load_seconds"],
            "load_outlasted_inquiries": first["load_outlasted_inquiries"], "events_during": first["events_during"],
            "loads": loads, "maintenance": maintenance,
            "event_to_signal": signal_, "event_intake": intake_}


def load_env(niceness: int, turn_wait: float, share: float, target: float) -> dict[str, str]:
    """The settings of a load's pacing (for the load command, or for the server whose load process loads)."""
    return {"OPENBUREAU_LOAD_NICENESS": str(niceness), "OPENBUREAU_WRITE_TURN_WAIT": str(turn_wait),
            "OPENBUREAU_LOAD_WORK_SHARE": str(share), "OPENBUREAU_LOAD_LATENCY_TARGET_MS": str(target)}


def submit_command(way: str, copy: Path, *, base: str, loader_key: str) -> list[str]:
    """The command that submits ``copy`` and ends when it is loaded: ``cli``, the load command (a new process,
    which imports and opens the bureau first); ``api``, an upload to the running server
    (``POST /v1/submissions``), loaded by its load process (``api.load_process``)."""
    if way == "cli":
        return [str(Path(sys.executable).with_name("openbureau")), "intake", "submit", str(copy), "--furnisher",
                LOADER]
    return ["curl", "-sS", "--fail-with-body", "-o", "/dev/stderr", "-H", f"X-API-Key: {loader_key}",
            "-F", f"file=@{copy};filename={copy.name}", f"{base}/v1/submissions"]


def during_load(engine: str, args: argparse.Namespace, *, path: Path, url: str, script: Path, base: str,
                platform_key: str, consented: list[str], niceness: int, turn_wait: float,
                share: float = 1.0, target: float = 0.0, way: str = "cli", loader_key: str = "") -> dict:
    """Inquiries for ``--duration`` seconds while the file loads in a second process whose preparing process
    runs at ``niceness`` (``OPENBUREAU_LOAD_NICENESS``), that waits up to ``turn_wait`` seconds between its
    transactions for the inquiry logs that asked for the write lock (``OPENBUREAU_WRITE_TURN_WAIT``), that is
    busy at most ``share`` of the time (``OPENBUREAU_LOAD_WORK_SHARE``), or less while the inquiries' p99 is above
    ``target`` ms (``OPENBUREAU_LOAD_LATENCY_TARGET_MS``; 0: a fixed share), and a platform reports events.
    ``way`` is how the file is submitted (:func:`submit_command`); through the API the server's settings
    apply (the first of each list: ``run``)."""
    copy = new_accounts(path, engine, f"-R{time.time_ns() % 10**9}")
    started = time.perf_counter()
    env = {**env_for(engine, args), **load_env(niceness, turn_wait, share, target)}
    loading = subprocess.Popen(submit_command(way, copy, base=base, loader_key=loader_key), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with ThreadPoolExecutor(1) as feeder:
        fed = feeder.submit(feed_events, base, platform_key, consented, rate=args.event_rate,
                            seconds=2 * args.duration, tag=f"FEED-{engine}-{time.time_ns()}")
        during_paced = paced_inquiries(url, args, **args.inquirer, seed=args.seed + 1)
        paced_outlasted = loading.poll() is None
        during = wrk(url, seconds=args.duration, connections=args.connections, script=script)
        events_during = fed.result()
    still_loading = loading.poll() is None
    _, err = loading.communicate()
    load_seconds = time.perf_counter() - started
    copy.unlink(missing_ok=True)
    if loading.returncode != 0:
        raise SystemExit(f"the load failed: {err.decode()[-2000:]}")
    return {"submit": way, "niceness": niceness, "turn_wait": turn_wait, "work_share": share, "latency_target": target,
            "during": during, "during_paced": during_paced,
            "load_outlasted_paced": paced_outlasted, "load_seconds": load_seconds,
            "load_outlasted_inquiries": still_loading, "events_during": events_during}


def _label(result: dict, load: dict) -> str:
    return (f"{result['engine']} {load.get('submit', 'cli')} n{load['niceness']} t{load.get('turn_wait', 0):g} "
            f"w{load.get('work_share', 1):g} L{load.get('latency_target', 0):g}")


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
    parser.add_argument("--load-niceness", type=lambda v: [int(n) for n in v.split(",")], default=[10],
                        help="the load's preparing process's niceness; several (10,0) measure a load at each")
    parser.add_argument("--turn-wait", type=lambda v: [float(n) for n in v.split(",")], default=[0.05],
                        help="seconds the load waits for the inquiry logs that asked for SQLite's write lock; "
                        "several (0.05,0) measure a load at each (after each niceness)")
    parser.add_argument("--load-work-share", type=lambda v: [float(n) for n in v.split(",")], default=[1.0],
                        help="the share of the time the load may be busy (OPENBUREAU_LOAD_WORK_SHARE); several "
                        "(1,0.5,0.25) measure a load at each (after each niceness and turn wait)")
    parser.add_argument("--load-latency-target", type=lambda v: [float(n) for n in v.split(",")], default=[50.0],
                        help="ms: the load's share follows the inquiries' p99 to keep it below this "
                        "(OPENBUREAU_LOAD_LATENCY_TARGET_MS, the bureau's default 50; 0: the fixed share); several "
                        "(0,100) measure a load at each (after each work share)")
    parser.add_argument("--submit", type=lambda v: v.split(","), default=["api"],
                        help="how the file is submitted: api (uploaded to the server, loaded by its load process) "
                        "or cli (the load command in a new process); api,cli measures a load each way (through "
                        "the API only with the first of each setting above)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure the loads this many times, alternating (ways and settings), on one bureau")
    parser.add_argument("--jobs", type=lambda v: v.split(","), default=["consents", "cluster", "discard"],
                        help="the other writers measured: consents, cluster, discard (a killed load's rows "
                        "deleted by the next load)")
    parser.add_argument("--kill-after", type=float, default=30.0,
                        help="seconds the load whose discard is measured runs before it is killed")
    parser.add_argument("--loads-only", action="store_true",
                        help="measure idle and during loads only (no other writers, event timings)")
    parser.add_argument("--rate", type=float, default=127,
                        help="inquiries/s planned in advance (default: a national bureau's average, 11 M a day)")
    parser.add_argument("--event-rate", type=int, default=1_000,
                        help="events/s reported during the load (0: none, to measure the load alone)")
    parser.add_argument("--trials", type=int, default=200, help="event-to-signal measurements")
    parser.add_argument("--event-clients", type=int, default=2)
    parser.add_argument("--event-batch", type=int, default=1_000)
    parser.add_argument("--event-seconds", type=float, default=20)
    args = parser.parse_args()
    args.data = (args.data or ROOT / "bench" / "out" / f"report-api-{args.persons}").resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    results = []
    for engine in engines:
        results.append(run(engine, args))
        # Each engine's figures are kept as soon as they are measured (a later engine may take long to build).
        saved = args.data / f"live-{engine}-{time.strftime('%Y%m%dT%H%M%S')}.json"
        saved.write_text(json.dumps(results[-1]))
        log(f"{engine}: figures kept in {saved}")
    print()
    print(f"Inquiries idle and during a load of {args.records:,} records ({args.connections} connections, "
          f"{args.workers} server processes, {os.cpu_count()} cores)")
    print(f"{'engine':<27}{'idle/s':>9}{'p50':>7}{'p99':>7}{'load/s':>9}{'p50':>7}{'p99':>8}{'errors':>8}"
          f"{'p99 ratio':>11}{'load s':>8}")
    for r in results:
        i = r["idle"]
        for load in r["loads"]:
            d = load["during"]
            errors = d["non2xx"] + (0 if d["socket_errors"] is None else 1)
            note = "" if load["load_outlasted_inquiries"] else "  (the load ended before the inquiries: use more records)"
            print(f"{_label(r, load):<27}{i['rps']:>9,.0f}{i['p50']:>7.1f}{i['p99']:>7.1f}"
                  f"{d['rps']:>9,.0f}{d['p50']:>7.1f}{d['p99']:>8.1f}{errors:>8}{d['p99'] / i['p99']:>11.2f}"
                  f"{load['load_seconds']:>8.0f}{note}")
    print()
    print(f"Inquiries at {args.rate:g}/s planned in advance (latency from each planned departure, ms), idle and "
          f"during the same loads")
    print(f"{'engine':<27}{'idle p50':>9}{'p99':>7}{'p99.9':>7}{'load p50':>9}{'p99':>7}{'p99.9':>8}{'max':>8}"
          f"{'errors':>8}{'p99 ratio':>11}")
    for r in results:
        i = r["idle_paced"]
        for load in r["loads"]:
            d = load["during_paced"]
            note = "" if load["load_outlasted_paced"] else "  (the load ended before the inquiries)"
            print(f"{_label(r, load):<27}{i['p50']:>9.1f}{i['p99']:>7.1f}{i['p999']:>7.1f}"
                  f"{d['p50']:>9.1f}{d['p99']:>7.1f}{d['p999']:>8.1f}{d['max']:>8.0f}{d['errors']:>8}"
                  f"{d['p99'] / i['p99']:>11.2f}{note}")
    if args.event_rate > 0:
        print()
        print(f"Lending events reported during each load ({args.event_rate:,}/s planned, a batch every 100 ms)")
        print(f"{'engine':<27}{'acknowledged/s':>15}{'late batches':>14}{'batch errors':>14}{'batch p99':>11}")
        for r in results:
            for load in r["loads"]:
                f = load["events_during"]
                print(f"{_label(r, load):<27}{f['events_per_s']:>15,.0f}{f.get('late_batches', 0):>14}"
                      f"{f['batch_errors']:>14}{f['batch_p99_ms']:>9.0f}ms")
    print()
    print("Inquiries while other writers run (same connections)")
    print(f"{'engine':<11}{'job':<42}{'/s':>7}{'p50':>7}{'p99':>8}{'errors':>8}{'p99 ratio':>11}"
          f"{'paced p50':>11}{'p99':>8}{'ratio':>7}{'job s':>7}")
    for r in results:
        for job, d in r["maintenance"].items():
            paced_ = d["paced"]
            errors = d["non2xx"] + (0 if d["socket_errors"] is None else 1) + paced_["errors"]
            note = "" if d["job_outlasted_inquiries"] else "  (the job ended before the inquiries)"
            print(f"{r['engine']:<11}{job:<42}{d['rps']:>7,.0f}{d['p50']:>7.1f}{d['p99']:>8.1f}{errors:>8}"
                  f"{d['p99'] / r['idle']['p99']:>11.2f}{paced_['p50']:>11.1f}{paced_['p99']:>8.1f}"
                  f"{paced_['p99'] / r['idle_paced']['p99']:>7.2f}{d['job_seconds']:>7.0f}{note}")
    print()
    print(f"Lending events ({args.event_rate:,}/s reported during the load; event to signal over {args.trials} "
          f"trials; intake: {args.event_clients} clients, batches of {args.event_batch:,})")
    print(f"{'engine':<11}{'fed/s':>8}{'batch errors':>14}{'batch p99':>11}{'signal p50':>12}{'p99':>8}"
          f"{'max':>8}{'intake/s':>10}{'errors':>8}")
    for r in results:
        if r["event_to_signal"] is None:
            continue
        f, g, k = r["events_during"], r["event_to_signal"], r["event_intake"]
        print(f"{r['engine']:<11}{f['events_per_s']:>8,.0f}{f['batch_errors']:>14}{f['batch_p99_ms']:>9.0f}ms"
              f"{g['p50_ms']:>10.1f}ms{g['p99_ms']:>6.1f}ms{g['max_ms']:>6.0f}ms{k['events_per_s']:>10,.0f}"
              f"{k['errors']:>8}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
