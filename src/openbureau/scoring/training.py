"""Training and evaluating scorecards: on the bureau's own data, or on any table of credit data.

Both hold out a stratified share of rows (``validation_share``) to validate on, and store the validation
results in the model (AUC, KS, Gini, calibration by score band, score distribution, ROC): the model's
distribution is the reference later samples are compared with (PSI).

* ``train_bureau``: features at an observation period (``scoring.training_set``), a ``main`` segment and a ``thin``
  segment for thin files (``features.is_thin``); the thin segment falls back to ``main`` when the thin
  population is too small to fit on its own (under ``MIN_SEGMENT_ROWS`` rows or ``MIN_SEGMENT_BADS`` bads).
* ``train_table``: any CSV or Parquet table: numeric and categorical columns (missing values allowed), a
  target column holding 0/1, true/false or good/bad, an optional id column left out of the features.

Both train either engine (``scoring.engines``: ``scorecard`` or ``additive``), or ``auto``: both engines
cross-validated on the same stratified folds of the training rows (never the held-out ones), the better kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from openbureau.kit.errors import Unprocessable
from openbureau.scoring import calibration, engines, metrics
from openbureau.scoring.additive import MONOTONE
from openbureau.scoring.engines import Model
from openbureau.scoring.features import FEATURES
from openbureau.scoring.scorecard import Scale, fit_segment
from openbureau.scoring.training_set import TrainingSet

MIN_SEGMENT_ROWS = 300
MIN_SEGMENT_BADS = 30
BAD_LABELS = {"1", "true", "bad", "yes", "y", "t"}
GOOD_LABELS = {"0", "false", "good", "no", "n", "f"}
BUREAU_TARGET = ("bad: any credit account 90+ days past due (status 4 or worse) or charged off within 12 months "
                 "of the observation period")


class TableError(ValueError):
    """A table that cannot be trained or evaluated on, with the reason."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table's feature frame, its target and which columns are categorical."""

    frame: Any  # pandas.DataFrame
    bad: np.ndarray
    categorical: list[str]


def edges_of(scale: Scale, step: int = 50) -> list[float]:
    """Score band edges across the scale (for distributions and calibration)."""
    return [float(x) for x in range(scale.minimum, scale.maximum, step)] + [float(scale.maximum) + 1]


def named_bands(scale: Scale) -> tuple[list[float], list[str]]:
    """The scale's named bands (poor ... exceptional) as edges and names: what calibration is checked on."""
    return [float(low) for low, _ in scale.bands] + [float(scale.maximum) + 1], [name for _, name in scale.bands]


def score_frame(card: Model, frame, *, segments: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and probabilities of bad of every row of ``frame``."""
    records = frame.to_dict("records")
    results = [card.score({k: (None if _missing(v) else v) for k, v in r.items()},
                          segment=segments[i] if segments else "main") for i, r in enumerate(records)]
    return np.array([r.score for r in results], dtype=float), np.array([r.probability_bad for r in results])


def _missing(value) -> bool:
    return value is None or type(value).__name__ == "NAType" or (isinstance(value, float) and np.isnan(value))


def split_rows(n: int, bad: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and held-out row numbers: a stratified ``share`` held out, reproducible from ``seed``."""
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(n), test_size=share, stratify=bad, random_state=seed)


