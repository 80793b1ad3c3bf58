"""The fairness report of a model: AUC, approval rate at a stated cut-off and calibration, by gender, age band
and region, with the four-fifths (adverse impact) ratio of approval rates.

The model never sees these attributes: its features are computed from tradelines and inquiries alone
(``features.point_in_time``). They are derived for the report only, from the resident ID number
(``attributes_of``): gender from the 17th digit (odd male, even female), age from the birth date (digits
7-14) at the observation date, region from the first two digits (the province), grouped into the four
economic regions of the National Bureau of Statistics (east, central, west, north-east) so that groups hold
enough files to say anything.

**Four-fifths rule.** Per attribute, each group's approval rate (score at or above the cut-off) divided by
that of the most-approved group; a ratio under ``FOUR_FIFTHS`` (0.8, the US EEOC's rule of thumb for adverse
impact) is flagged. A group with fewer than ``MIN_GROUP_ROWS`` rows is reported as too small, with no
figures: a rate on a few dozen files is noise, and a ratio on it would flag or clear by chance.

Example:
    >>> attributes_of("11010519491231002X", date(2025, 6, 30))
    {'gender': 'female', 'age_band': '65+', 'region': 'east'}
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from openbureau.scoring.calibration import wilson

ATTRIBUTES = ("gender", "age_band", "region")
FOUR_FIFTHS = 0.8
MIN_GROUP_ROWS = 100
UNKNOWN = "unknown"
AGE_BANDS = ((0, "under 25"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+"))
# The NBS's four economic regions, by the province code (the resident ID's first two digits).
REGIONS = {
    **dict.fromkeys(("11", "12", "13", "31", "32", "33", "35", "37", "44", "46"), "east"),
    **dict.fromkeys(("14", "34", "36", "41", "42", "43"), "central"),
    **dict.fromkeys(("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"), "west"),
    **dict.fromkeys(("21", "22", "23"), "north-east"),
}


def attributes_of(resident_id: str | None, as_of: date) -> dict[str, str]:
    """Gender, age band (at ``as_of``) and region read from an 18-character resident ID number; ``unknown``
    for what the number does not give (another kind of document, a malformed number)."""
    unknown = dict.fromkeys(ATTRIBUTES, UNKNOWN)
    if resident_id is None or len(resident_id) != 18 or not resident_id[:17].isdigit():
        return unknown
    try:
        born = date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))
    except ValueError:
        return unknown
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    band = UNKNOWN if age < 0 else [label for lowest, label in AGE_BANDS if age >= lowest][-1]
    return {"gender": "male" if int(resident_id[16]) % 2 else "female", "age_band": band,
            "region": REGIONS.get(resident_id[:2], UNKNOWN)}


def _group(bad: np.ndarray, score: np.ndarray, probability: np.ndarray, cutoff: float) -> dict[str, Any]:
    from openbureau.scoring.metrics import auc

    n, bads = len(bad), int(bad.sum())
    observed, predicted = bads / n, float(probability.mean())
    low, high = wilson(bads, n)
    return {"rows": n, "bads": bads, "too_small": False,
            "auc": auc(bad=bad, score=score) if 0 < bads < n else None,
            "approval_rate": float((score >= cutoff).mean()), "observed_bad_rate": observed,
            "predicted_bad_rate": predicted, "interval": [low, high], "within": bool(low <= predicted <= high)}


def report(*, bad: np.ndarray, score: np.ndarray, probability: np.ndarray, groups: dict[str, list[str]],
           cutoff: float, min_rows: int = MIN_GROUP_ROWS, source: str = "") -> dict[str, Any]:
    """Per attribute of ``groups`` (a label per row), per group: rows, AUC, approval rate at ``cutoff``,
    observed and predicted bad rate with the observed rate's Wilson interval, and the approval rate's ratio to
    the most-approved group's (``adverse_impact`` when under ``FOUR_FIFTHS``); too-small groups only counted."""
    bad, score, probability = np.asarray(bad), np.asarray(score, dtype=float), np.asarray(probability, dtype=float)
    attributes: dict[str, Any] = {}
    for attribute, labels in groups.items():
        labels_ = np.asarray(labels, dtype=object)
        rows: dict[str, dict[str, Any]] = {}
        for label in sorted(set(labels_.tolist()), key=str):
            inside = labels_ == label
            n = int(inside.sum())
            rows[str(label)] = ({"rows": n, "too_small": True} if n < min_rows else
                                _group(bad[inside], score[inside], probability[inside], cutoff))
        rated = {k: g for k, g in rows.items() if not g["too_small"] and k != UNKNOWN}
        reference = max(rated, key=lambda k: rated[k]["approval_rate"], default=None)
        top = rated[reference]["approval_rate"] if reference is not None else 0.0
        for g in rated.values():
            g["impact_ratio"] = g["approval_rate"] / top if top > 0 else None
            g["adverse_impact"] = g["impact_ratio"] is not None and g["impact_ratio"] < FOUR_FIFTHS
        attributes[attribute] = {"groups": rows, "reference": reference,
                                 "breached": [k for k, g in rated.items() if g["adverse_impact"]],
                                 "too_small": [k for k, g in rows.items() if g["too_small"]]}
    return {"cutoff": cutoff, "threshold": FOUR_FIFTHS, "min_group_rows": min_rows, "source": source,
            "attributes": attributes}
