"""The additive engine: an explainable boosting machine (EBM) exported as points tables.

Training (``fit_additive_segment``) fits interpret's ``ExplainableBoostingClassifier`` on the same features as
the scorecard. An EBM is additive: its log-odds of bad are an intercept plus one shape function per feature
and a few pairwise interaction terms, each a lookup table over bins. Every table is scaled to points exactly
as the scorecard's weights of evidence are (``points = -factor × log-odds``, base points ``offset - factor ×
intercept``), so the score, its bands and its probability of bad mean the same under both engines.

Monotone constraints (``MONOTONE``): features whose risk credit logic fixes (more days past due, more debt
past due, more hard inquiries never lower the risk) are boosted under interpret's ``monotone_constraints``,
which also keeps them out of every interaction term, so the whole score, not only the shape, is monotone in
them. A shape that still came out non-monotone is made so by isotonic regression (``ebm.monotonize``) and
the segment says which (``monotonized``).

Scoring (``AdditiveModel.score``) reads only the JSON artefact: a bisection per numeric feature, a lookup per
category, a 2-D lookup per interaction, a sum; the scoring loop calls neither interpret (imported only to
train) nor NumPy.

Reasons: each term's points below its best cell, a main term's charged to its feature, an interaction's
split half and half between its two features; the same reason codes and advice as the scorecard.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from openbureau.scoring.scorecard import Scale, Scored, artefact_header, recalibrated, recalibration_fields

FORMAT = "openbureau-additive"
FORMAT_VERSION = 2  # 2: may hold a ``recalibration`` (written only then)
ENGINE = "additive"
MAX_INTERACTIONS = 10  # the complexity limit: at most this many pairwise terms per segment
MAX_BINS = 64  # bins per feature in a main term
MAX_INTERACTION_BINS = 16  # bins per feature in an interaction term
OUTER_BAGS = 8

# +1: the risk of bad never falls as the value rises; -1: it never rises. Credit logic, not the data, decides.
MONOTONE: dict[str, int] = {
    "worst_status_6m": 1, "worst_status_24m": 1, "late_30_24m": 1, "late_60_24m": 1, "late_90_24m": 1,
    "past_due_amount": 1, "derogatory_accounts": 1, "revolving_utilisation": 1, "hard_inquiries_6m": 1,
    "hard_inquiries_12m": 1, "noncredit_late_24m": 1, "months_since_delinquency": -1,
}


@dataclass(slots=True)
class Term:
    """One additive term: a feature's shape (``points`` by bin) or a pair's (``points`` by bin × bin).

    Bin 0 holds missing values, bins 1..n the values (a numeric feature's value ``v`` falls in bin
    ``bisect_right(cuts, v) + 1``), the last bin categories never seen in training.
    """

    features: list[str]
    kinds: list[str]  # numeric | categorical, per feature
    cuts: list[list[float]]  # per numeric feature
    categories: list[dict[str, int]]  # per categorical feature: value -> bin
    points: list[Any]  # list[float] for one feature, list[list[float]] for a pair
    monotone: int = 0
    _best: float | None = field(default=None, repr=False)
    _least: float | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return " & ".join(self.features)

    def bin_of(self, position: int, value: Any) -> int:
        """The bin of ``value`` for the term's feature at ``position``."""
        if value is None or (isinstance(value, float) and value != value):  # missing, or NaN
            return 0
        if self.kinds[position] == "numeric":
            return bisect_right(self.cuts[position], value) + 1
        unseen = len(self.points) - 1 if position == 0 else len(self.points[0]) - 1
        return self.categories[position].get(str(value), unseen)

    def points_of(self, values: dict[str, Any]) -> float:
        """The points the term earns for a row of feature values."""
        first = self.bin_of(0, values.get(self.features[0]))
        if len(self.features) == 1:
            return self.points[first]
        return self.points[first][self.bin_of(1, values.get(self.features[1]))]

    def _cells(self) -> list[float]:
        return list(self.points) if len(self.features) == 1 else [p for row in self.points for p in row]

    @property
    def best_points(self) -> float:
        if self._best is None:
            self._best = max(self._cells())
        return self._best

    @property
    def least_points(self) -> float:
        if self._least is None:
            self._least = min(self._cells())
        return self._least


