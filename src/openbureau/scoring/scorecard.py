"""The scorecard: monotone optimal binning, logistic regression, points scaled by points-to-double-the-odds.

Training (``fit_segment``): optbinning bins every feature (numeric features with a monotone event rate,
ascending or descending as the data says; categorical ones grouped by event rate), each bin gets its weight
of evidence (WoE = ln(share of goods / share of bads)), and a logistic regression on the WoE values gives a
coefficient per feature. A feature whose coefficient comes out against its own evidence (collinearity) is
dropped and the model refitted, so that every feature's points rise as its bins' bad rate falls: the card
is monotone by construction. optbinning leaves a bin holding one class only (its WoE is infinite) out of
every split; where the data are cut cleanly by such a bin (no fraud outside a ring, say: complete
separation), ``separating_bins`` makes the cut itself with smoothed counts, so the strongest evidence is
weighed rather than dropped. Points are then ``-factor × coefficient × WoE`` per bin, plus base points, with
``factor = pdo / ln 2`` and the offset placing ``base_score`` at ``base_odds`` (good:bad).

Scoring (``Scorecard.score``) needs none of the training libraries: a bisection per numeric feature, a
lookup per categorical one, a sum. A model is saved as versioned JSON (``to_json``/``from_json``), never
pickled.

Example:
    >>> segment = fit_segment(frame, bad, categorical=["purpose"], scale=SCALES["300-850"])
    >>> card = Scorecard(model_version="m1", kind="table", scale=SCALES["300-850"], segments={"main": segment})
    >>> card.score({"duration": 24, "purpose": "car"}).score
    612
"""

from __future__ import annotations

import bisect
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from openbureau.scoring import calibration

FORMAT = "openbureau-scorecard"
FORMAT_VERSION = 2  # 2: may hold a ``recalibration`` (written only then; a model without one is still version 1)


@dataclass(frozen=True, slots=True)
class Scale:
    """How log-odds become a score: ``base_score`` at ``base_odds`` good:bad, ``pdo`` points per doubling."""

    name: str
    minimum: int
    maximum: int
    base_score: float
    base_odds: float
    pdo: float
    bands: tuple[tuple[int, str], ...]  # (lowest score of the band, its name), ascending

    @property
    def factor(self) -> float:
        """Points per unit of log-odds (negative on a risk scale)."""
        return self.pdo / math.log(2)

    @property
    def risk(self) -> bool:
        """Whether a higher score means more risk (a negative ``pdo``: the points double the odds of bad)."""
        return self.pdo < 0

    @property
    def offset(self) -> float:
        """The score at even odds."""
        return self.base_score - self.factor * math.log(self.base_odds)

    def band(self, score: int) -> str:
        """The name of the band ``score`` falls in."""
        name = self.bands[0][1]
        for lowest, label in self.bands:
            if score >= lowest:
                name = label
        return name


SCALES: dict[str, Scale] = {
    # The common US range, with its customary bands.
    "300-850": Scale("300-850", 300, 850, 600.0, 30.0, 40.0,
                     ((300, "poor"), (580, "fair"), (670, "good"), (740, "very good"), (800, "exceptional"))),
    # The range of Chinese platform scores (e.g. Sesame Credit), with their five bands.
    "350-950": Scale("350-950", 350, 950, 650.0, 30.0, 50.0,
                     ((350, "较差 poor"), (550, "中等 fair"), (600, "良好 good"), (650, "优秀 very good"),
                      (700, "极好 excellent"))),
}


