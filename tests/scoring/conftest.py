"""A simulated market long enough to train on (a year of outcome after the observation), replayed per engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openbureau.sim import generate
from tests.sim.replayed import ReplayedMarket, replayed_bureau

PERSONS, MONTHS, SEED, END = 3_000, 18, 5, "2026-06"


@pytest.fixture(scope="session")
def scoring_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The market's files (generated once per test run)."""
    out = tmp_path_factory.mktemp("scoring-market")
    generate(persons=PERSONS, months=MONTHS, seed=SEED, out=out, end_period=END)
    return out


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def bureau(request: pytest.FixtureRequest, scoring_market: Path, sqlite_template: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayedMarket]:
    """The market replayed into a fresh bureau on each engine, once for the package."""
    yield from replayed_bureau(request, scoring_market, sqlite_template, tmp_path_factory, "scoring")