@dataclass(slots=True)
class AdditiveSegment:
    """An additive model for one part of the population (all files, or thin files)."""

    name: str
    intercept: float  # log-odds of bad
    base_points: float
    terms: list[Term]
    dropped: list[str] = field(default_factory=list)  # features left out (a single value: no evidence)
    monotonized: list[str] = field(default_factory=list)  # shapes made monotone after boosting
    _plan: tuple | None = field(default=None, repr=False, compare=False)  # (terms, their lookups): ``plan``

    def plan(self) -> list[tuple]:
        """Each term's lookups as plain values, for the scoring loop: (feature, numeric?, cuts or categories,
        unseen bin) for its first feature and for its second (None for a main term), its points, its best and
        its least points. Made once per list of terms."""
        if self._plan is None or self._plan[0] is not self.terms:
            rows = []
            for term in self.terms:
                lookups = []
                for position in range(2):
                    if position >= len(term.features):
                        lookups += [None, False, None, 0]
                        continue
                    numeric = term.kinds[position] == "numeric"
                    unseen = len(term.points) - 1 if position == 0 else len(term.points[0]) - 1
                    lookups += [term.features[position], numeric,
                                term.cuts[position] if numeric else term.categories[position], unseen]
                rows.append((*lookups, term.points, term.best_points, term.least_points))
            self._plan = (self.terms, rows)
        return self._plan[1]


