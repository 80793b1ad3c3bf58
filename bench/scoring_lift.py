"""What the alternative data and the inquiries add on the simulated market (``bench/scoring.py``).

* **Thin-file lift of the alternative data**: on the very folds of the comparison, each engine is fitted again
  without the non-credit features (utility, telecom and rent bills: the feature group ``non_credit``), and the
  thin files of every test fold are scored by both models; the thin-file AUC with and without them is printed,
  pooled over the folds' out-of-fold scores and fold by fold.
* **Inquiry features**: their information value on the whole sample (optbinning's binning, as the scorecard
  bins), the share of files with any hard inquiry, and the points range each gets in a scorecard fitted on
  every row (0 when the feature was dropped: no evidence).
"""

from __future__ import annotations

import numpy as np

from openbureau.scoring.features import FEATURES

ALTERNATIVE = [f.name for f in FEATURES if f.group == "non_credit"]
INQUIRIES = [f.name for f in FEATURES if f.name.startswith("hard_inquiries")]
ENGINES = ("scorecard", "additive")


def market_lift(frame, bad: np.ndarray, thin: np.ndarray, folds, *, scale) -> dict:
    """The thin-file AUC with and without the alternative data, and the inquiry features' weight."""
    from openbureau.scoring import engines
    from openbureau.scoring.additive import MONOTONE
    from openbureau.scoring.metrics import auc
    from openbureau.scoring.training import fit_bureau_segments, score_frame

    without = frame.drop(columns=ALTERNATIVE)
    pooled = {(e, w): ([], []) for e in ENGINES for w in ("with", "without")}
    per_fold = {key: [] for key in pooled}
    for train, test, scored in folds:
        rows = test[thin[test]]
        labels = ["thin"] * len(rows)
        for engine in ENGINES:
            segments, _ = fit_bureau_segments(without.iloc[train], bad[train], thin[train], scale=scale,
                                              fit=engines.fitter(engine, monotone=MONOTONE))
            card = engines.build(engine, model_version="bench", kind="bureau", scale=scale, segments=segments)
            plain = score_frame(card, without.iloc[rows], segments=labels)[0]
            full = scored[engine][0][thin[test]]
            for which, score in (("with", full), ("without", plain)):
                pooled[(engine, which)][0].extend(bad[rows])
                pooled[(engine, which)][1].extend(score)
                if 0 < bad[rows].sum() < len(rows):
                    per_fold[(engine, which)].append(auc(bad=bad[rows], score=score))
    thin_auc = {f"{e} {w}": {"pooled": auc(bad=np.array(b), score=np.array(s)), "folds": per_fold[(e, w)]}
                for (e, w), (b, s) in pooled.items()}
    return {"thin_rows": int(thin.sum()), "thin_bads": int(bad[thin].sum()), "thin_auc": thin_auc,
            "inquiries": inquiry_weight(frame, bad, thin, scale=scale)}


def inquiry_weight(frame, bad: np.ndarray, thin: np.ndarray, *, scale) -> dict:
    """Per inquiry feature: information value, share of files with any inquiry, points range in a scorecard fitted
    on every row."""
    from optbinning import OptimalBinning

    from openbureau.scoring.training import fit_bureau_segments

    segments, _ = fit_bureau_segments(frame, bad, thin, scale=scale)
    out = {}
    for name in INQUIRIES:
        x = frame[name].to_numpy(dtype=float)
        binning = OptimalBinning(name=name, dtype="numerical", monotonic_trend="auto_asc_desc", min_prebin_size=0.01)
        binning.fit(x, bad)
        table = binning.binning_table.build()
        feature = next((f for f in segments["main"].features if f.name == name), None)
        out[name] = {"iv": float(table.loc["Totals", "IV"]), "any": float(np.mean(np.nan_to_num(x) > 0)),
                     "points_range": 0.0 if feature is None else float(max(feature.points) - min(feature.points))}
    return out


def print_lift(lift: dict) -> None:
    print(f"\nAlternative data on the simulated market: thin files {lift['thin_rows']:,} ({lift['thin_bads']:,} bad); "
          f"thin-file AUC pooled over the test folds (fold by fold):")
    for engine in ENGINES:
        w, wo = lift["thin_auc"][f"{engine} with"], lift["thin_auc"][f"{engine} without"]
        print(f"  {engine:<10} with {', '.join(ALTERNATIVE)}: {w['pooled']:.4f} "
              f"({', '.join(f'{a:.3f}' for a in w['folds'])}); without: {wo['pooled']:.4f} "
              f"({', '.join(f'{a:.3f}' for a in wo['folds'])}); lift {w['pooled'] - wo['pooled']:+.4f}")
    print("Inquiry features (whole sample): information value, files with any inquiry, points range in the scorecard")
    for name, f in lift["inquiries"].items():
        print(f"  {name:<20} IV {f['iv']:.4f}  any {f['any']:.1%}  points range {f['points_range']:.1f}")