def sample_digest(frame, bad: np.ndarray) -> str:
    """SHA-256 of every feature value and outcome of a sample, in row order (``scoring.evaluation`` tells the
    training sample from any other by it)."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy()
    columns = "\x1f".join(map(str, frame.columns)).encode()
    return hashlib.sha256(columns + hashed.tobytes() + np.asarray(bad, dtype=np.int64).tobytes()).hexdigest()


def _validate(card: Model, frame, bad: np.ndarray, segments: list[str] | None) -> dict[str, Any]:
    score, probability = score_frame(card, frame, segments=segments)
    return metrics.summary(bad=bad, score=score, probability=probability, edges=edges_of(card.scale),
                           named=named_bands(card.scale))


def train_bureau(data: TrainingSet, *, scale: Scale, version: str, engine: str = "scorecard",
                 validation_share: float = 0.3, seed: int = 42) -> Model:
    """A two-segment bureau model (``main`` and ``thin``) of ``engine`` trained and validated on ``data``."""
    if len(data.rows) < MIN_SEGMENT_ROWS or data.bad.sum() < MIN_SEGMENT_BADS:
        raise Unprocessable(f"{len(data.rows):,} scorable persons with {int(data.bad.sum()):,} bads at "
                            f"{data.observation_period}: at least {MIN_SEGMENT_ROWS} and {MIN_SEGMENT_BADS} are needed",
                            code="TOO_LITTLE_TRAINING_DATA", field="observation_period")
    frame = data.frame()
    train, test = split_rows(len(frame), data.bad, validation_share, seed)
    choice = None
    if engine == "auto":
        choice = _choose_bureau(frame.iloc[train], data.bad[train], data.thin[train], scale=scale, seed=seed)
        engine = choice.engine
    segments, thin_note = fit_bureau_segments(frame.iloc[train], data.bad[train], data.thin[train], scale=scale,
                                              fit=engines.fitter(engine, monotone=MONOTONE))
    card = engines.build(engine, model_version=version, kind="bureau", scale=scale, segments=segments,
                     feature_schema=[{"name": f.name, "kind": "numeric", "group": f.group,
                                      "description": f.description} for f in FEATURES],
                     target=BUREAU_TARGET, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    labels = ["thin" if t else "main" for t in data.thin[test]]
    card.validation = _validate(card, frame.iloc[test], data.bad[test], labels)
    card.validation["thin"] = _segment_validation(card, frame.iloc[test], data.bad[test], data.thin[test])
    card.training = {"source": "bureau", "observation_period": data.observation_period,
                     "outcome_months": data.outcome_months, "rows": len(train), "validation_rows": len(test),
                     "bad_rate": float(data.bad.mean()), "thin_share": float(data.thin.mean()),
                     "thin_segment": thin_note, "excluded": data.excluded, "seed": seed,
                     "validation_share": validation_share,
                     "sample_digest": sample_digest(frame, data.bad),
                     **_engine_note(engine, choice)}
    return card


def _engine_note(engine: str, choice: engines.Choice | None) -> dict[str, Any]:
    return {"engine": engine, **({"engine_choice": choice.as_dict()} if choice is not None else {})}


def _choose_bureau(frame, bad: np.ndarray, thin: np.ndarray, *, scale: Scale, seed: int) -> engines.Choice:
    def fit_and_score(engine: str, train, test):
        segments, _ = fit_bureau_segments(frame.iloc[train], bad[train], thin[train], scale=scale,
                                          fit=engines.fitter(engine, monotone=MONOTONE))
        model = engines.build(engine, model_version="cv", kind="bureau", scale=scale, segments=segments)
        return score_frame(model, frame.iloc[test], segments=["thin" if t else "main" for t in thin[test]])[0]

    return engines.choose(frame, bad, fit_and_score=fit_and_score, seed=seed)


def fit_bureau_segments(frame, bad: np.ndarray, thin: np.ndarray, *, scale: Scale, fit=fit_segment) -> tuple[dict, str]:
    """The ``main`` segment fitted (by ``fit``, default the scorecard's) on every row and, when there are
    enough, a ``thin`` one on the thin files; and a note saying which."""
    segments = {"main": fit(frame, bad, categorical=[], scale=scale)}
    rows, bads = int(thin.sum()), int(bad[thin].sum())
    if rows >= MIN_SEGMENT_ROWS and bads >= MIN_SEGMENT_BADS:
        segments["thin"] = fit(frame[thin], bad[thin], categorical=[], scale=scale, name="thin")
        return segments, f"fitted on {rows:,} thin files"
    return segments, (f"too few thin files to fit ({rows} rows, {bads} bads): thin files are scored by the main "
                      "segment")


def _segment_validation(card: Model, frame, bad: np.ndarray, thin: np.ndarray) -> dict[str, Any] | None:
    if thin.sum() < 20 or bad[thin].sum() == 0 or bad[thin].sum() == thin.sum():
        return None
    score, _ = score_frame(card, frame[thin], segments=["thin"] * int(thin.sum()))
    return {"rows": int(thin.sum()), "auc": metrics.auc(bad=bad[thin], score=score)}


def read_table(path: Path, *, target: str, id_column: str | None = None, categorical: list[str] | None = None) -> Table:
    """A CSV or Parquet table split into features and a 0/1 target (``TableError`` naming what is wrong)."""
    import pandas as pd

    if not path.exists():
        raise TableError(f"no such file: {path}")
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except UnicodeDecodeError as exc:
        raise TableError(f"{path.name} cannot be read: a CSV table must be UTF-8 (convert it, e.g. from GBK or "
                         "GB18030)") from exc
    except Exception as exc:  # pandas raises many kinds; all mean the same thing to the user
        raise TableError(f"{path.name} cannot be read as a table: {exc}") from exc
    if target not in frame.columns:
        raise TableError(f"no target column {target!r}; columns: {', '.join(map(str, frame.columns))}")
    if id_column is not None and id_column not in frame.columns:
        raise TableError(f"no id column {id_column!r}")
    labels = frame.pop(target).astype("string").str.strip().str.lower()
    unknown = sorted(set(labels.dropna()) - BAD_LABELS - GOOD_LABELS)
    if unknown or labels.isna().any():
        raise TableError(f"target {target!r} must hold 0/1, true/false or good/bad; found "
                         f"{', '.join(unknown[:5]) or 'empty values'}")
    bad = labels.isin(BAD_LABELS).to_numpy().astype(int)
    if bad.sum() == 0 or bad.sum() == len(bad):
        raise TableError(f"target {target!r} holds only one class; a model needs goods and bads")
    if id_column is not None:
        frame = frame.drop(columns=[id_column])
    categorical = categorical if categorical is not None else [
        c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    for c in categorical:
        frame[c] = frame[c].astype("string")
    return Table(frame=frame, bad=bad, categorical=categorical)


def train_table(table: Table, *, scale: Scale, version: str, source: str, target: str, engine: str = "scorecard",
                validation_share: float = 0.3, seed: int = 42) -> Model:
    """A one-segment model of ``engine`` (or ``auto``) on any tabular credit data."""
    frame, bad = table.frame, table.bad
    train, test = split_rows(len(frame), bad, validation_share, seed)
    choice = None
    if engine == "auto":
        choice = choose_table(Table(frame.iloc[train], bad[train], table.categorical), scale=scale, seed=seed)
        engine = choice.engine
    segment = engines.fitter(engine)(frame.iloc[train], bad[train], categorical=table.categorical, scale=scale)
    card = engines.build(engine, model_version=version, kind="table", scale=scale, segments={"main": segment},
                     feature_schema=[{"name": c, "kind": "categorical" if c in table.categorical else "numeric"}
                                     for c in frame.columns],
                     target=target, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    card.validation = _validate(card, frame.iloc[test], bad[test], None)
    card.training = {"source": source, "rows": len(train), "validation_rows": len(test),
                     "bad_rate": float(bad.mean()), "seed": seed,
                     "validation_share": validation_share, "sample_digest": sample_digest(frame, bad),
                     **_engine_note(engine, choice)}
    return card


def choose_table(table: Table, *, scale: Scale, seed: int = 42, folds: int | None = None) -> engines.Choice:
    """Both engines cross-validated on the same stratified folds of ``table``, the better chosen."""
    frame, bad = table.frame, table.bad

    def fit_and_score(engine: str, train, test):
        segment = engines.fitter(engine)(frame.iloc[train], bad[train], categorical=table.categorical, scale=scale)
        model = engines.build(engine, model_version="cv", kind="table", scale=scale, segments={"main": segment})
        return score_frame(model, frame.iloc[test])[0]

    return engines.choose(frame, bad, fit_and_score=fit_and_score, folds=folds, seed=seed)


def evaluate(card: Model, frame, bad: np.ndarray, *, segments: list[str] | None = None) -> dict[str, Any]:
    """Validation figures of ``card`` on a sample, with its PSI against the model's own validation sample;
    ``TableError`` when the sample lacks a feature of the model."""
    missing = [f["name"] for f in card.feature_schema if f["name"] not in frame.columns]
    if missing:
        raise TableError(f"the table lacks the model's features: {', '.join(missing)}")
    score, probability = score_frame(card, frame, segments=segments)
    reference = card.validation.get("distribution")
    edges = card.validation.get("edges") or edges_of(card.scale)
    named = named_bands(card.scale)
    result = metrics.summary(bad=bad, score=score, probability=probability, edges=edges, reference=reference,
                             named=named)
    if card.recalibration is not None:  # the same rows as the model stood before its recalibration
        _, plain = score_frame(replace(card, recalibration=None), frame, segments=segments)
        before = metrics.calibration(bad=bad, score=score, probability=plain, edges=edges)
        result["calibration_before"] = before
        result.update(metrics.named_calibration(bad=bad, score=score, probability=plain, named=named, fallback=before,
                                                prefix="calibration_before"))
    return result


def recalibrate(card: Model, frame, bad: np.ndarray, *, version: str, segments: list[str] | None = None,
                observation_period: str | None = None, method: str = calibration.METHOD) -> Model:
    """A new version of ``card`` whose probability of bad is recalibrated (``scoring.calibration``: Platt
    scaling, or isotonic regression, per segment) on held-out rows ``frame``/``bad``; scores, bands and
    reasons are unchanged.

    The rows must be unseen by the model: a bureau model refuses its own training period."""
    trained_at = card.training.get("observation_period")
    if observation_period is not None and observation_period == trained_at:
        raise Unprocessable(f"{observation_period} is the model's training period: recalibrate on a held-out period",
                            code="RECALIBRATION_IN_SAMPLE", field="observation_period")
    plain = replace(card, model_version=version, recalibration=None, _platt=None)
    score, probability = score_frame(plain, frame, segments=segments)
    used = [s if s in card.segments else "main" for s in (segments or ["main"] * len(bad))]
    edges, names = named_bands(card.scale)
    before = metrics.calibration(bad=bad, score=score, probability=probability, edges=edges, names=names)
    shown = 1 / (1 + np.exp(-(card.scale.offset - score) / card.scale.factor))  # the score as shown, as a probability
    tried = []
    for candidate in (calibration.METHODS if method == "auto" else (method,)):
        record = calibration.recalibration_of(bad=np.asarray(bad), probability=shown, segments=used,
                                              period=observation_period, before=before, rows=len(bad),
                                              method=candidate)
        if not record["segments"]:
            raise Unprocessable(f"{int(np.sum(bad))} bads in {len(bad):,} rows: too few to recalibrate (at least "
                                f"{calibration.MIN_SEGMENT_BADS} in a segment)", code="TOO_LITTLE_CALIBRATION_DATA",
                                field="observation_period")
        model = replace(plain, recalibration=record, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        training={**card.training, "recalibrated_from": card.model_version})
        _, after = score_frame(model, frame, segments=segments)
        record["after"] = metrics.calibration(bad=bad, score=score, probability=after, edges=edges, names=names)
        record["before_check"], record["after_check"] = calibration.check(before), calibration.check(record["after"])
        tried.append(model)
        if record["after_check"]["agrees"]:
            break
    # auto: Platt when it agrees in every band of the period, else the method leaving fewer bands outside.
    chosen = min(tried, key=lambda m: len(m.recalibration["after_check"]["outside"]))
    if method == "auto":
        chosen.recalibration["chosen_by"] = {m.recalibration["method"]: m.recalibration["after_check"]["outside"]
                                             for m in tried}
    return chosen
