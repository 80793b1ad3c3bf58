"""The scoring benchmark's own measures: which engine ``auto`` keeps per fold, and the calibration error."""

from __future__ import annotations

import numpy as np
import pytest
from bench.scoring_tables import auto_choices, calibration_error


def test_auto_chooses_each_fold_without_looking_at_it() -> None:
    scorecard = [0.80, 0.80, 0.80, 0.80, 0.80]
    additive = [0.90, 0.70, 0.81, 0.81, 0.81]
    # Fold 1 is judged without its own 0.90: the other folds' additive mean (0.7825) is below the scorecard's.
    # Fold 2 is judged without its own 0.70: the others' mean (0.8325) is above. A tie keeps the scorecard.
    assert auto_choices(scorecard, additive) == ["scorecard", "additive", "additive", "additive", "additive"]
    assert auto_choices([0.8] * 3, [0.8] * 3) == ["scorecard"] * 3


def test_calibration_error_is_zero_when_stated_and_observed_rates_agree() -> None:
    probability = np.repeat([0.1, 0.5], 10)
    bad = np.array([1] + [0] * 9 + [1] * 5 + [0] * 5)
    assert calibration_error(bad, probability, groups=2) == 0.0
    assert calibration_error(bad, np.full(20, 0.3), groups=2) == pytest.approx(0.2)  # |0.3-0.1|, |0.3-0.5|