@dataclass(slots=True)
class AdditiveModel:
    """A versioned additive model: segments of points tables on one scale (the scorecard's interface)."""

    model_version: str
    kind: str  # bureau | table
    scale: Scale
    segments: dict[str, AdditiveSegment]
    feature_schema: list[dict[str, str]] = field(default_factory=list)
    target: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    engine: str = ENGINE
    recalibration: dict[str, Any] | None = None  # scoring.calibration: the probability's mapping, per segment
    _platt: tuple | None = field(default=None, repr=False)

    def score(self, values: dict[str, Any], *, segment: str = "main") -> Scored:
        """Score one row of feature values with the named segment (falls back to ``main``)."""
        seg = self.segments.get(segment) or self.segments["main"]
        risk = self.scale.risk
        raw = seg.base_points
        points: dict[str, float] = {}
        lost: dict[str, float] = {}
        get = values.get
        # Term.points_of and Term.bin_of, unrolled over the segment's plan (the inquiry's hot loop).
        for first, numeric, table, unseen, second, numeric2, table2, unseen2, cells, best, least in seg.plan():
            v = get(first)
            b = (0 if v is None or (isinstance(v, float) and v != v)
                 else bisect_right(table, v) + 1 if numeric else table.get(str(v), unseen))
            if second is None:
                p = cells[b]
                raw += p
                points[first] = points.get(first, 0.0) + p
                lost[first] = lost.get(first, 0.0) + ((p - least) if risk else (best - p))
                continue
            w = get(second)
            c = (0 if w is None or (isinstance(w, float) and w != w)
                 else bisect_right(table2, w) + 1 if numeric2 else table2.get(str(w), unseen2))
            p = cells[b][c]
            raw += p
            half, gap = p / 2, ((p - least) if risk else (best - p)) / 2
            for name in (first, second):
                points[name] = points.get(name, 0.0) + half
                lost[name] = lost.get(name, 0.0) + gap
        score = int(round(min(self.scale.maximum, max(self.scale.minimum, raw))))
        logit_bad = (self.scale.offset - raw) / self.scale.factor
        if self.recalibration is not None:  # the score as shown, mapped again (scoring.calibration)
            logit_bad = recalibrated(self, seg.name, (self.scale.offset - score) / self.scale.factor)
        return Scored(score, raw, 1.0 / (1.0 + math.exp(-logit_bad)), seg.name, points, lost)

    def to_json(self) -> dict[str, Any]:
        """The model as a JSON-ready dict (``FORMAT`` version ``FORMAT_VERSION``)."""
        segments = {name: {"intercept": s.intercept, "base_points": s.base_points, "dropped": s.dropped,
                           "monotonized": s.monotonized,
                           "terms": [{k: v for k, v in asdict(t).items() if not k.startswith("_")} for t in s.terms]}
                    for name, s in self.segments.items()}
        return {"format": FORMAT, "format_version": 1, "engine": ENGINE,
                "model_version": self.model_version, "kind": self.kind, "created_at": self.created_at,
                "target": self.target, "scale": asdict(self.scale), "feature_schema": self.feature_schema,
                "segments": segments, "training": self.training, "validation": self.validation,
                **recalibration_fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AdditiveModel:
        """A model from ``to_json``'s output; refuses another format or a newer version."""
        header = artefact_header(data, fmt=FORMAT, version=FORMAT_VERSION, what="additive model")
        segments = {name: AdditiveSegment(name=name, intercept=s["intercept"], base_points=s["base_points"],
                                          dropped=list(s.get("dropped", [])),
                                          monotonized=list(s.get("monotonized", [])),
                                          terms=[Term(**t) for t in s["terms"]])
                    for name, s in data["segments"].items()}
        return cls(segments=segments, **header)


def ebm_frame(frame, categorical: list[str]):
    """``frame`` as the EBM is fitted and asked: categories as text (missing as None), numbers as floats."""
    frame = frame.copy()
    for c in frame.columns:
        if c in categorical:
            frame[c] = frame[c].astype("string").astype(object).where(frame[c].notna(), None)
        else:
            frame[c] = frame[c].astype(float)
    return frame


def fit_ebm(frame, bad: np.ndarray, *, categorical: list[str], monotone: dict[str, int] | None = None,
            interactions: int = MAX_INTERACTIONS, seed: int = 42, n_jobs: int = 1):
    """interpret's EBM fitted on ``frame``, under ``monotone``'s constraints; and the features whose shape
    isotonic regression had to make monotone afterwards."""
    from interpret.glassbox import ExplainableBoostingClassifier

    monotone = {c: d for c, d in (monotone or {}).items() if c in frame.columns and c not in categorical}
    columns = list(frame.columns)
    ebm = ExplainableBoostingClassifier(
        feature_names=columns, feature_types=["nominal" if c in categorical else "continuous" for c in columns],
        interactions=interactions, max_bins=MAX_BINS, max_interaction_bins=MAX_INTERACTION_BINS,
        outer_bags=OUTER_BAGS, random_state=seed, n_jobs=n_jobs,
        monotone_constraints=[monotone.get(c, 0) for c in columns] if monotone else None)
    with warnings.catch_warnings():  # interpret's notice that its charts omit missing values: the tables keep them
        warnings.filterwarnings("ignore", message="Missing values detected")
        ebm.fit(ebm_frame(frame, categorical), np.asarray(bad, dtype=int))
    monotonized = []
    for index, features in enumerate(ebm.term_features_):
        name = columns[features[0]]
        if len(features) == 1 and name in monotone and not _monotone(ebm.term_scores_[index][1:-1], monotone[name]):
            ebm.monotonize(index, increasing=monotone[name] > 0)
            monotonized.append(name)
    return ebm, monotonized


def _monotone(shape, direction: int) -> bool:
    steps = np.diff(np.asarray(shape, dtype=float))
    return bool(np.all(steps >= -1e-12) if direction > 0 else np.all(steps <= 1e-12))


def export_segment(ebm, *, scale: Scale, name: str = "main", monotone: dict[str, int] | None = None,
                   dropped: list[str] | None = None) -> AdditiveSegment:
    """The fitted EBM as points tables on ``scale``."""
    factor = scale.factor
    columns = list(ebm.feature_names_in_)
    terms = []
    for features, scores in zip(ebm.term_features_, ebm.term_scores_, strict=True):
        kinds, cuts, categories = [], [], []
        for f in features:
            levels = ebm.bins_[f]
            level = levels[min(len(levels), len(features)) - 1]
            if isinstance(level, dict):
                kinds.append("categorical")
                cuts.append([])
                categories.append({str(k): int(v) for k, v in level.items()})
            else:
                kinds.append("numeric")
                cuts.append([float(c) for c in level])
                categories.append({})
        points = (-factor * np.asarray(scores, dtype=float)).tolist()
        names = [columns[f] for f in features]
        terms.append(Term(features=names, kinds=kinds, cuts=cuts, categories=categories, points=points,
                          monotone=(monotone or {}).get(names[0], 0) if len(names) == 1 else 0))
    intercept = float(np.ravel(ebm.intercept_)[0])
    return AdditiveSegment(name=name, intercept=intercept, base_points=scale.offset - factor * intercept,
                           terms=terms, dropped=list(dropped or []))


def fit_additive_segment(frame, bad: np.ndarray, *, categorical: list[str], scale: Scale, name: str = "main",
                         monotone: dict[str, int] | None = None, interactions: int = MAX_INTERACTIONS,
                         seed: int = 42) -> AdditiveSegment:
    """Fit one additive segment on ``frame`` and ``bad`` (1 = bad) and export it as points tables.

    A column with a single value carries no evidence and is left out (``dropped``)."""
    keep = [c for c in frame.columns if frame[c].nunique(dropna=False) > 1]
    ebm, monotonized = fit_ebm(frame[keep], bad, categorical=[c for c in categorical if c in keep],
                               monotone=monotone, interactions=interactions, seed=seed)
    segment = export_segment(ebm, scale=scale, name=name, monotone=monotone,
                             dropped=[c for c in frame.columns if c not in keep])
    segment.monotonized = monotonized
    return segment
