"""A small simulated market, generated once and replayed once per engine for every test of the package."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine
from openbureau.kit.settings import Settings
from openbureau.migrations.metadata import target_metadata
from openbureau.runtime import Runtime
from openbureau.sim import generate
from openbureau.sim.replay import IssuedMember, register_members, replay

PERSONS, MONTHS, SEED, END = 2_000, 5, 11, "2026-06"


@dataclass(frozen=True, slots=True)
class ReplayedMarket:
    """A bureau holding a replayed simulated market, and where the market's truth lies."""

    runtime: Runtime
    market: Path
    keys: dict[str, str]


@pytest.fixture(scope="session")
def sim_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated market's files (generated once per test run)."""
    out = tmp_path_factory.mktemp("quality-market")
    generate(persons=PERSONS, months=MONTHS, seed=SEED, out=out, end_period=END)
    return out


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def replayed(request: pytest.FixtureRequest, sim_market: Path, sqlite_template: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayedMarket]:
    """The market replayed into a fresh bureau on each engine (once for the package: replay is the slow part)."""
    data_dir = tmp_path_factory.mktemp(f"quality-{request.param}")
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, data_dir / "bureau.db")
        url = f"sqlite:///{data_dir / 'bureau.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        names = ", ".join(f'"{t.name}"' for t in target_metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
    keys = {name: base64.b64encode(os.urandom(32)).decode() for name in ("pii_key", "index_key")}
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, **keys)
    engine = make_engine(url)
    runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    issued: list[IssuedMember] = register_members(engine)
    replay(engine, settings=settings, vault=runtime.vault, market=sim_market)
    yield ReplayedMarket(runtime=runtime, market=sim_market, keys={m.code: m.api_key for m in issued})
    engine.dispose()