@dataclass(slots=True)
class BinnedFeature:
    """One feature of a segment: its bins and the points each bin is worth."""

    name: str
    kind: str  # numeric | categorical
    splits: list[float] = field(default_factory=list)  # numeric: bin i holds [splits[i-1], splits[i])
    categories: list[list[str]] = field(default_factory=list)  # categorical: bin i holds these values
    labels: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    event_rates: list[float] = field(default_factory=list)
    woe: list[float] = field(default_factory=list)
    points: list[float] = field(default_factory=list)
    missing_woe: float = 0.0
    missing_points: float = 0.0
    coefficient: float = 0.0
    _lookup: dict[str, int] | None = field(default=None, repr=False)

    def bin_of(self, value: Any) -> int | None:
        """The bin ``value`` falls in; None when it is missing (or a category never seen in training)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if self.kind == "numeric":
            return bisect.bisect_right(self.splits, float(value))
        if self._lookup is None:
            self._lookup = {c: i for i, group in enumerate(self.categories) for c in group}
        return self._lookup.get(str(value))

    def points_of(self, value: Any) -> float:
        """The points ``value`` earns."""
        index = self.bin_of(value)
        return self.missing_points if index is None else self.points[index]

    @property
    def best_points(self) -> float:
        """The most points this feature can earn."""
        return max([*self.points, self.missing_points]) if self.points else self.missing_points

    @property
    def least_points(self) -> float:
        """The fewest points this feature can earn (the best bin on a risk scale)."""
        return min([*self.points, self.missing_points]) if self.points else self.missing_points

    def best_label(self) -> str:
        """The bin that earns the most points."""
        if not self.points or self.missing_points > max(self.points):
            return "missing"
        return self.labels[int(np.argmax(self.points))]


@dataclass(slots=True)
class Segment:
    """A scorecard for one part of the population (all files, or thin files)."""

    name: str
    intercept: float
    base_points: float
    features: list[BinnedFeature]
    dropped: list[str] = field(default_factory=list)  # features left out (no evidence, or against it)


@dataclass(frozen=True, slots=True)
class Scored:
    """A score and how each feature contributed."""

    score: int
    raw: float
    probability_bad: float
    segment: str
    points: dict[str, float]
    lost: dict[str, float]  # points below each feature's best bin (risk scale: above its least-risk bin)


@dataclass(slots=True)
class Scorecard:
    """A versioned scorecard: one or more segments on one scale, with its schema, training and validation."""

    model_version: str
    kind: str  # bureau | table | fraud
    scale: Scale
    segments: dict[str, Segment]
    feature_schema: list[dict[str, str]] = field(default_factory=list)
    target: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    recalibration: dict[str, Any] | None = None  # scoring.calibration: the probability's mapping, per segment
    _platt: tuple | None = field(default=None, repr=False)

    def score(self, values: dict[str, Any], *, segment: str = "main") -> Scored:
        """Score one row of feature values with the named segment (falls back to ``main``)."""
        seg = self.segments.get(segment) or self.segments["main"]
        points = {f.name: f.points_of(values.get(f.name)) for f in seg.features}
        raw = seg.base_points + sum(points.values())
        score = int(round(min(self.scale.maximum, max(self.scale.minimum, raw))))
        logit_bad = (self.scale.offset - raw) / self.scale.factor
        if self.recalibration is not None:  # the score as shown, mapped again (scoring.calibration)
            logit_bad = recalibrated(self, seg.name, (self.scale.offset - score) / self.scale.factor)
        # Points each feature costs against its best bin: on a risk scale, the points it added above its least.
        lost = {f.name: (points[f.name] - f.least_points) if self.scale.risk else (f.best_points - points[f.name])
                for f in seg.features}
        return Scored(score, raw, 1.0 / (1.0 + math.exp(-logit_bad)), seg.name, points, lost)

    def to_json(self) -> dict[str, Any]:
        """The model as a JSON-ready dict (``FORMAT`` version ``FORMAT_VERSION``)."""
        segments = {}
        for name, seg in self.segments.items():
            segments[name] = {"intercept": seg.intercept, "base_points": seg.base_points, "dropped": seg.dropped,
                              "features": [{k: v for k, v in asdict(f).items() if k != "_lookup"}
                                           for f in seg.features]}
        scale = asdict(self.scale)
        return {"format": FORMAT, "format_version": 1, "model_version": self.model_version,
                "kind": self.kind, "created_at": self.created_at, "target": self.target, "scale": scale,
                "feature_schema": self.feature_schema, "segments": segments, "training": self.training,
                "validation": self.validation, **recalibration_fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorecard:
        """A model from ``to_json``'s output; refuses another format or a newer version."""
        header = artefact_header(data, fmt=FORMAT, version=FORMAT_VERSION, what="scorecard")
        segments = {name: Segment(name=name, intercept=s["intercept"], base_points=s["base_points"],
                                  dropped=list(s.get("dropped", [])),
                                  features=[BinnedFeature(**f) for f in s["features"]])
                    for name, s in data["segments"].items()}
        return cls(segments=segments, **header)


def recalibrated(model, segment: str, logit_bad: float) -> float:
    """``logit_bad`` through the model's recalibration of ``segment`` (unchanged when it has none)."""
    cached = model._platt
    if cached is None or cached[0] is not model.recalibration:
        cached = model._platt = (model.recalibration, calibration.mapping(model.recalibration))
    mapped = cached[1].get(segment)
    return logit_bad if mapped is None else mapped(logit_bad)


def recalibration_fields(model) -> dict[str, Any]:
    """The artefact's recalibration and the format version it needs (none and 1 without one)."""
    if model.recalibration is None:
        return {}
    return {"format_version": 2, "recalibration": model.recalibration}


