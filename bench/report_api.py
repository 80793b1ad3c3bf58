"""Inquiry API benchmark: ``POST /v1/inquiries`` for random persons of a 1,000,000-person bureau, against the
same server's trivial JSON endpoint (``GET /v1/health``) as the framework's ceiling, measured in one run.

Steps, per engine (SQLite, PostgreSQL):
1. Build the bureau once (kept in ``--data`` and reused by later runs): simulate the market, register its
   members, replay every furnishing file and consent through the real intake, and give the benchmark's
   lender (LENDER_X) a consent to query every person for loan origination, imported like any lender's.
   On PostgreSQL, VACUUM (ANALYZE) the freshly loaded database, as autovacuum would some time after a load.
   Rewrite its account states in person order, as the bureau's monthly maintenance does after the loads
   (``openbureau db cluster``; ``--no-cluster`` measures the bureau as loaded). Release a scorecard (trained
   once on a small 24-month market of its own), so each answer carries a score.
2. Serve it with ``uvicorn openbureau.api.main:app --workers N`` on 127.0.0.1.
3. Drive it with wrk (C, one thread, keep-alive connections) from a Lua script that sends each request for
   a person drawn at random: first a warm-up, then ``--duration`` seconds of inquiries, then the same time
   on ``/v1/health``. Before the server starts, the database is read into memory (``--no-prewarm`` skips
   it) after the OS page cache is emptied when run as root, so that the engine measured has the machine's
   memory to itself (both bureaus together do not fit).
4. Check that every answered inquiry is in the log: the inquiries table grew by the number of 2xx answers
   wrk counted, plus at most one per connection (requests in flight when wrk stops are logged but not
   counted); each is committed before its answer is sent.

It prints requests/s, p50 and p99 latency of both, and the ratio inquiries/s ÷ ceiling requests/s, and the
serving processes' peak memory during the inquiries (``bench/memory.py``): the anonymous memory of the
largest worker and of all of them with uvicorn's supervisor, and their resident memory (which adds the
database pages mapped by SQLite and PostgreSQL's shared buffers as far as the workers touched them).

    .venv/bin/python bench/report_api.py --persons 1000000 --engine sqlite
    .venv/bin/python bench/report_api.py --persons 20000 --engine both --duration 30   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import MemorySampler  # noqa: E402

PG_ADMIN = os.environ.get("OPENBUREAU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SUBSCRIBER = "LENDER_X"
# The start of every wrk script of the benchmarks: the subjects' ids, a seed per connection, the member's key.
LUA_HEAD = r"""
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
math.randomseed(%(seed)d + (tonumber(tostring({}):sub(8), 16) or 0))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "%(key)s"
"""
LUA = LUA_HEAD + r"""request = function()
  local n = math.random(#ids)
  -- line n of the ids file is the person whose consent the lender filed as LX-Q<n-1>
  local body = '{"subject":{"id_type":"CN_RESIDENT_ID","id_number":"' .. ids[n] ..
               '"},"purpose":"loan_origination","consent_ref":"LX-Q' .. (n - 1) ..
               '","declared_monthly_income":800000}'
  return wrk.format(nil, "/v1/inquiries", nil, body)
end
"""


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def database_url(engine: str, data: Path, persons: int) -> str:
    if engine == "sqlite":
        return f"sqlite:///{(data / 'sqlite' / 'bureau.db').resolve()}"
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/openbureau_bench_{persons}"


class ReplayPhases:
    """Where a replay's time went, from its callbacks: each file's load (monthly or a day's events: rows,
    seconds), the consent imports between them, and the applications after the last file. On PostgreSQL,
    each span also carries the server's WAL written (bytes, full-page images: ``pg_stat_wal``) and the
    database's blocks read from outside shared buffers and found in them (``pg_stat_database``)."""

    def __init__(self, pg_url: str | None) -> None:
        self.pg_url = pg_url.replace("postgresql+psycopg://", "postgresql://") if pg_url else None
        self.spans: list[dict] = []
        self._mark = self._counters()

    def _counters(self) -> dict:
        counters = {"t": time.perf_counter()}
        if self.pg_url:
            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                counters["wal_bytes"], counters["wal_fpi"] = conn.execute(
                    "SELECT wal_bytes::bigint, wal_fpi FROM pg_stat_wal").fetchone()
                counters["blks_read"], counters["blks_hit"] = conn.execute(
                    "SELECT blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()").fetchone()
        return counters

    def _close(self, kind: str, rows: int = 0, furnisher: str | None = None) -> None:
        now = self._counters()
        span = {"kind": kind, "furnisher": furnisher, "rows": rows, "seconds": now["t"] - self._mark["t"]}
        span |= {k: now[k] - self._mark[k] for k in now if k != "t"}
        self.spans.append(span)
        self._mark = now

    def loading(self, _entry) -> None:  # what passed since the last file: that furnisher's consent imports
        self._close("consents")

    def loaded(self, entry) -> None:
        from openbureau.sim.event_files import EventFileEntry

        self._close("events" if isinstance(entry, EventFileEntry) else "monthly", entry.rows, entry.furnisher)

    def finished(self) -> None:  # after the last file: the applications' consents and inquiries
        self._close("applications")


def vacuum(url: str) -> None:
    """What autovacuum does to a PostgreSQL bureau some time after a bulk load, done at once: set the visibility
    map and hint bits, so that the first reader of each page does not (a person's first report would otherwise
    dirty some 50 pages and read the commit log for each row), and analyse the tables. Then a checkpoint: the
    vacuum writes some 0.5 GB of write-ahead log on a bureau of 100,000 persons, and the checkpoint that log
    would otherwise start (its pages written out over minutes) would fall in the idle measurement that follows."""
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    log(f"postgresql: vacuumed in {time.perf_counter() - started:.0f} s")


def build(engine: str, *, data: Path, persons: int, months: int, seed: int) -> dict:
    """The bureau for ``engine``, built once: {'keys': {code: api key}, 'ids': path of person ids}."""
    from openbureau import sim
    from openbureau.intake import quarantine
    from openbureau.kit.db import session_scope
    from openbureau.kit.settings import Settings
    from openbureau.members.service import get_member
    from openbureau.runtime import open_runtime
    from openbureau.sim.replay import register_members, replay

    home = data / engine
    done = home / "built.json"
    if done.exists():
        return json.loads(done.read_text())
    market = data / "market"
    if not (market / "manifest.json").exists():
        log(f"simulating {persons:,} persons x {months} months")
        sim.generate(persons=persons, months=months, seed=seed, out=market, end_period="2026-10")
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    url = database_url(engine, data, persons)
    if engine == "postgresql":
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    keys = json.loads((data / "keys.json").read_text()) if (data / "keys.json").exists() else None
    settings = Settings(data_dir=home, database_url=url, **(keys or {}))
    runtime = open_runtime(settings)
    if keys is None:  # one pair of PII keys for both engines, so one list of ids serves both
        (data / "keys.json").write_text((home / "keys.json").read_text())
    issued = {m.code: m.api_key for m in register_members(runtime.engine)}
    started = time.perf_counter()
    log(f"{engine}: replaying the market through intake")
    # The bureau keeps a copy of every file it loads (to finish a load cut short); a 1M-person market is
    # ~17 GB of files, so the benchmark drops each copy once its load is done.
    phases = ReplayPhases(url if engine == "postgresql" else None)
    replay(runtime.engine, settings=settings, policy=runtime.policy, vault=runtime.vault, market=market,
           on_file=lambda entry: (_drop_loaded_copies(settings.submissions_dir), phases.loading(entry)),
           on_event_file=phases.loading, after=phases.loaded)
    _drop_loaded_copies(settings.submissions_dir)
    replay_seconds = time.perf_counter() - started
    phases.finished()
    log(f"{engine}: replayed in {replay_seconds:.0f} s")
    truth = pl.read_parquet(market / "truth" / "persons.parquet")
    keys_on_file = pl.read_parquet(market / "truth" / "records.parquet", columns=["person_key"]).unique()
    people = truth.join(keys_on_file, on="person_key").select("id_number", "full_name")
    ids = data / "ids.txt"
    ids.write_text("\n".join(people["id_number"].to_list()) + "\n")
    consent_file = home / "query-consents.csv"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    people.with_row_index("n").select(
        pl.format("LX-Q{}", pl.col("n")).alias("consent_ref"), pl.lit("CN_RESIDENT_ID").alias("id_type"),
        "id_number", "full_name", pl.lit("loan_origination").alias("purpose"), pl.lit(now).alias("granted_at"),
        pl.lit("app").alias("channel"),
        # the digest of the signed application form the lender keeps (evidence is required: docs/consent.md)
        pl.col("id_number").hash().cast(pl.String).str.zfill(64).alias("evidence_hash")).write_csv(consent_file)
    with session_scope(runtime.engine) as session:
        subscriber = get_member(session, code=SUBSCRIBER)
    outcome, _ = quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                            actor=subscriber, path=consent_file)
    log(f"{engine}: {outcome.created:,} query consents for {SUBSCRIBER}")
    if engine == "postgresql":
        vacuum(url)
    built = {"keys": issued, "ids": str(ids), "persons_on_file": people.height, "replay_seconds": replay_seconds,
             "replay_phases": phases.spans}
    done.write_text(json.dumps(built))
    return built


