"""Precision and recall of the RING signal against the simulated market's truth rings.

Generates a small market (or reads one), replays it into a fresh SQLite bureau, builds the rings
(``openbureau fraud rings build``) and compares the persons in rings of ``ring_min_size`` or more with the
synthetic identities of the truth (``truth/persons.parquet``: ``synthetic``, ``ring_id``). A person is
counted by the truth only when the bureau holds a file of them (a ring member whose records were all held for
want of consent is not in the bureau). Then trains the fraud-risk scorecard on the truth's labels and prints
its held-out AUC and KS (``--fraud-share`` raises the share of synthetic identities, so that a small market
holds enough frauds to train on). Small runs only: the replay is the cost (docs/fraud.md).

    python bench/fraud.py --persons 3000 --months 12 --fraud-share 0.03
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from openbureau.audit.service import terminal_operator
from openbureau.fraud.repository import FraudRepository
from openbureau.fraud.tasks import build_rings
from openbureau.fraud.training import read_labels, train_fraud
from openbureau.identity.repository import find_person
from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine, session_scope
from openbureau.kit.errors import Unprocessable
from openbureau.kit.settings import Settings
from openbureau.migrations import upgrade
from openbureau.reports.fraud_training import fraud_training_set
from openbureau.runtime import Runtime
from openbureau.sim import generate
from openbureau.sim.config import DEFAULT_CONFIG
from openbureau.sim.replay import register_members, replay


@dataclass(frozen=True, slots=True)
class RingMeasure:
    """The RING signal against the truth."""

    flagged: int
    true_positives: int
    synthetic_in_bureau: int
    truth_rings: int
    precision: float
    recall: float
    build_seconds: float


def measure(runtime: Runtime, market: Path) -> RingMeasure:
    """Build the rings in ``runtime``'s bureau and compare them with ``market``'s truth."""
    settings = runtime.policy.signals
    persons = pl.read_parquet(market / "truth" / "persons.parquet", columns=["id_number", "synthetic", "ring_id"])
    end = max(p.stem for p in (market / "furnishers").rglob("*.*") if p.stem[:4].isdigit())
    now = _after(end)
    build = build_rings(runtime.engine, vault=runtime.vault, settings=settings, principal=terminal_operator(), now=now)
    with session_scope(runtime.engine) as session:
        ring = {r.person_id: r.ring_size for r in FraudRepository.of(session).ring_members()}
        ids = []
        for id_number, synthetic, ring_id in persons.iter_rows():
            person = find_person(session, id_type="CN_RESIDENT_ID",
                                 id_index=runtime.vault.blind_index(id_number, domain="CN_RESIDENT_ID"))
            if person is not None:
                ids.append((person.id, bool(synthetic), ring_id))
    flagged = {pid for pid, size in ring.items() if size >= settings.ring_min_size}
    synthetic = {pid for pid, s, _ in ids if s}
    hits = len(flagged & synthetic)
    return RingMeasure(flagged=len(flagged), true_positives=hits, synthetic_in_bureau=len(synthetic),
                       truth_rings=len({r for _, s, r in ids if s}),
                       precision=hits / len(flagged) if flagged else 1.0,
                       recall=hits / len(synthetic) if synthetic else 1.0, build_seconds=build.seconds)


def score_validation(runtime: Runtime, market: Path) -> str:
    """Train the fraud-risk scorecard on the truth's synthetic identities; its held-out figures, in words."""
    end = max(p.stem for p in (market / "furnishers").rglob("*.*") if p.stem[:4].isdigit())
    labels = read_labels(market / "truth" / "persons.parquet", id_column="id_number", target="synthetic")
    data = fraud_training_set(runtime.engine, vault=runtime.vault, policy=runtime.policy, labels=labels,
                              now=_after(end))
    try:
        card = train_fraud(data, version="bench")
    except Unprocessable as exc:
        return f"fraud-risk score: not trained ({exc})"
    v = card.validation
    return (f"fraud-risk score: {len(data.rows):,} persons, {int(data.fraud.sum())} frauds; held out {v['rows']:,} "
            f"({v['frauds']} frauds): AUC {v['auc']:.4f}  KS {v['ks']:.4f}")


def _after(period: str):
    """The first moment of the month after ``period`` (its file and events are all in by then)."""
    from datetime import UTC, datetime
    year, month = int(period[:4]), int(period[5:7])
    return datetime(year + month // 12, month % 12 + 1, 5, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fraud-share", type=float, default=DEFAULT_CONFIG.population.fraud_share,
                        help="Share of synthetic identities in a generated market.")
    parser.add_argument("--market", type=Path, help="An existing market (instead of generating one).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fraud-bench-"))
    try:
        market = args.market
        if market is None:
            market = work / "market"
            config = dataclasses.replace(DEFAULT_CONFIG, population=dataclasses.replace(
                DEFAULT_CONFIG.population, fraud_share=args.fraud_share))
            generate(persons=args.persons, months=args.months, seed=args.seed, out=market, end_period="2025-06",
                     config=config)
        keys = {k: base64.b64encode(os.urandom(32)).decode() for k in ("pii_key", "index_key")}
        data_dir = work / "data"
        data_dir.mkdir()
        settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'bureau.db'}", **keys)
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        runtime = Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
        register_members(engine)
        started = time.perf_counter()
        replay(engine, settings=settings, policy=runtime.policy, vault=runtime.vault, market=market, events=True)
        replayed = time.perf_counter() - started
        m = measure(runtime, market)
        print(f"market: {args.persons:,} persons x {args.months} months (seed {args.seed}); replay {replayed:.0f} s")
        print(f"truth: {m.synthetic_in_bureau} synthetic identities in the bureau, {m.truth_rings} rings")
        print(f"RING: {m.flagged} persons flagged, {m.true_positives} of them synthetic")
        print(f"precision {m.precision:.3f}  recall {m.recall:.3f}  (build {m.build_seconds:.2f} s)")
        print(score_validation(runtime, market))
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