def artefact_header(data: dict[str, Any], *, fmt: str, version: int, what: str) -> dict[str, Any]:
    """What every model artefact holds besides its segments (version, kind, scale, features, training and
    validation records), read from its JSON; refuses another format or a newer version of ``fmt``."""
    if data.get("format") != fmt:
        raise ValueError(f"not an OpenBureau {what} (format {data.get('format')!r})")
    if int(data.get("format_version", 0)) > version:
        raise ValueError(f"{what} format version {data['format_version']} is newer than this bureau's ({version})")
    scale = data["scale"]
    return dict(model_version=data["model_version"], kind=data["kind"],
                scale=Scale(**{**scale, "bands": tuple(tuple(b) for b in scale["bands"])}),
                feature_schema=list(data.get("feature_schema", [])), target=data.get("target", ""),
                training=dict(data.get("training", {})), validation=dict(data.get("validation", {})),
                created_at=data.get("created_at", ""), recalibration=data.get("recalibration"))


def fit_segment(frame, bad: np.ndarray, *, categorical: list[str], scale: Scale, name: str = "main",
                regularisation: float = 1.0, min_bin_size: float = 0.01, prebins: int = 50,
                min_bin_bads: int = 5) -> Segment:
    """Fit one segment on ``frame`` (a pandas DataFrame of features) and ``bad`` (1 = bad, 0 = good).

    Args:
        categorical: Columns to bin as categories (all others numeric; missing values allowed in both).
        regularisation: Inverse L2 strength of the logistic regression (sklearn's ``C``).
        min_bin_size: Smallest share of rows in a bin.
        prebins: Most pre-bins (quantiles) a numeric feature starts from before the optimal merge.
        min_bin_bads: Fewest bads in a bin, so that small samples get coarser bins (and stable WoE).
    """
    from optbinning import BinningProcess
    from sklearn.linear_model import LogisticRegression

    frame = frame.copy()
    for c in categorical:
        frame[c] = frame[c].astype("string").astype(object).where(frame[c].notna(), np.nan)
    # A feature whose values (missing ones aside) all belong to one class has no bin holding both goods and
    # bads: its evidence cannot be weighed (every weight of evidence but the missing bin's is infinite), and
    # optbinning fails on it. Such a feature is left out, as a single-bin one is (a ring's delinquent share
    # when no good of the sample is in a ring: the ring's size still speaks for it).
    bad = np.asarray(bad)
    one_class = [c for c in frame.columns if len(set(bad[frame[c].notna().to_numpy()].tolist())) < 2]
    columns = [c for c in frame.columns if c not in one_class]
    full, frame = frame, frame[columns]
    process = BinningProcess(columns, categorical_variables=categorical or None, min_bin_size=min_bin_size,
                             max_n_prebins=prebins, min_prebin_size=min(min_bin_size, 1 / prebins),
                             binning_fit_params={c: {"min_bin_n_event": min_bin_bads,
                                                     **({} if c in categorical else {"monotonic_trend": "auto_asc_desc"})}
                                                 for c in columns})
    with warnings.catch_warnings():  # optbinning's tables trip a pandas deprecation notice; nothing for the user
        warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")
        process.fit(frame, bad)
        woe = process.transform(frame, metric="woe")
    single = [c for c in columns if woe[c].std() == 0]  # a single bin carries no evidence, unless it is a clean cut
    separating = {c: bins for c in (*one_class, *single) if c not in categorical
                  and (bins := separating_bins(full[c].to_numpy(dtype=float), bad, min_bin_size=min_bin_size,
                                               min_bin_bads=min_bin_bads)) is not None}
    for c, bins in separating.items():
        woe[c] = bins.woe_of(full[c].to_numpy(dtype=float))
    keep = [c for c in full.columns if (c in columns and c not in single) or c in separating]
    dropped = [c for c in full.columns if c not in keep]
    while True:
        model = LogisticRegression(C=regularisation, max_iter=5000).fit(woe[keep].to_numpy(), bad)
        # WoE rises as the bad rate falls, so each coefficient must be negative; one that is not works
        # against its own feature's evidence (collinearity) and would make its points non-monotone.
        against = [c for c, coef in zip(keep, model.coef_[0], strict=True) if coef > 0]
        if not against or len(keep) == len(against):
            break
        worst = max(against, key=lambda c: model.coef_[0][keep.index(c)])
        keep.remove(worst)
        dropped.append(worst)
    factor = scale.factor
    features = []
    for c, coef in zip(keep, model.coef_[0], strict=True):
        if c in separating:
            features.append(separating[c].feature(c, coef=float(coef), factor=factor))
            continue
        binned = process.get_binned_variable(c)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")
            table = binned.binning_table.build()
        rows = table.iloc[:-1]  # the last row is the totals
        regular = rows[~rows["Bin"].astype(str).isin(["Special", "Missing"])]
        missing = rows[rows["Bin"].astype(str) == "Missing"]
        missing_woe = float(missing["WoE"].iloc[0]) if len(missing) and int(missing["Count"].iloc[0]) else 0.0
        woes = [float(w) for w in regular["WoE"]]
        features.append(BinnedFeature(
            name=c, kind="categorical" if c in categorical else "numeric",
            splits=[] if c in categorical else [float(s) for s in binned.splits],
            categories=[[str(v) for v in group] for group in binned.splits] if c in categorical else [],
            labels=[str(b) for b in regular["Bin"]], counts=[int(n) for n in regular["Count"]],
            event_rates=[float(r) for r in regular["Event rate"]], woe=woes,
            points=[-factor * float(coef) * w for w in woes], missing_woe=missing_woe,
            missing_points=-factor * float(coef) * missing_woe, coefficient=float(coef)))
    return Segment(name=name, intercept=float(model.intercept_[0]),
                   base_points=scale.offset - factor * float(model.intercept_[0]), features=features,
                   dropped=dropped)


