"""The two engine families behind one interface, and how ``--engine auto`` chooses between them.

* ``scorecard`` (``scoring.scorecard``): monotone optimal bins, a logistic regression on their WoE.
* ``additive`` (``scoring.additive``): an explainable boosting machine, exported as points tables.

Both are saved as versioned JSON, both score with ``model.score(values, segment=...)``; ``from_json`` reads
either (by the artefact's ``engine`` field; a scorecard's artefact predates the field and has none).

``auto`` fits both on the same stratified k folds and keeps the engine with the higher mean cross-validated
AUC; on a tie, or when the additive model is not better by ``AUTO_MARGIN``, the simpler scorecard. The
additive engine competes within its complexity limit: at most ``additive.MAX_INTERACTIONS`` interaction
terms per segment, ``additive.MAX_BINS`` bins per shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openbureau.scoring import additive
from openbureau.scoring.additive import AdditiveModel, fit_additive_segment
from openbureau.scoring.scorecard import Scorecard, fit_segment

ENGINES = ("scorecard", "additive")
CHOICES = (*ENGINES, "auto")
AUTO_FOLDS = 5
AUTO_MARGIN = 0.0  # the additive model must beat the scorecard's mean CV AUC by more than this

Model = Scorecard | AdditiveModel


def engine_of(model: Model) -> str:
    """``scorecard`` or ``additive``."""
    return getattr(model, "engine", "scorecard")


def from_json(data: dict[str, Any]) -> Model:
    """A model of either engine from its artefact."""
    if data.get("engine") == additive.ENGINE or data.get("format") == additive.FORMAT:
        return AdditiveModel.from_json(data)
    return Scorecard.from_json(data)


def fitter(engine: str, *, monotone: dict[str, int] | None = None):
    """The segment-fitting function of ``engine``: ``fit(frame, bad, categorical=, scale=, name=)``."""
    if engine == "scorecard":
        return fit_segment
    if engine == "additive":
        def fit(frame, bad, *, categorical, scale, name="main"):
            return fit_additive_segment(frame, bad, categorical=categorical, scale=scale, name=name,
                                        monotone=monotone)
        return fit
    raise ValueError(f"unknown engine {engine!r}; choose {', '.join(CHOICES)}")


def build(engine: str, **fields) -> Model:
    """An empty model of ``engine`` with the given fields (``model_version``, ``kind``, ``scale``, ...)."""
    return AdditiveModel(**fields) if engine == "additive" else Scorecard(**fields)


@dataclass(frozen=True, slots=True)
class Choice:
    """What ``auto`` chose, and on what evidence."""

    engine: str
    folds: int
    auc: dict[str, list[float]]  # per engine, per fold

    def mean(self, engine: str) -> float:
        return float(np.mean(self.auc[engine]))

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "folds": self.folds, "auc": self.auc,
                "mean_auc": {e: self.mean(e) for e in self.auc}, "margin": AUTO_MARGIN,
                "max_interactions": additive.MAX_INTERACTIONS, "max_bins": additive.MAX_BINS}


def choose(frame, bad: np.ndarray, *, fit_and_score, folds: int | None = None, seed: int = 42) -> Choice:
    """Cross-validate both engines on the same stratified folds and pick one.

    ``fit_and_score(engine, train_index, test_index)`` fits ``engine`` on the training rows and returns the
    scores of the test rows (higher = better)."""
    from sklearn.model_selection import StratifiedKFold

    from openbureau.scoring.metrics import auc

    folds = folds or AUTO_FOLDS
    results: dict[str, list[float]] = {e: [] for e in ENGINES}
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(bad)), bad):
        for engine in ENGINES:
            results[engine].append(auc(bad=bad[test], score=fit_and_score(engine, train, test)))
    better = float(np.mean(results["additive"])) > float(np.mean(results["scorecard"])) + AUTO_MARGIN
    return Choice(engine="additive" if better else "scorecard", folds=folds, auc=results)
