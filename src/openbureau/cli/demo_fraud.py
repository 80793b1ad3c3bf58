"""The demo's fraud-risk model: trained on the simulated market's fraud truth and released, so that the demo's
inquiries carry a fraud-risk score beside the credit score (docs/fraud.md, The fraud-risk score).

A real bureau would take its labels from lenders' confirmed cases; the demo has none yet, so it labels every
person of the market: a fraudster of the truth (`truth/fraud.parquet`: rings, bust-out, built identities,
takeovers) or not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from openbureau.audit import service as audit
from openbureau.kit.errors import BureauError
from openbureau.reports.fraud_training import train_fraud_on_bureau
from openbureau.runtime import Runtime


def fraud_labels(market: Path) -> list[tuple[str, str, bool]]:
    """(id_type, id_number, fraud) of every person of the market's truth."""
    truth = market / "truth"
    persons = pl.read_parquet(truth / "persons.parquet", columns=["person_key", "id_number"])
    fraud = pl.read_parquet(truth / "fraud.parquet", columns=["person_key"])["person_key"].implode()
    rows = persons.select("id_number", pl.col("person_key").is_in(fraud).alias("fraud"))
    return [("CN_RESIDENT_ID", n, bool(f)) for n, f in rows.iter_rows()]


def train_and_release(runtime: Runtime, market: Path, *, now: datetime | None = None) -> str:
    """Train the fraud-risk scorecard on the truth's labels at ``now`` and release it; what to print."""
    now = now or datetime.now(UTC)
    try:
        card, data = train_fraud_on_bureau(runtime.engine, vault=runtime.vault, policy=runtime.policy,
                                           labels=fraud_labels(market), actor_code=audit.operator_code(), now=now,
                                           version=f"demo-fraud-{now:%Y%m%dT%H%M%S}", release_it=True)
    except BureauError as exc:
        return f"[dim]No fraud-risk model: {exc.message}[/]"
    v, t = card.validation, card.training
    return (f"Fraud-risk scorecard [bold]{card.model_version}[/] trained on {len(data.rows):,} files ({t['frauds']:,} "
            f"frauds of the market's truth) and released: validation AUC {v['auc']:.3f}, KS {v['ks']:.3f}; every "
            "inquiry now carries a fraud-risk score (0-999, higher = more risk)")