def _drop_loaded_copies(folder: Path) -> None:
    """Remove the bureau's copies of files already loaded (called between loads)."""
    if folder.exists():
        for path in folder.rglob("*"):
            if path.is_file():
                path.unlink()


def serve(engine: str, *, data: Path, persons: int, port: int, workers: int) -> subprocess.Popen:
    keys = json.loads((data / "keys.json").read_text())
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(data / engine),
           "OPENBUREAU_DATABASE_URL": database_url(engine, data, persons),
           "OPENBUREAU_PII_KEY": keys["pii_key"], "OPENBUREAU_INDEX_KEY": keys["index_key"],
           "OPENBUREAU_RATE_LIMIT_PER_MINUTE": str(10**9)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "openbureau.api.main:app", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                               "--no-access-log"], env=env, start_new_session=True)
    if not healthy(port):
        server.kill()
        raise SystemExit("the server did not start")
    return server


def healthy(port: int, *, tries: int = 300) -> bool:
    """Whether the server on ``port`` answers ``/v1/health`` within ``tries`` looks 0.2 s apart."""
    for _ in range(tries):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def wrk(url: str, *, seconds: int, connections: int, script: Path | None = None) -> dict:
    """Run wrk; requests/s, p50/p99 in ms, requests and non-2xx answers."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": latency("50"), "p99": latency("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None}


def inquiries_logged(engine: str, *, data: Path, persons: int) -> int:
    from sqlalchemy import func, select

    from openbureau.inquiries.models import Inquiry
    from openbureau.kit.db import make_engine

    db = make_engine(database_url(engine, data, persons))
    with db.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Inquiry)).scalar_one()
    db.dispose()
    return count


def scorecard(data: Path, seed: int) -> Path:
    """A bureau scorecard for the benchmark's inquiries to carry: trained once on a 5,000-person, 24-month
    market of its own (the benchmark's bureau holds 12 months, too few for a 12-month outcome)."""
    from openbureau import sim
    from openbureau.kit.settings import Settings
    from openbureau.runtime import open_runtime
    from openbureau.scoring import service
    from openbureau.scoring.scorecard import SCALES
    from openbureau.sim.replay import register_members, replay

    path = data / "scorecard.json"
    if path.exists():
        return path
    side = data / "model-bureau"
    shutil.rmtree(side, ignore_errors=True)
    sim.generate(persons=5_000, months=24, seed=seed, out=side / "market", end_period="2026-10")
    runtime = open_runtime(Settings(data_dir=side, database_url=None))
    register_members(runtime.engine)
    replay(runtime.engine, settings=runtime.settings, policy=runtime.policy, vault=runtime.vault,
           market=side / "market")
    card, _ = service.train_on_bureau(runtime.engine, scale=SCALES["300-850"], prefix="bench",
                                      actor_code="OPERATOR:bench")
    path.write_text(service.artefact_text(card), encoding="utf-8")
    log(f"scorecard {card.model_version} trained (validation AUC {card.validation['auc']:.3f})")
    return path


def release_scorecard(engine: str, *, data: Path, persons: int, path: Path) -> None:
    """Register and release the benchmark's scorecard in the bureau, once (opened as the bureau is, with its keys:
    registering a model writes an audit entry, which the bureau's audit keys sign)."""
    from openbureau.kit.db import session_scope
    from openbureau.kit.settings import Settings
    from openbureau.runtime import open_runtime
    from openbureau.scoring import service
    from openbureau.scoring.repository import ModelRepository
    from openbureau.scoring.scorecard import Scorecard

    keys = json.loads((data / "keys.json").read_text()) if (data / "keys.json").exists() else {}
    runtime = open_runtime(Settings(data_dir=data / engine, database_url=database_url(engine, data, persons),
                                    **keys))
    card = Scorecard.from_json(json.loads(path.read_text(encoding="utf-8")))
    with session_scope(runtime.engine, write=True) as session:
        if ModelRepository(session).by_version(card.model_version) is None:
            service.register(session, card=card, actor_code="OPERATOR:bench")
            service.release(session, version=card.model_version, actor_code="OPERATOR:bench")
    runtime.engine.dispose()


def drop_page_cache() -> bool:
    """Empty the OS page cache (root only), so that the engine measured next does not share it with the
    other engine's database: with both bureaus on the machine (26 GB) only part of either stays cached, and
    the pages read last are the first the kernel evicts."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError:
        return False
    return True


def prewarm(engine: str, *, data: Path, persons: int) -> None:
    """Read the database once so that it sits in memory, as a serving bureau's would after its first hours
    (SQLite: the file through the OS page cache; PostgreSQL: pg_prewarm of the tables and their indexes)."""
    if drop_page_cache():
        log("page cache emptied first (one bureau on the machine)")
    else:
        log("page cache not emptied (needs root): other data in it may push part of the bureau out")
    started = time.perf_counter()
    if engine == "sqlite":
        with (data / "sqlite" / "bureau.db").open("rb") as handle:
            while handle.read(16 * 2**20):
                pass
    else:
        url = database_url(engine, data, persons).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            relations = conn.execute("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON "
                                     "n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')")
            for (name,) in relations.fetchall():
                conn.execute("SELECT pg_prewarm(%s, 'read')", (name,))
    log(f"{engine}: database read into memory in {time.perf_counter() - started:.0f} s")


def cluster(engine: str, *, data: Path, persons: int) -> None:
    """Rewrite the bureau's account states in person order once, as its monthly maintenance would after the
    loads (``openbureau db cluster``); recorded in built.json."""
    from openbureau.kit.db import make_engine
    from openbureau.tradelines.tasks import cluster_by_person

    done = data / engine / "built.json"
    built = json.loads(done.read_text())
    if built.get("clustered"):
        return
    db = make_engine(database_url(engine, data, persons))
    outcome = cluster_by_person(db, actor_code="OPERATOR:bench")
    db.dispose()
    log(f"{engine}: {outcome.rows:,} account states rewritten in person order in {outcome.seconds:.0f} s")
    done.write_text(json.dumps({**built, "clustered": True}))


def run(engine: str, args: argparse.Namespace) -> dict:
    built = build(engine, data=args.data, persons=args.persons, months=args.months, seed=args.seed)
    if args.cluster:
        cluster(engine, data=args.data, persons=args.persons)
    release_scorecard(engine, data=args.data, persons=args.persons, path=scorecard(args.data, args.seed))
    if args.prewarm:
        prewarm(engine, data=args.data, persons=args.persons)
    script = args.data / f"inquiry-{engine}.lua"
    script.write_text(LUA % {"ids": built["ids"], "key": built["keys"][SUBSCRIBER], "seed": args.seed})
    workers = args.workers
    server = serve(engine, data=args.data, persons=args.persons, port=args.port, workers=workers)
    base = f"http://127.0.0.1:{args.port}"
    try:
        log(f"{engine}: warming up for {args.warmup} s")
        wrk(f"{base}/v1/inquiries", seconds=args.warmup, connections=args.connections, script=script)
        time.sleep(0.5)  # the warm-up's last requests are committed before the count
        before = inquiries_logged(engine, data=args.data, persons=args.persons)
        log(f"{engine}: inquiries for {args.duration} s with {args.connections} connections")
        with MemorySampler(server.pid, interval=0.5) as memory:
            inquiries = wrk(f"{base}/v1/inquiries", seconds=args.duration, connections=args.connections,
                            script=script)
        time.sleep(0.5)
        logged = inquiries_logged(engine, data=args.data, persons=args.persons) - before
        log(f"{engine}: trivial JSON endpoint for {args.ceiling_duration} s")
        ceiling = wrk(f"{base}/v1/health", seconds=args.ceiling_duration, connections=args.connections)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    answered = inquiries["requests"] - inquiries["non2xx"]
    return {"engine": engine, "workers": workers, "persons": built["persons_on_file"], "inquiries": inquiries,
            "ceiling": ceiling, "logged": logged, "answered": answered, "memory": memory.figures()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=30, help="seconds of inquiries (at least 30 for the target)")
    parser.add_argument("--ceiling-duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2,
                        help="server processes (2 was best on both engines here; 3, 4 and 6 were slower)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data", type=Path, default=None, help="where bureaus are built and kept")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--no-cluster", dest="cluster", action="store_false",
                        help="measure the bureau as loaded, without the rewrite of account states in person order")
    parser.add_argument("--no-prewarm", dest="prewarm", action="store_false",
                        help="do not read the database into memory first")
    args = parser.parse_args()
    args.data = (args.data or ROOT / "bench" / "out" / f"report-api-{args.persons}").resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    if args.build_only:
        for engine in engines:
            build(engine, data=args.data, persons=args.persons, months=args.months, seed=args.seed)
            if args.cluster:
                cluster(engine, data=args.data, persons=args.persons)
        return
    results = [run(engine, args) for engine in engines]
    print()
    print(f"Inquiry API, {args.connections} connections, wrk on 127.0.0.1, {os.cpu_count()} cores")
    print(f"{'engine':<11}{'workers':>8}{'persons':>10}{'inquiries/s':>13}{'p50 ms':>9}{'p99 ms':>9}{'ceiling/s':>11}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}  logged / answered")
    memory_lines = []
    for r in results:
        q, c = r["inquiries"], r["ceiling"]
        # wrk stops with up to one request per connection in flight: logged, but not counted as answered.
        check = "" if 0 <= r["logged"] - r["answered"] <= args.connections else "  MISMATCH"
        failed = f"  ({q['non2xx']:,} non-2xx)" if q["non2xx"] else ""
        print(f"{r['engine']:<11}{r['workers']:>8}{r['persons']:>10,}{q['rps']:>13,.0f}{q['p50']:>9.1f}{q['p99']:>9.1f}{c['rps']:>11,.0f}"
              f"{c['p50']:>9.1f}{c['p99']:>9.1f}{q['rps'] / c['rps']:>8.3f}  {r['logged']:,} / {r['answered']:,}"
              f"{check}{failed}")
        m = r["memory"]
        memory_lines.append(f"{r['engine']:<11}{m['one_process_mib']:>14,.0f}{m['anonymous_mib']:>12,.0f}"
                            f"{m['peak_mib']:>14,.0f}")
    print(f"Serving processes' peak memory during the inquiries, MiB\n{'engine':<11}{'one worker':>14}"
          f"{'all (anon)':>12}{'all resident':>14}")
    print("\n".join(memory_lines))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
