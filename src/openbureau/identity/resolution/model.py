"""The linkage model: a Splink settings dictionary with fixed, documented m and u probabilities.

The model is data, saved and loaded as versioned JSON (never pickled). Its probabilities were set from the
simulator's identity-noise rates and the population's spread, and checked against the simulated truth
(docs/identity.md): they are not re-estimated on each run, so a small bureau resolves like a large one.
``m`` is P(level | same person), ``u`` is P(level | different persons).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODEL_VERSION = "openbureau.identity.model.v1"
UPPER_PROBABILITY = 0.999  # at or above: merge automatically
LOWER_PROBABILITY = 0.90  # at or above (and below the upper one): queue for review
RUNNER_UP_MARGIN = 8.0  # match weight the best candidate must lead the next one by, to merge unreviewed


def _level(sql: str, label: str, m: float, u: float) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _null(*columns: str) -> dict[str, Any]:
    sql = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns)
    return {"sql_condition": sql, "label_for_charts": "null", "is_null_level": True}


COMPARISONS: list[dict[str, Any]] = [
    {"output_column_name": "name", "comparison_levels": [
        _null("name"),
        _level('"name_l" = "name_r"', "same characters", 0.93, 0.0005),
        _level('"name_py_l" = "name_py_r"', "same pinyin", 0.02, 0.0008),
        _level('"name_sorted_l" = "name_sorted_r" OR "name_py_sorted_l" = "name_py_sorted_r"',
               "same characters or sounds in another order", 0.02, 0.0003),
        _level('levenshtein("name_l", "name_r") <= 1 AND length("name_l") >= 2', "one character differs",
               0.02, 0.01),
        _level("ELSE", "different", 0.01, 0.9884),
    ]},
    {"output_column_name": "birth_date", "comparison_levels": [
        _null("dob"),
        _level('"dob_l" = "dob_r"', "same date", 0.98, 0.00006),
        _level("ELSE", "different", 0.02, 0.99994),
    ]},
    {"output_column_name": "phone", "comparison_levels": [
        _null("phone_n"),
        _level('"phone_n_l" = "phone_n_r"', "same number", 0.70, 0.000002),
        _level("ELSE", "different", 0.30, 0.999998),
    ]},
    {"output_column_name": "address", "comparison_levels": [
        _null("addr"),
        _level('"addr_l" = "addr_r"', "same address", 0.70, 0.00002),
        _level('"addr_tail_l" = "addr_tail_r"', "same street and room", 0.28, 0.00003),
        _level("ELSE", "different", 0.02, 0.99995),
    ]},
]

# Candidate pairs: records sharing a birth date, a phone number or a name's sound. Each rule keeps the
# number of pairs near-linear in the number of records (a birth date is shared by about N/20,000 persons).
BLOCKING_RULES = [
    'l."dob" = r."dob"',
    'l."phone_n" = r."phone_n"',
    'l."name_py_sorted" = r."name_py_sorted" AND substr(l."addr_tail", -6) = substr(r."addr_tail", -6)',
]

FEATURE_COLUMNS = ["name", "name_sorted", "name_py", "name_py_sorted", "dob", "phone_n", "addr", "addr_tail"]


def default_model() -> dict[str, Any]:
    """The model as a versioned, JSON-serialisable dictionary."""
    return {"version": MODEL_VERSION, "upper_probability": UPPER_PROBABILITY,
            "lower_probability": LOWER_PROBABILITY, "runner_up_margin": RUNNER_UP_MARGIN,
            "comparisons": COMPARISONS, "blocking_rules": BLOCKING_RULES}


def save_model(model: dict[str, Any], path: Path) -> None:
    """Write a model as JSON."""
    path.write_text(json.dumps(model, ensure_ascii=False, indent=2), encoding="utf-8")


def load_model(path: Path) -> dict[str, Any]:
    """Read a model saved by :func:`save_model`; refuses another version."""
    model = json.loads(path.read_text(encoding="utf-8"))
    if model.get("version") != MODEL_VERSION:
        raise ValueError(f"unsupported identity model version: {model.get('version')!r}")
    return model


def splink_settings(model: dict[str, Any], *, prior: float) -> dict[str, Any]:
    """Splink settings linking weak (left) to strong (right) descriptions, with prior ``prior``."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "rid",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": [{"blocking_rule": r} for r in model["blocking_rules"]],
        "comparisons": model["comparisons"],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["person_id"],
    }
