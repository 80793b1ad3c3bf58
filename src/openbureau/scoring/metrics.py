"""Validation metrics of a score: AUC, Gini, KS, calibration by band, score distribution, PSI.

All take ``bad`` (1 = bad) and a score where higher means better (fewer bads), or a probability of bad
where said.

Example:
    >>> auc(bad=np.array([1, 0, 0]), score=np.array([500, 700, 650]))
    1.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def auc(*, bad: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` separating goods (high) from bads (low); ties count half."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(1 - np.asarray(bad), np.asarray(score, dtype=float)))


def ks(*, bad: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov statistic: the widest gap between the cumulative score distributions of bads and goods."""
    bad, score = np.asarray(bad), np.asarray(score, dtype=float)
    order = np.argsort(score, kind="stable")
    b = np.cumsum(bad[order]) / max(bad.sum(), 1)
    g = np.cumsum(1 - bad[order]) / max((1 - bad).sum(), 1)
    # Only where the score changes: within a run of equal scores no threshold separates the rows.
    last = np.r_[np.diff(score[order]) != 0, True]
    return float(np.max(np.abs(b - g)[last]))


def roc_points(*, bad: np.ndarray, score: np.ndarray, points: int = 50) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) pairs of the ROC curve, rejecting low scores as bad."""
    bad, score = np.asarray(bad), np.asarray(score, dtype=float)
    out = [(0.0, 0.0)]
    for threshold in np.quantile(score, np.linspace(0, 1, points)):
        rejected = score <= threshold
        out.append((float(rejected[bad == 0].mean()) if (bad == 0).any() else 0.0,
                    float(rejected[bad == 1].mean()) if (bad == 1).any() else 0.0))
    return sorted(set(out))


def calibration(*, bad: np.ndarray, score: np.ndarray, probability: np.ndarray, edges: list[float],
                names: list[str] | None = None) -> list[dict]:
    """Per score band ``[edges[i], edges[i+1])``: rows, bads, observed bad rate with its Wilson interval
    (``interval``, simultaneous 95% over the bands: ``calibration.band_z``), mean predicted probability of bad,
    and whether the prediction lies ``within`` the interval."""
    from openbureau.scoring.calibration import band_z, wilson

    bad, score, probability = np.asarray(bad), np.asarray(score, dtype=float), np.asarray(probability)
    used = sum(1 for low, high in zip(edges[:-1], edges[1:], strict=True) if ((score >= low) & (score < high)).any())
    z = band_z(used)
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (score >= low) & (score < high)
        n = int(inside.sum())
        bads = int(bad[inside].sum())
        predicted = float(probability[inside].mean()) if n else None
        interval = wilson(bads, n, z) if n else None
        label = f"{low:g}-{high:g}" if names is None else f"{names[len(rows)]} {low:g}-{high:g}"
        rows.append({"band": label, "rows": n, "bads": bads,
                     "observed_bad_rate": bads / n if n else None, "predicted_bad_rate": predicted,
                     "interval": list(interval) if interval else None,
                     "within": None if not n else bool(interval[0] <= predicted <= interval[1])})
    return rows


def distribution(score: np.ndarray, edges: list[float]) -> list[float]:
    """Share of scores in each band ``[edges[i], edges[i+1])``."""
    score = np.asarray(score, dtype=float)
    counts, _ = np.histogram(np.clip(score, edges[0], edges[-1] - 1e-9), bins=edges)
    return [float(c) / max(len(score), 1) for c in counts]


def psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index between two distributions over the same bands (empty bands floored at
    0.0001). Under 0.1: stable; 0.1-0.25: some shift; over 0.25: a shift worth acting on."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, 1e-4), max(a, 1e-4)
        total += (a - e) * math.log(a / e)
    return float(total)


def summary(*, bad: np.ndarray, score: np.ndarray, probability: np.ndarray, edges: list[float],
            reference: list[float] | None = None, named: tuple[list[float], list[str]] | None = None) -> dict[str, Any]:
    """Every validation figure of a scored sample, as the model artefact and the report keep them; with
    ``named`` (the scale's bands: edges and names), calibration by those bands too, which the check is on."""

    a = auc(bad=bad, score=score)
    share = distribution(score, edges)
    bands = calibration(bad=bad, score=score, probability=probability, edges=edges)
    return {"rows": int(len(bad)), "bad_rate": float(np.mean(bad)), "auc": a, "gini": 2 * a - 1,
            "ks": ks(bad=bad, score=score), "edges": edges, "distribution": share,
            "psi": None if reference is None else psi(reference, share),
            "calibration": bands, **named_calibration(bad=bad, score=score, probability=probability, named=named,
                                                      fallback=bands),
            "roc": roc_points(bad=bad, score=score)}


def named_calibration(*, bad: np.ndarray, score: np.ndarray, probability: np.ndarray,
                      named: tuple[list[float], list[str]] | None, fallback: list[dict],
                      prefix: str = "calibration") -> dict[str, Any]:
    """``{prefix}_by_band`` (calibration by the scale's named bands) and ``{prefix}_check`` on it (on
    ``fallback``, the 50-point rows, without named bands)."""
    from openbureau.scoring.calibration import check

    if named is None:
        return {f"{prefix}_check": check(fallback)}
    by_band = calibration(bad=bad, score=score, probability=probability, edges=named[0], names=named[1])
    return {f"{prefix}_by_band": by_band, f"{prefix}_check": check(by_band)}
