"""Which rows a model is evaluated on, said plainly: in-sample, in-time hold-out, or out-of-time.

Training (``scoring.training``) records a digest of its sample (``sample_digest``: every feature value and outcome, in order) with
the split's seed and share. When a model is evaluated:

* on **the very sample it was trained on** (same digest), the split is rebuilt: the training rows are
  reported as **in-sample** (never called validation: the model has seen them) and the held-out rows as the
  **in-time hold-out** validation;
* on the bureau **at a later (or earlier) observation period**, every row is **out-of-time** validation;
* on the bureau **at the training period** whose files changed since (the digest differs), the rows overlap
  the training rows and the split cannot be rebuilt: **in-time, overlapping the training sample**, not
  validation;
* on **another table**, the rows are labelled as such (their time, and any overlap with the training rows,
  unknown to the bureau).

Example:
    >>> [(s.label, s.validation) for s in evaluate_labelled(card, frame, bad)]
    [('in-sample', False), ('in-time hold-out', True)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openbureau.scoring import training
from openbureau.scoring.engines import Model


@dataclass(frozen=True, slots=True)
class Evaluated:
    """Figures on one labelled set of rows."""

    label: str  # in-sample | in-time hold-out | out-of-time | in-time, overlapping the training sample | another table
    validation: bool | None  # whether the rows are unseen by the model (None: the bureau cannot know)
    note: str
    result: dict[str, Any]
    rows: np.ndarray | None = None  # the row numbers scored (None: every row)


def evaluate_labelled(card: Model, frame, bad: np.ndarray, *, segments: list[str] | None = None,
                      observation_period: str | None = None) -> list[Evaluated]:
    """The model's figures on ``frame``, split and labelled by which rows they are (see the module's text)."""
    t = card.training
    same = t.get("sample_digest") is not None and t["sample_digest"] == training.sample_digest(frame, bad)
    if same:
        train, test = training.split_rows(len(bad), bad, t.get("validation_share", 0.3), t.get("seed", 42))
        pick = (lambda rows: None) if segments is None else (lambda rows: [segments[i] for i in rows])
        return [
            Evaluated("in-sample", False, f"the {len(train):,} rows the model was fitted on: not validation",
                      training.evaluate(card, frame.iloc[train], bad[train], segments=pick(train)), train),
            Evaluated("in-time hold-out", True, f"the {len(test):,} rows held out of training",
                      training.evaluate(card, frame.iloc[test], bad[test], segments=pick(test)), test)]
    result = training.evaluate(card, frame, bad, segments=segments)
    trained_at = t.get("observation_period")
    if observation_period is not None and trained_at is not None:
        if observation_period != trained_at:
            when = "later" if observation_period > trained_at else "earlier"
            return [Evaluated("out-of-time", True, f"observed at {observation_period}, {when} than the training "
                                                   f"observation ({trained_at})", result)]
        return [Evaluated("in-time, overlapping the training sample", False,
                          f"observed at the training period {trained_at}, but the files changed since, so the "
                          "held-out rows cannot be told apart: not validation", result)]
    return [Evaluated("another table", None, "not the training table; its rows' time and any overlap with the "
                                             "training rows are unknown to the bureau", result)]
