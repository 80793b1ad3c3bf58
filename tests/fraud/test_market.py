"""The RING signal against the simulated market's truth rings (a small market: one ring of six, without the
other fraud patterns: a built identity gives an honest person's address, and with a third file at that address
that the bureau holds apart (a person known there by another document) they make a group of three that is no
ring of the truth; tests/fraud/test_patterns_market.py measures the patterns)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from bench.fraud import measure

from openbureau.sim import generate
from openbureau.sim.config import DEFAULT_CONFIG
from tests.sim.replayed import replayed_bureau


@pytest.fixture(scope="module", params=["sqlite"])
def ring_market(request, sqlite_template, tmp_path_factory):
    market = tmp_path_factory.mktemp("fraud-sim") / "market"
    rings_only = replace(DEFAULT_CONFIG, fraud_patterns=replace(
        DEFAULT_CONFIG.fraud_patterns, bust_out_share=0.0, built_share=0.0, takeover_share=0.0))
    generate(persons=1_500, months=4, seed=12, out=market, end_period="2025-06", config=rings_only)
    yield from replayed_bureau(request, market, sqlite_template, tmp_path_factory, "fraud")


def test_rings_found_match_the_truth_rings(ring_market) -> None:
    m = measure(ring_market.runtime, ring_market.market)
    assert m.synthetic_in_bureau >= 3 and m.truth_rings >= 1
    assert m.precision >= 0.95 and m.recall >= 0.9, m
