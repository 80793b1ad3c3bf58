"""A small simulated market, generated once and replayed once per engine for every test of the package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openbureau.sim import generate
from tests.sim.replayed import ReplayedMarket, replayed_bureau

PERSONS, MONTHS, SEED, END = 2_000, 5, 11, "2026-06"


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
    yield from replayed_bureau(request, sim_market, sqlite_template, tmp_path_factory, "quality")
