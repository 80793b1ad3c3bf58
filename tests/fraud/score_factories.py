"""The simulated market the fraud-risk score is trained on in the tests, and the moment it is observed at."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from openbureau.audit.service import terminal_operator
from openbureau.fraud.tasks import build_rings
from openbureau.fraud.training import FraudTrainingSet, read_labels
from openbureau.reports.fraud_training import fraud_training_set
from openbureau.sim import generate
from openbureau.sim.config import DEFAULT_CONFIG
from tests.sim.replayed import ReplayedMarket, replayed_bureau

OBSERVED = datetime(2025, 7, 5, tzinfo=UTC)  # after the market's last file (2025-06)
CONFIG = dataclasses.replace(DEFAULT_CONFIG, population=dataclasses.replace(DEFAULT_CONFIG.population,
                                                                            fraud_share=0.03))


def fraud_market_of(request, sqlite_template, tmp_path_factory):
    """Generate 1,500 persons x 4 months (3% synthetic identities), replay them and build the rings."""
    market = tmp_path_factory.mktemp("fraud-score-sim") / "market"
    generate(persons=1_500, months=4, seed=12, out=market, end_period="2025-06", config=CONFIG)
    for replayed in replayed_bureau(request, market, sqlite_template, tmp_path_factory, "fraud-score"):
        runtime = replayed.runtime
        build_rings(runtime.engine, vault=runtime.vault, settings=runtime.policy.signals,
                    principal=terminal_operator(), now=OBSERVED)
        yield replayed


def truth_labels(market: ReplayedMarket) -> list[tuple[str, str, bool]]:
    """The truth's synthetic identities as labels."""
    return read_labels(market.market / "truth" / "persons.parquet", id_column="id_number", target="synthetic")


def training_data(market: ReplayedMarket) -> FraudTrainingSet:
    """Every labelled person's fraud features at ``OBSERVED``."""
    runtime = market.runtime
    return fraud_training_set(runtime.engine, vault=runtime.vault, policy=runtime.policy,
                              labels=truth_labels(market), now=OBSERVED)
