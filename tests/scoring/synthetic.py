"""Synthetic bureau features with a known truth: risk rises with delinquency, utilisation and inquiries."""

from __future__ import annotations

import numpy as np

from openbureau.scoring.features import FEATURE_NAMES
from openbureau.scoring.training_set import TrainingSet


def training_set(n: int = 3_000, seed: int = 7, shift: float = 0.0) -> TrainingSet:
    """``n`` scorable files at one observation period (none thin), their outcome drawn from a logistic truth
    (``shift`` added to its log-odds: a riskier period)."""
    rng = np.random.default_rng(seed)
    late = rng.poisson(0.4, n)
    worst = np.minimum(9, np.where(late > 0, 3 + rng.integers(0, 4, n), rng.integers(0, 2, n)))
    utilisation = rng.beta(2, 3, n)
    inquiries = rng.poisson(1.0, n)
    oldest = rng.integers(6, 240, n)
    logit = shift - 3.2 + 0.7 * late + 0.25 * worst + 2.2 * utilisation + 0.35 * inquiries - 0.004 * oldest
    bad = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    rows = []
    for i in range(n):
        row: dict[str, float | None] = {name: float(rng.integers(0, 4)) for name in FEATURE_NAMES}
        row.update(late_30_24m=float(late[i]), late_60_24m=float(late[i] // 2), late_90_24m=0.0,
                   worst_status_6m=float(min(worst[i], 3)), worst_status_24m=float(worst[i]),
                   revolving_utilisation=None if i % 17 == 0 else float(utilisation[i]),
                   hard_inquiries_6m=float(inquiries[i]), hard_inquiries_12m=float(inquiries[i] + rng.integers(0, 2)),
                   oldest_account_months=float(oldest[i]), average_account_months=float(oldest[i] / 2),
                   months_since_delinquency=None if late[i] == 0 else float(rng.integers(1, 24)))
        rows.append(row)
    return TrainingSet("2025-06", 12, list(range(1, n + 1)), rows, bad, np.zeros(n, dtype=bool),
                       {"no_file_at_observation": 0, "unscorable": 0, "already_bad": 0})
