"""A simulated market replayed into a fresh bureau on one engine: shared by test packages that need a
realistic bureau (quality, scoring).

A replay is the slow part, and pytest-xdist hands a package's test files to whichever process is free, so
the same market would be replayed by every process that runs one of its files (and again whenever a process
comes back to the package after another). Each market is therefore replayed once per engine and test run,
under a file lock in the run's shared temporary directory, and kept: on SQLite as its data directory, on
PostgreSQL as a template database. Every user gets a copy of its own (a copied directory; ``CREATE DATABASE
... TEMPLATE``), so a test that writes to its bureau changes nobody else's. The run's controller drops the
templates at the end (``drop_templates``)."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Json
from sqlalchemy import JSON, Integer

from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine
from openbureau.kit.dialects import dialect_for
from openbureau.kit.settings import Settings
from openbureau.migrations import upgrade
from openbureau.migrations.metadata import target_metadata
from openbureau.runtime import Runtime
from openbureau.sim.replay import IssuedMember, ReplayResult, register_members, replay

TEMPLATE_PREFIX = "openbureau_tpl_"


@dataclass(frozen=True, slots=True)
class ReplayedMarket:
    """A bureau holding a replayed simulated market, and where the market's truth lies."""

    runtime: Runtime
    market: Path
    keys: dict[str, str]
    result: ReplayResult | None = None  # what the replay counted per furnisher


