"""The linkage model: a Splink settings dictionary whose m and u probabilities are estimated from the bureau.

The model is data, saved as versioned JSON (never pickled) in the ``identity_models`` table with its
training date (``training.py``). The values below are only the **starting values** of training and the
model of a bureau too small to train one: ``openbureau identity train`` estimates u by random sampling of
description pairs and m by expectation maximisation on blocked pairs (Splink), and name matches are
adjusted by the frequency of the name (term-frequency adjustment: a match on a rare name counts more
than one on a common name). ``m`` is P(level | same person), ``u`` is P(level | different persons).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODEL_VERSION = "openbureau.identity.model.v2"
UPPER_PROBABILITY = 0.999  # at or above (and corroborated, with a clear lead): merge automatically
LOWER_PROBABILITY = 0.90  # at or above: queue for review
RUNNER_UP_MARGIN = 8.0  # match weight the best candidate must lead the next one by, to merge unreviewed


def _level(sql: str, label: str, m: float, u: float, tf: str | None = None) -> dict[str, Any]:
    level = {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}
    if tf:
        level |= {"tf_adjustment_column": tf, "tf_adjustment_weight": 1.0}
    return level


def _null(*columns: str) -> dict[str, Any]:
    sql = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns)
    return {"sql_condition": sql, "label_for_charts": "null", "is_null_level": True}


def _prefix(a: str, b: str) -> str:
    return f'(starts_with("{a}", "{b}") OR starts_with("{b}", "{a}"))'


# One part of the name equal and the other a prefix of its counterpart, whichever part a Latin name's
# writer put first (``Liang YAN`` for 梁燕海: the capitals say surname, wrongly).
_TRUNCATED = ('"given_py_l" IS NOT NULL AND "given_py_r" IS NOT NULL AND ('
              f'("sur_py_l" = "sur_py_r" AND {_prefix("given_py_l", "given_py_r")}) OR '
              f'("sur_py_l" = "given_py_r" AND {_prefix("given_py_l", "sur_py_r")}) OR '
              f'("given_py_l" = "sur_py_r" AND {_prefix("sur_py_l", "given_py_r")}))')

COMPARISONS: list[dict[str, Any]] = [
    {"output_column_name": "name", "comparison_levels": [
        _null("name_key"),
        _level('"name_l" = "name_r"', "same name", 0.85, 0.0005, tf="name"),
        _level('"name_key_l" = "name_key_r"', "same pinyin in any order or script", 0.08, 0.0008, tf="name_key"),
        _level('"name_syl_l" = "name_syl_r"', "same syllables in another order", 0.01, 0.0002),
        _level(_TRUNCATED, "given name truncated or extended", 0.03, 0.002),
        _level('levenshtein("name_l", "name_r") <= 1 AND length("name_l") >= 2 AND length("name_r") >= 2',
               "one character differs", 0.02, 0.01),
        _level("ELSE", "different", 0.02, 0.9877),
    ]},
    {"output_column_name": "birth_date", "comparison_levels": [
        _null("dob"),
        _level('"dob_l" = "dob_r"', "same date", 0.95, 0.00006),
        _level('"dob_l" = "dob_t_r"', "day and month transposed", 0.02, 0.00006),
        _level("ELSE", "different", 0.03, 0.99988),
    ]},
    {"output_column_name": "phone", "comparison_levels": [
        _null("phone_n"),
        _level('"phone_n_l" = "phone_n_r"', "same number", 0.70, 0.000002),
        _level("ELSE", "different", 0.30, 0.999998),
    ]},
    {"output_column_name": "address", "comparison_levels": [
        _null("addr"),
        _level('"addr_l" = "addr_r"', "same address", 0.60, 0.00002),
        _level('"addr_tail_l" = "addr_tail_r"', "same street, compound and room", 0.30, 0.00003),
        _level("ELSE", "different", 0.10, 0.99995),
    ]},
]

# Candidate pairs: records sharing a birth date, a phone number, or a name's sound with the end of the
# address or the birth year. Each rule keeps the number of pairs near-linear in the number of records.
BLOCKING_RULES = [
    'l."dob" = r."dob"',
    'l."phone_n" = r."phone_n"',
    'l."name_key" = r."name_key" AND substr(l."addr_tail", -6) = substr(r."addr_tail", -6)',
    'l."name_key" = r."name_key" AND substr(l."dob", 1, 4) = substr(r."dob", 1, 4)',
]

FEATURE_COLUMNS = ["name", "sur_py", "given_py", "name_key", "name_syl", "dob", "dob_t", "phone_n", "addr",
                   "addr_tail"]


def default_model() -> dict[str, Any]:
    """The starting model (untrained) as a versioned, JSON-serialisable dictionary."""
    return {"version": MODEL_VERSION, "trained_at": None, "training": None, "upper_probability": UPPER_PROBABILITY,
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
