"""Calibration by score band, checked against confidence intervals, and recalibrated on a held-out period.

**Checked.** Each band's observed bad rate gets a Wilson score interval (``wilson``), simultaneous 95% over
the bands that hold rows (Bonferroni: ``band_z``; 2.8 standard errors for ten bands), because the question
asked is whether the model agrees in *every* band at once; a band whose mean predicted probability of bad
lies outside its interval is flagged (``within`` false). Wilson rather than the
normal approximation because the bands at the top of the scale hold a handful of bads or none, where the
normal interval collapses to a point (or goes below zero) and Wilson stays honest.

**Recalibrated** by Platt scaling, per segment: on a held-out observation period, a logistic regression of
the outcome on the log-odds of bad the score as shown stands for (``(offset - score) / factor``, the score
rounded and held to the scale's range), ``logit' = intercept + slope × logit``. The score as shown and not
the raw sum of points: beyond the top of the scale the points extrapolate the log-odds far below anything
observed (a raw 950 would state 0.01%), which is how the top band came to under-predict; mapped from the
score, every file with the same score gets the same probability. Platt and not
isotonic regression because a bureau's bad rate is low (2-3% on the simulated market): a period of a few
thousand files holds a few dozen bads, on which an isotonic step function has a few steps, flat (often at
zero) over the whole top of the scale, exactly where the model under-predicts. Two parameters fitted on every
bad keep the mapping smooth and monotone, correct the too-extreme tails (a slope below 1) and the level
(the intercept), and never reorder files: AUC, scores, bands and reasons are unchanged; only the stated
probability of bad moves.

The recalibration is part of the model's JSON artefact (``recalibration``: method, per-segment slope and
intercept, the period it was fitted on, and the bands before and after) and is applied by ``model.score``
itself, so a batch evaluation and an inquiry give the same probability: one multiply-add, no library.

Example:
    >>> wilson(4, 1_000)
    (0.0015..., 0.0102...)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np

Z95 = 1.959963984540054  # the two-sided 95% normal quantile
METHOD = "platt"
METHODS = ("platt", "isotonic")  # in the order ``auto`` tries them
ISOTONIC_FLOOR = 1e-4  # an isotonic mapping never states a probability of bad under 0.01% (nor over 99.99%)
MIN_SEGMENT_BADS = 10  # fewer bads in a segment's held-out rows: the segment keeps its mapping


def band_z(bands: int, confidence: float = 0.95) -> float:
    """The normal quantile of a Wilson interval per band such that all ``bands`` intervals hold together with
    ``confidence`` (Bonferroni): with ten bands each at 95%, a perfectly calibrated model would still see a
    band outside in two samples of five."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / (2 * max(bands, 1)))


def wilson(bads: int, rows: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a bad rate of ``bads`` in ``rows`` (0-1; (0, 1) for no rows)."""
    if rows <= 0:
        return 0.0, 1.0
    p = bads / rows
    centre = (p + z * z / (2 * rows)) / (1 + z * z / rows)
    half = z * math.sqrt(p * (1 - p) / rows + z * z / (4 * rows * rows)) / (1 + z * z / rows)
    return (0.0 if bads == 0 else max(0.0, centre - half)), (1.0 if bads == rows else min(1.0, centre + half))


def check(bands: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary of calibration rows (``metrics.calibration``): the bands with rows, those whose predicted rate
    lies outside the observed rate's interval."""
    used = [b for b in bands if b["rows"]]
    outside = [b["band"] for b in used if not b["within"]]
    return {"bands": len(used), "outside": outside, "agrees": not outside,
            "interval": "Wilson, simultaneous 95%"}


def logit(probability: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def fit_platt(bad: np.ndarray, probability: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the logistic regression of ``bad`` on the log-odds of ``probability``
    (unpenalised, by Newton's method; a handful of iterations)."""
    x = logit(probability)
    y = np.asarray(bad, dtype=float)
    design = np.column_stack([x, np.ones_like(x)])
    beta = np.array([1.0, 0.0])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (y - p)
        hessian = (design * (p * (1 - p))[:, None]).T @ design + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def fit_isotonic(bad: np.ndarray, probability: np.ndarray) -> tuple[list[float], list[float]]:
    """The isotonic regression of ``bad`` on the log-odds of ``probability`` as breakpoints (log-odds,
    probability), linearly interpolated between them and flat beyond them (scikit-learn's, at training only)."""
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=ISOTONIC_FLOOR,
                                y_max=1 - ISOTONIC_FLOOR).fit(logit(probability), np.asarray(bad, dtype=float))
    return [float(x) for x in fitted.X_thresholds_], [float(y) for y in fitted.y_thresholds_]


def _platt(slope: float, intercept: float) -> Callable[[float], float]:
    return lambda x: intercept + slope * x


def _isotonic(xs: list[float], ys: list[float]) -> Callable[[float], float]:
    def mapped(x: float) -> float:
        if x <= xs[0]:
            p = ys[0]
        elif x >= xs[-1]:
            p = ys[-1]
        else:
            i = bisect_right(xs, x)
            x0, x1 = xs[i - 1], xs[i]
            p = ys[i] if x1 <= x0 else ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0)
        return math.log(p / (1 - p))
    return mapped


def mapping(recalibration: dict[str, Any] | None) -> dict[str, Callable[[float], float]]:
    """Per segment, the function ``model.score`` passes its log-odds of bad through (empty: none)."""
    if not recalibration:
        return {}
    method = recalibration.get("method")
    if method == "platt":
        return {name: _platt(float(s["slope"]), float(s["intercept"]))
                for name, s in recalibration["segments"].items()}
    if method == "isotonic":
        return {name: _isotonic([float(x) for x in s["logit"]], [float(y) for y in s["probability"]])
                for name, s in recalibration["segments"].items()}
    raise ValueError(f"unknown recalibration method {method!r}")


def recalibration_of(*, bad: np.ndarray, probability: np.ndarray, segments: list[str], period: str | None,
                     before: list[dict], rows: int, method: str = METHOD) -> dict[str, Any]:
    """The ``recalibration`` record of a model: a mapping of ``method`` per segment with at least
    ``MIN_SEGMENT_BADS`` bads among ``segments`` (the segment each row was scored by)."""
    if method not in METHODS:  # "auto" is training.recalibrate's: it calls this once per method
        raise ValueError(f"unknown recalibration method {method!r}; choose {', '.join(METHODS)}")
    fitted: dict[str, Any] = {}
    kept: dict[str, str] = {}
    labels = np.asarray(segments)
    for name in sorted(set(segments)):
        inside = labels == name
        bads = int(bad[inside].sum())
        if bads < MIN_SEGMENT_BADS or bads == int(inside.sum()):
            kept[name] = f"{bads} bads in {int(inside.sum()):,} rows: too few to fit, mapping unchanged"
            continue
        if method == "platt":
            slope, intercept = fit_platt(bad[inside], probability[inside])
            fitted[name] = {"slope": slope, "intercept": intercept}
        else:
            xs, ys = fit_isotonic(bad[inside], probability[inside])
            fitted[name] = {"logit": xs, "probability": ys}
        fitted[name].update(rows=int(inside.sum()), bads=bads)
    return {"method": method, "segments": fitted, "unchanged": kept, "observation_period": period, "rows": rows,
            "before": before}
