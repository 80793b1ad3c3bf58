"""Training and validating the fraud-risk scorecard, with the scoring domain's machinery.

The scorecard is the credit score's (``scoring.scorecard.fit_segment``: monotone optimal binning, a logistic
regression on the bins' weights of evidence, points per bin) on the risk scale ``FRAUD_SCALE`` (higher =
more risk). Fraud is rare, so the bins may be smaller than the credit scorecard's (``MIN_BIN_SIZE`` of the
rows, at least ``MIN_BIN_FRAUDS`` frauds each). A stratified ``validation_share`` of the persons is held out;
the model stores its AUC, KS, calibration by band and score distribution on them. The model is a ``fraud``
kind in the registry, released on its own: the credit score never changes with it.

Labels come from outside the bureau's features: confirmed fraud known to lenders or, for the simulated market,
its truth (``truth/persons.parquet``: ``synthetic``). :func:`read_labels` reads any CSV or Parquet table of
identity numbers and a 0/1 (true/false, bad/good) column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from openbureau.fraud.score import FRAUD_FEATURE_NAMES, FRAUD_FEATURES, FRAUD_SCALE
from openbureau.kit.errors import Unprocessable
from openbureau.scoring import metrics
from openbureau.scoring.scorecard import Scorecard, fit_segment
from openbureau.scoring.training import BAD_LABELS, GOOD_LABELS, TableError

MIN_FRAUDS = 10  # frauds needed among the labelled persons
MIN_BIN_SIZE = 0.002
MIN_BIN_FRAUDS = 3
FRAUD_TARGET = "fraud: a labelled fraudulent identity (confirmed fraud, or the simulated market's synthetic identities)"
EDGES = [0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0]


@dataclass(slots=True)
class FraudTrainingSet:
    """The fraud features of the labelled persons the bureau holds, as observed at ``observed_at``."""

    observed_at: str
    person_ids: list[int]
    rows: list[dict[str, float | None]]
    fraud: np.ndarray
    excluded: dict[str, int] = field(default_factory=dict)

    def frame(self):
        """The feature rows as a pandas DataFrame (columns in ``FRAUD_FEATURE_NAMES`` order)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(FRAUD_FEATURE_NAMES), dtype=float)


def read_labels(path: Path, *, id_column: str, target: str, id_type: str = "CN_RESIDENT_ID",
                id_type_column: str | None = None) -> list[tuple[str, str, bool]]:
    """(id_type, id_number, fraud) of every row of a CSV or Parquet table (``TableError`` naming the problem)."""
    import polars as pl

    if not path.exists():
        raise TableError(f"no such file: {path}")
    try:
        frame = pl.read_parquet(path) if path.suffix.lower() == ".parquet" else pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # the readers raise many kinds; all mean the same thing to the user
        raise TableError(f"{path.name} cannot be read as a table: {exc}") from exc
    for column in (id_column, target, id_type_column):
        if column is not None and column not in frame.columns:
            raise TableError(f"no column {column!r}; columns: {', '.join(frame.columns)}")
    labels = frame[target].cast(pl.String).str.strip_chars().str.to_lowercase()
    unknown = sorted(set(labels.drop_nulls().to_list()) - BAD_LABELS - GOOD_LABELS)
    if unknown or labels.null_count():
        raise TableError(f"target {target!r} must hold 0/1, true/false or bad/good; found "
                         f"{', '.join(unknown[:5]) or 'empty values'}")
    types = frame[id_type_column].cast(pl.String).to_list() if id_type_column else [id_type] * frame.height
    return [(t, str(n), label in BAD_LABELS)
            for t, n, label in zip(types, frame[id_column].cast(pl.String).to_list(), labels.to_list(), strict=True)]


def risk_summary(card: Scorecard, frame, fraud: np.ndarray) -> dict[str, Any]:
    """AUC, Gini, KS, calibration by band, score distribution and ROC of ``card`` on a sample (scores read as
    risk: a high score should mean fraud)."""
    results = [card.score({k: (None if _missing(v) else v) for k, v in r.items()}) for r in frame.to_dict("records")]
    score = np.array([r.score for r in results], dtype=float)
    probability = np.array([r.probability_bad for r in results])
    a = metrics.auc(bad=fraud, score=-score)
    return {"rows": int(len(fraud)), "bad_rate": float(np.mean(fraud)), "frauds": int(fraud.sum()), "auc": a,
            "gini": 2 * a - 1, "ks": metrics.ks(bad=fraud, score=score), "edges": EDGES,
            "distribution": metrics.distribution(score, EDGES),
            "calibration": metrics.calibration(bad=fraud, score=score, probability=probability, edges=EDGES),
            "roc": metrics.roc_points(bad=fraud, score=-score), "higher_is_riskier": True}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def train_fraud(data: FraudTrainingSet, *, version: str, validation_share: float = 0.3, seed: int = 42) -> Scorecard:
    """A fraud-risk scorecard trained and validated on ``data`` (422 ``TOO_LITTLE_TRAINING_DATA`` with fewer
    than ``MIN_FRAUDS`` frauds or no honest persons)."""
    from sklearn.model_selection import train_test_split

    frauds = int(data.fraud.sum())
    if frauds < MIN_FRAUDS or frauds == len(data.fraud):
        raise Unprocessable(f"{len(data.fraud):,} labelled persons with {frauds:,} frauds: at least {MIN_FRAUDS} frauds "
                            "and some honest persons are needed", code="TOO_LITTLE_TRAINING_DATA", field="labels")
    frame = data.frame()
    train, test = train_test_split(np.arange(len(frame)), test_size=validation_share, stratify=data.fraud,
                                   random_state=seed)
    segment = fit_segment(frame.iloc[train], data.fraud[train], categorical=[], scale=FRAUD_SCALE,
                          min_bin_size=MIN_BIN_SIZE, min_bin_bads=MIN_BIN_FRAUDS)
    card = Scorecard(model_version=version, kind="fraud", scale=FRAUD_SCALE, segments={"main": segment},
                     feature_schema=[{"name": f.name, "kind": "numeric", "group": "fraud",
                                      "description": f.description} for f in FRAUD_FEATURES],
                     target=FRAUD_TARGET, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    card.validation = risk_summary(card, frame.iloc[test], data.fraud[test])
    card.training = {"source": "bureau", "observed_at": data.observed_at, "rows": len(train),
                     "validation_rows": len(test), "fraud_rate": float(data.fraud.mean()), "frauds": frauds,
                     "excluded": data.excluded, "seed": seed}
    return card


def evaluate_fraud(card: Scorecard, data: FraudTrainingSet) -> dict[str, Any]:
    """Validation figures of a fraud model on another labelled sample, with its PSI against the model's own
    validation sample."""
    result = risk_summary(card, data.frame(), data.fraud)
    reference = card.validation.get("distribution")
    result["psi"] = None if reference is None else metrics.psi(reference, result["distribution"])
    return result