@dataclass(frozen=True, slots=True)
class SeparatingBins:
    """A numeric feature's bins cut where optbinning will not: one bin (or the missing values) holds one class
    only. Each bin's WoE is taken from counts smoothed by half a record of each class (a pure bin's WoE is
    large but finite)."""

    splits: list[float]
    goods: list[int]  # per regular bin, then the missing values last
    bads: list[int]

    def woe(self) -> list[float]:
        """The smoothed WoE of each bin (the missing values last)."""
        used = [i for i, (g, b) in enumerate(zip(self.goods, self.bads, strict=True)) if g + b]
        goods = sum(self.goods) + 0.5 * len(used)
        bads = sum(self.bads) + 0.5 * len(used)
        return [math.log(((g + 0.5) / goods) / ((b + 0.5) / bads)) if g + b else 0.0
                for g, b in zip(self.goods, self.bads, strict=True)]

    def woe_of(self, values: np.ndarray) -> np.ndarray:
        """The WoE of each value (NaN is missing)."""
        woe = np.array(self.woe())
        index = np.searchsorted(np.array(self.splits), values, side="right")
        return np.where(np.isnan(values), woe[-1], woe[np.minimum(index, len(self.splits))])

    def feature(self, name: str, *, coef: float, factor: float) -> BinnedFeature:
        """The scorecard feature of these bins with the regression's coefficient."""
        woe = self.woe()
        edges = ["-inf", *(f"{s:.2f}" for s in self.splits), "inf"]
        counts = [g + b for g, b in zip(self.goods, self.bads, strict=True)]
        return BinnedFeature(
            name=name, kind="numeric", splits=list(self.splits),
            labels=[f"{'(' if i == 0 else '['}{edges[i]}, {edges[i + 1]})" for i in range(len(self.splits) + 1)],
            counts=counts[:-1], event_rates=[b / n if n else 0.0 for b, n in zip(self.bads, counts[:-1], strict=False)],
            woe=woe[:-1], points=[-factor * coef * w for w in woe[:-1]], missing_woe=woe[-1],
            missing_points=-factor * coef * woe[-1], coefficient=coef)


def separating_bins(values: np.ndarray, bad: np.ndarray, *, min_bin_size: float,
                    min_bin_bads: int) -> SeparatingBins | None:
    """The cut of a numeric feature by one split (a decision stump on the values present) and its missing values,
    when some bin then holds one class only; None when no bin is pure (optbinning's bins stand), when a pure bin
    of bads has fewer than ``min_bin_bads`` of them, or when a bin is smaller than ``min_bin_size`` of the rows."""
    from sklearn.tree import DecisionTreeClassifier

    bad = np.asarray(bad).astype(int)
    present = ~np.isnan(values)
    splits: list[float] = []
    if len(set(bad[present].tolist())) == 2:
        stump = DecisionTreeClassifier(max_depth=1).fit(values[present].reshape(-1, 1), bad[present])
        if stump.tree_.node_count == 3:
            splits = [float(stump.tree_.threshold[0])]
    index = np.where(present, np.searchsorted(np.array(splits), values, side="right"), len(splits) + 1)
    goods = [int(np.sum((index == i) & (bad == 0))) for i in range(len(splits) + 2)]
    bads = [int(np.sum((index == i) & (bad == 1))) for i in range(len(splits) + 2)]
    used = [(g, b) for g, b in zip(goods, bads, strict=True) if g + b]
    if len(used) < 2 or not any(g == 0 or b == 0 for g, b in used):
        return None
    if any(g == 0 and b < min_bin_bads for g, b in used) or min(g + b for g, b in used) < min_bin_size * len(bad):
        return None
    return SeparatingBins(splits=splits, goods=goods, bads=bads)
