"""A small simulated market, generated once and replayed once per engine for every test of the package.

The market has no fraud patterns beyond the rings (bust-out, built identities, takeovers: docs/fraud.md):
these tests measure how furnishers' data defects show in their grades, and the patterns' draws would change
which furnisher's file happens to come late in a five-month market."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from openbureau.sim import generate
from openbureau.sim.config import DEFAULT_CONFIG
from tests.sim.replayed import ReplayedMarket, replayed_bureau

PERSONS, MONTHS, SEED, END = 2_000, 5, 11, "2026-06"


@pytest.fixture(scope="session")
def sim_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated market's files (generated once per test run)."""
    out = tmp_path_factory.mktemp("quality-market")
    config = replace(DEFAULT_CONFIG, fraud_patterns=replace(DEFAULT_CONFIG.fraud_patterns, bust_out_share=0.0,
                                                            built_share=0.0, takeover_share=0.0))
    generate(persons=PERSONS, months=MONTHS, seed=SEED, out=out, end_period=END, config=config)
    return out


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def replayed(request: pytest.FixtureRequest, sim_market: Path, sqlite_template: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayedMarket]:
    """The market replayed into a fresh bureau on each engine (once for the package: replay is the slow part)."""
    yield from replayed_bureau(request, sim_market, sqlite_template, tmp_path_factory, "quality")
