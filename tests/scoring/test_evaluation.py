"""``model evaluate`` says which rows it scored: the training rows are in-sample (never validation), the rows
held out of training are the in-time validation, a later observation is out-of-time."""

from __future__ import annotations

import pytest

from openbureau.scoring import training
from openbureau.scoring.evaluation import evaluate_labelled
from openbureau.scoring.scorecard import SCALES
from tests.scoring import synthetic


@pytest.fixture(scope="module")
def trained():
    data = synthetic.training_set(2_000)
    return data, training.train_bureau(data, scale=SCALES["300-850"], version="eval-1")


def _labels(sets) -> list[tuple[str, bool | None, int]]:
    return [(s.label, s.validation, s.result["rows"]) for s in sets]


def test_the_training_sample_is_split_back_into_in_sample_and_hold_out(trained) -> None:
    data, card = trained
    sets = evaluate_labelled(card, data.frame(), data.bad, observation_period="2025-06")
    assert _labels(sets) == [("in-sample", False, 1_400), ("in-time hold-out", True, 600)]
    assert sets[1].result["auc"] == pytest.approx(card.validation["auc"])  # exactly the rows held out in training
    assert sets[0].result["auc"] != pytest.approx(card.validation["auc"])


def test_another_observation_is_out_of_time_and_a_changed_sample_is_not_validation(trained) -> None:
    _, card = trained
    later = synthetic.training_set(1_000, seed=99)
    (s,) = evaluate_labelled(card, later.frame(), later.bad, observation_period="2025-09")
    assert (s.label, s.validation, s.result["rows"]) == ("out-of-time", True, 1_000) and "later" in s.note
    (s,) = evaluate_labelled(card, later.frame(), later.bad, observation_period="2025-06")
    assert (s.label, s.validation) == ("in-time, overlapping the training sample", False)
    assert "not validation" in s.note
    tabular = training.train_table(training.Table(later.frame(), later.bad, []), scale=SCALES["300-850"],
                                   version="t", source="t.csv", target="bad")
    (s,) = evaluate_labelled(tabular, later.frame().iloc[:500], later.bad[:500])  # part of it: not the same table
    assert (s.label, s.validation, s.result["rows"]) == ("another table", None, 500)
