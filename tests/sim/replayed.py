"""A simulated market replayed into a fresh bureau on one engine: shared by test packages that need a
realistic bureau (quality, scoring)."""

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
from openbureau.sim.replay import IssuedMember, ReplayResult, register_members, replay


@dataclass(frozen=True, slots=True)
class ReplayedMarket:
    """A bureau holding a replayed simulated market, and where the market's truth lies."""

    runtime: Runtime
    market: Path
    keys: dict[str, str]
    result: ReplayResult | None = None  # what the replay counted per furnisher


def replayed_bureau(request: pytest.FixtureRequest, market: Path, sqlite_template: Path,
                    tmp_path_factory: pytest.TempPathFactory, name: str, *,
                    events: bool = False) -> Iterator[ReplayedMarket]:
    """Replay ``market`` into a fresh bureau on the engine ``request.param`` names; yields it, then disposes.

    The daily lending-event files are replayed only with ``events`` (a day's file costs a transaction, and the
    packages that share this fixture test what the monthly files build)."""
    data_dir = tmp_path_factory.mktemp(f"{name}-{request.param}")
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
    keys = {k: base64.b64encode(os.urandom(32)).decode() for k in ("pii_key", "index_key")}
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, **keys)
    engine = make_engine(url)
    runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    issued: list[IssuedMember] = register_members(engine)
    result = replay(engine, settings=settings, policy=runtime.policy, vault=runtime.vault, market=market,
                    events=events)
    yield ReplayedMarket(runtime=runtime, market=market, keys={m.code: m.api_key for m in issued}, result=result)
    engine.dispose()