def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary directory every process of this test run shares (xdist workers' parent)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def run_tag(root: Path) -> str:
    """A short tag of this test run, naming its template databases."""
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _admin(postgres_url: str) -> str:
    return postgres_url.replace("postgresql+psycopg://", "postgresql://", 1).rsplit("/", 1)[0] + "/postgres"


def _with_database(postgres_url: str, name: str) -> str:
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def _build(kept: Path, *, engine_name: str, market: Path, sqlite_template: Path, postgres_url: str | None,
           template: str, events: bool) -> None:
    """Replay ``market`` once into a bureau kept at ``kept`` (and, on PostgreSQL, the database ``template``)."""
    data_dir = kept / "data"
    data_dir.mkdir(parents=True)
    if engine_name == "sqlite":
        shutil.copyfile(sqlite_template, data_dir / "bureau.db")
        url = f"sqlite:///{data_dir / 'bureau.db'}"
    else:
        with psycopg.connect(_admin(postgres_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{template}"')
        url = _with_database(postgres_url, template)
        migrating = make_engine(url)
        upgrade(migrating)
        migrating.dispose()
    keys = {k: base64.b64encode(os.urandom(32)).decode() for k in ("pii_key", "index_key")}
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, **keys)
    engine = make_engine(url)
    runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    issued: list[IssuedMember] = register_members(engine)
    result = replay(engine, settings=settings, policy=runtime.policy, vault=runtime.vault, market=market,
                    events=events)
    if engine_name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    (kept / "keys.json").write_text(json.dumps({"vault": keys, "members": {m.code: m.api_key for m in issued}}))
    (kept / "result.pickle").write_bytes(pickle.dumps(result))
    (kept / "done").touch()


def _copy_into_postgres(kept: Path, replayed: Path, *, postgres_url: str, template: str) -> None:
    """The bureau replayed on SQLite at ``replayed``, copied into the PostgreSQL database ``template`` (migrated
    first; each table by ``COPY``) and kept at ``kept`` with the same keys, files and replay counts."""
    shutil.copytree(replayed, kept, ignore=shutil.ignore_patterns("bureau.db*", "done"))
    with psycopg.connect(_admin(postgres_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{template}"')
    target = make_engine(_with_database(postgres_url, template))
    upgrade(target)
    source = make_engine(f"sqlite:///{replayed / 'data' / 'bureau.db'}")
    with source.connect() as read, target.begin() as write:
        cursor = write.connection.driver_connection.cursor()
        for table in target_metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            names = ", ".join(f'"{c}"' for c in columns)
            documents = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:  # the rows as SQLAlchemy types them
                for row in read.execute(table.select()):
                    values = list(row)
                    for i in documents:
                        values[i] = None if values[i] is None else Json(values[i])
                    copy.write_row(values)
            keys = list(table.primary_key.columns)
            if len(keys) == 1 and keys[0].autoincrement in (True, "auto") and isinstance(keys[0].type, Integer):
                dialect_for(write).sync_sequence(write, table.name, keys[0].name)
    source.dispose()
    target.dispose()
    (kept / "done").touch()


def _kept_on_sqlite(root: Path, name: str, events: bool, *, market: Path, sqlite_template: Path) -> Path:
    """Where the market's SQLite replay is kept, replayed first if no process did yet."""
    key = f"{name}-sqlite-{'events' if events else 'monthly'}"
    kept = root / "replayed" / key
    with _locked(kept.parent / f"{key}.lock"):
        if not (kept / "done").exists():
            shutil.rmtree(kept, ignore_errors=True)
            _build(kept, engine_name="sqlite", market=market, sqlite_template=sqlite_template, postgres_url=None,
                   template="", events=events)
    return kept


def replayed_bureau(request: pytest.FixtureRequest, market: Path, sqlite_template: Path,
                    tmp_path_factory: pytest.TempPathFactory, name: str, *,
                    events: bool = False, replay_on_postgres: bool = False) -> Iterator[ReplayedMarket]:
    """A copy of ``market`` replayed into a bureau on the engine ``request.param`` names; yields it, then
    disposes of the copy.

    The daily lending-event files are replayed only with ``events`` (a day's file costs a transaction, and the
    packages that share this fixture test what the monthly files build). On PostgreSQL the bureau replayed on
    SQLite is copied in, row by row (a replay takes a minute or two; the copy seconds): tests of what a bureau
    holds read it on PostgreSQL all the same. Tests of the replay itself pass ``replay_on_postgres``."""
    engine_name = request.param
    postgres_url = request.getfixturevalue("postgres_url") if engine_name == "postgresql" else None
    root = run_root(tmp_path_factory)
    key = f"{name}-{engine_name}-{'events' if events else 'monthly'}"
    kept = root / "replayed" / key
    kept.parent.mkdir(exist_ok=True)
    template = f"{TEMPLATE_PREFIX}{run_tag(root)}_{name}_{'e' if events else 'm'}"
    copy = f"openbureau_copy_{uuid.uuid4().hex[:12]}"
    data_dir = tmp_path_factory.mktemp(f"{name}-{engine_name}")
    with _locked(kept.parent / f"{key}.lock"):
        if not (kept / "done").exists():
            shutil.rmtree(kept, ignore_errors=True)
            if engine_name == "postgresql" and not replay_on_postgres:
                # The SQLite bureau's own lock is taken inside this one, and a SQLite user takes only its own.
                replayed = _kept_on_sqlite(root, name, events, market=market, sqlite_template=sqlite_template)
                _copy_into_postgres(kept, replayed, postgres_url=postgres_url, template=template)
            else:
                _build(kept, engine_name=engine_name, market=market, sqlite_template=sqlite_template,
                       postgres_url=postgres_url, template=template, events=events)
        shutil.copytree(kept / "data", data_dir, dirs_exist_ok=True)
        if engine_name == "postgresql":
            with psycopg.connect(_admin(postgres_url), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
    stored = json.loads((kept / "keys.json").read_text())
    url = (f"sqlite:///{data_dir / 'bureau.db'}" if engine_name == "sqlite"
           else _with_database(postgres_url, copy))
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, **stored["vault"])
    engine = make_engine(url)
    runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    yield ReplayedMarket(runtime=runtime, market=market, keys=stored["members"],
                         result=pickle.loads((kept / "result.pickle").read_bytes()))
    engine.dispose()
    if engine_name == "postgresql":
        with psycopg.connect(_admin(postgres_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def drop_templates(admin_url: str, root: Path) -> None:
    """Drop this run's template databases (called once, by the run's controller, at its end)."""
    pattern = f"{TEMPLATE_PREFIX}{run_tag(root)}_%"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
