"""Precision and recall of the RING signal against the simulated market's truth rings; the fraud patterns
flagged at their first application; the cost per inquiry of the fraud signals and score.

Generates a small market (or reads one), replays it into a fresh SQLite bureau, builds the rings
(``openbureau fraud rings build``) and compares the persons in rings of ``ring_min_size`` or more with the
synthetic identities of the truth (``truth/persons.parquet``: ``synthetic``, ``ring_id``). A person is
counted by the truth only when the bureau holds a file of them (a ring member whose records were all held for
want of consent is not in the bureau). Then trains the fraud-risk scorecard on the truth's labels and prints
its held-out AUC and KS (``--fraud-share`` raises the share of synthetic identities, so that a small market
holds enough frauds to train on; with ``--release`` it is released, so that the inquiries below pay for it).
Then ``fraud evaluate``'s figures per pattern (``--pattern-share`` sets each pattern's share), and the CPU time
per inquiry (``read_file`` and ``assemble`` as an inquiry runs them) with and without its fraud part (the ring
and fraud-list statement, the four signals, the fraud-risk score), timed in the same loop, median of
``--runs`` with the range. Small runs only: the replay is the cost (docs/fraud.md).

    python bench/fraud.py --persons 3000 --months 12 --fraud-share 0.03 --release
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select

from openbureau.audit.service import terminal_operator
from openbureau.fraud.repository import FraudRepository
from openbureau.fraud.tasks import build_rings
from openbureau.fraud.training import read_labels, train_fraud
from openbureau.identity.models import Person
from openbureau.identity.repository import find_person, find_person_by_id
from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine, session_scope
from openbureau.kit.errors import Unprocessable
from openbureau.kit.settings import Settings
from openbureau.migrations import upgrade
from openbureau.reports.fraud_evaluation import evaluate_fraud
from openbureau.reports.fraud_training import fraud_training_set
from openbureau.runtime import Runtime
from openbureau.scoring import service as scoring
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


def score_validation(runtime: Runtime, market: Path, release: bool = False) -> str:
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
    if release:
        with session_scope(runtime.engine, write=True) as session:
            scoring.register(session, card=card, actor_code="bench")
            scoring.release(session, version=card.model_version, actor_code="bench")
    return (f"fraud-risk score: {len(data.rows):,} persons, {int(data.fraud.sum())} frauds; held out {v['rows']:,} "
            f"({v['frauds']} frauds): AUC {v['auc']:.4f}  KS {v['ks']:.4f}")


def pattern_evaluation(runtime: Runtime, market: Path, honest_sample: int | None = None) -> list[str]:
    """``openbureau fraud evaluate``'s figures, in lines."""
    found = evaluate_fraud(runtime.engine, vault=runtime.vault, policy=runtime.policy, truth=market,
                           honest_sample=honest_sample)
    lines = [f"{p.pattern:<15} {p.persons:>4} persons, {p.flagged:>4} flagged: recall {_f(p.recall)} precision "
             f"{_f(p.precision)}; {p.signal}: recall {_f(p.signal_recall)} precision {_f(p.signal_precision)}; days to first miss {_f(p.median_days_to_first_miss, 0)}, to default "
             f"{_f(p.median_days_to_default, 0)}; {dict(sorted(p.by_reason.items()))}" for p in found.patterns]
    lines.append(f"honest: {found.honest_flagged} of {found.honest} flagged (of {found.honest_population} in the "
                 f"period) {dict(sorted(found.honest_by_reason.items()))}; not in the bureau {found.not_in_bureau}")
    return lines


def inquiry_cost(runtime: Runtime, *, persons: int, runs: int, now) -> tuple[list[float], list[float]]:
    """CPU ms per inquiry of the whole report and of its fraud part, per run (the same persons each run)."""
    from openbureau.fraud.evaluation import FRAUD_SIGNALS
    from openbureau.fraud.score import fraud_features, score_fraud
    from openbureau.fraud.service import facts_of
    from openbureau.reports.assembly import _fraud_signals, _variants, assemble, read_file
    from openbureau.reports.schemas import View
    from openbureau.scoring.service import released_model

    with session_scope(runtime.engine) as session:
        ids = list(session.scalars(select(Person.id).where(Person.merged_into_id.is_(None)).order_by(Person.id)
                                   .limit(persons)))
    totals, fraud_parts = [], []
    policy, vault = runtime.policy, runtime.vault
    for _ in range(runs):
        whole = part = 0.0
        with session_scope(runtime.engine) as session:
            for pid in ids:
                person = find_person_by_id(session, pid)
                t0 = time.process_time()
                file = read_file(session, vault=vault, person=person, now=now, policy=policy)
                report = assemble(file, view=View.SUBSCRIBER, viewer_id=None, vault=vault, now=now, policy=policy,
                                  session=session)
                t1 = time.process_time()
                variants = _variants(file, vault)  # the report's identity section reads them too: not timed
                t2 = time.process_time()
                facts_of(session, person_id=pid, now=now)
                signals = _fraud_signals(file, multi_lending=report.signals[0], variants=variants,
                                         viewer_id=None, consumer=False, as_of_period=report.as_of_period,
                                         policy=policy, now=now)
                card = released_model(session, kind="fraud")
                if card is not None:
                    score_fraud(card, fraud_features([*(s for s in report.signals if s.code not in FRAUD_SIGNALS),
                                                      *signals], now=now))
                t3 = time.process_time()
                whole += t1 - t0
                part += t3 - t2
        totals.append(1000 * whole / len(ids))
        fraud_parts.append(1000 * part / len(ids))
    return totals, fraud_parts


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


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
    parser.add_argument("--pattern-share", type=float, default=None,
                        help="Share of each fraud pattern (bust-out, built identity, takeover) in a generated market.")
    parser.add_argument("--market", type=Path, help="An existing market (instead of generating one).")
    parser.add_argument("--release", action="store_true", help="Release the fraud model trained on the truth.")
    parser.add_argument("--honest-sample", type=int, help="Honest persons read by the pattern evaluation.")
    parser.add_argument("--inquiries", type=int, default=300, help="Persons per run of the cost measurement.")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fraud-bench-"))
    try:
        market = args.market
        if market is None:
            market = work / "market"
            share = args.pattern_share
            patterns = DEFAULT_CONFIG.fraud_patterns if share is None else dataclasses.replace(
                DEFAULT_CONFIG.fraud_patterns, bust_out_share=share, built_share=share, takeover_share=share)
            config = dataclasses.replace(DEFAULT_CONFIG, population=dataclasses.replace(
                DEFAULT_CONFIG.population, fraud_share=args.fraud_share), fraud_patterns=patterns)
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
        print(score_validation(runtime, market, release=args.release))
        for line in pattern_evaluation(runtime, market, honest_sample=args.honest_sample):
            print(line)
        end = max(p.stem for p in (market / "furnishers").rglob("*.*") if p.stem[:4].isdigit())
        whole, fraud = inquiry_cost(runtime, persons=args.inquiries, runs=args.runs, now=_after(end))
        share = [f / w for f, w in zip(fraud, whole, strict=True)]
        print(f"CPU per inquiry ({args.inquiries} persons, {args.runs} runs, median (range)): whole report "
              f"{_spread(whole)} ms, without its fraud part {_spread([w - f for w, f in zip(whole, fraud, strict=True)])}"
              f" ms, fraud part {_spread(fraud)} ms ({_spread(share)} of the whole)")
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
