"""The RING signal against the simulated market's truth rings (a small market: one ring of six)."""

from __future__ import annotations

import pytest
from bench.fraud import measure

from openbureau.sim import generate
from tests.sim.replayed import replayed_bureau


@pytest.fixture(scope="module", params=["sqlite"])
def ring_market(request, sqlite_template, tmp_path_factory):
    market = tmp_path_factory.mktemp("fraud-sim") / "market"
    generate(persons=1_500, months=4, seed=12, out=market, end_period="2025-06")
    yield from replayed_bureau(request, market, sqlite_template, tmp_path_factory, "fraud")


def test_rings_found_match_the_truth_rings(ring_market) -> None:
    m = measure(ring_market.runtime, ring_market.market)
    assert m.synthetic_in_bureau >= 3 and m.truth_rings >= 1
    assert m.precision >= 0.95 and m.recall >= 0.9, m
