"""The fairness report: attributes read from resident ID numbers, figures per group, the four-fifths ratio
flagged under 0.8, small groups reported as too small; and no feature of the model derives from them."""

from __future__ import annotations

import inspect
from datetime import date

import numpy as np
import pytest

from openbureau.present.validation import validation_html
from openbureau.scoring import fairness, features, training
from openbureau.scoring.scorecard import SCALES
from tests.scoring import synthetic

PROTECTED_WORDS = ("gender", "sex", "age", "birth", "region", "province", "id_number", "resident", "name")


def test_attributes_come_from_the_resident_id_number() -> None:
    # 110105 (Beijing, east), born 1990-07-15, 17th digit 3: a man, 34 on 2025-06-30 (35 on 2025-07-15).
    assert fairness.attributes_of("110105199007150037", date(2025, 6, 30)) == {
        "gender": "male", "age_band": "25-34", "region": "east"}
    assert fairness.attributes_of("110105199007150037", date(2025, 7, 15))["age_band"] == "35-44"
    assert fairness.attributes_of("510104200102280048", date(2025, 6, 30)) == {
        "gender": "female", "age_band": "under 25", "region": "west"}
    assert fairness.attributes_of("230102195001010011", date(2025, 6, 30))["region"] == "north-east"
    unknown = dict.fromkeys(fairness.ATTRIBUTES, "unknown")
    assert fairness.attributes_of(None, date(2025, 6, 30)) == unknown  # a passport holder
    assert fairness.attributes_of("11010519901345003X", date(2025, 6, 30)) == unknown  # month 13
    assert fairness.attributes_of("E12345678", date(2025, 6, 30)) == unknown


def test_the_four_fifths_ratio_is_flagged_and_small_groups_are_not_computed() -> None:
    rng = np.random.default_rng(1)
    n = 1_000
    group = np.array(["a"] * 500 + ["b"] * 440 + ["c"] * 60)
    score = np.where(group == "a", rng.uniform(600, 800, n), rng.uniform(550, 760, n))
    bad = (rng.uniform(size=n) < np.where(score < 650, 0.08, 0.01)).astype(int)
    probability = np.where(score < 650, 0.08, 0.01)
    report = fairness.report(bad=bad, score=score, probability=probability, groups={"g": group.tolist()},
                             cutoff=670)
    g = report["attributes"]["g"]
    a, b = g["groups"]["a"], g["groups"]["b"]
    assert g["reference"] == "a" and a["impact_ratio"] == 1.0 and not a["adverse_impact"]
    assert b["approval_rate"] == pytest.approx(float((score[group == "b"] >= 670).mean()))
    assert b["impact_ratio"] == pytest.approx(b["approval_rate"] / a["approval_rate"]) and b["impact_ratio"] < 0.8
    assert g["breached"] == ["b"] and b["adverse_impact"]
    assert g["groups"]["c"] == {"rows": 60, "too_small": True} and g["too_small"] == ["c"]
    assert 0.5 < a["auc"] <= 1 and a["within"] and report["threshold"] == 0.8 and report["cutoff"] == 670


def test_no_feature_of_a_bureau_model_derives_from_a_protected_attribute() -> None:
    # Features are computed from tradelines and inquiries only: nothing about the person reaches them.
    assert list(inspect.signature(features.point_in_time).parameters) == ["tradelines", "hard_inquiries", "observed"]
    for name in features.FEATURE_NAMES:
        assert not set(name.split("_")) & set(PROTECTED_WORDS), name
    card = training.train_bureau(synthetic.training_set(1_000), scale=SCALES["300-850"], version="f")
    assert {f["name"] for f in card.feature_schema} == set(features.FEATURE_NAMES)


def test_the_report_shows_fairness_and_flags() -> None:
    data = synthetic.training_set(1_500)
    card = training.train_bureau(data, scale=SCALES["300-850"], version="fair-1")
    result = training.evaluate(card, data.frame(), data.bad)
    gender = ["male" if i % 3 else "female" for i in range(len(data.bad))]
    age = ["25-34"] * 1_450 + ["65+"] * 50
    score, probability = training.score_frame(card, data.frame())
    result["fairness"] = fairness.report(bad=data.bad, score=score, probability=probability,
                                         groups={"gender": gender, "age_band": age}, cutoff=670)
    page = validation_html(card, result, title="Validation")
    assert "Fairness" in page and "four-fifths" in page.lower() and "too small" in page
    assert "Gender" in page and "Age band" in page and "95% interval" in page
