"""Calibration by band: the observed rate's Wilson interval, the bands outside it flagged, a Platt
recalibration kept in the JSON artefact and applied by the model itself (no library on the inquiry path)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from openbureau.kit.errors import Unprocessable
from openbureau.scoring import calibration, engines, metrics, training
from openbureau.scoring.scorecard import SCALES
from tests.scoring import synthetic


def test_the_wilson_interval_stays_inside_0_1_and_holds_the_rate() -> None:
    low, high = calibration.wilson(4, 1_000)
    assert low == pytest.approx(0.001557, abs=1e-6) and high == pytest.approx(0.010239, abs=1e-6)
    assert calibration.wilson(0, 50)[0] == 0.0 and 0.05 < calibration.wilson(0, 50)[1] < 0.08  # no bads: not [0, 0]
    assert calibration.wilson(50, 50)[1] == 1.0 and calibration.wilson(0, 0) == (0.0, 1.0)


def test_each_band_carries_its_interval_and_a_flag_when_the_prediction_lies_outside() -> None:
    bad = np.array([1] * 10 + [0] * 90 + [1] * 1 + [0] * 99)
    score = np.array([500.0] * 100 + [800.0] * 100)
    probability = np.array([0.1] * 100 + [0.2] * 100)  # right at 500, far too high at 800
    bands = metrics.calibration(bad=bad, score=score, probability=probability, edges=[300.0, 700.0, 851.0])
    assert [(b["rows"], b["bads"], b["within"]) for b in bands] == [(100, 10, True), (100, 1, False)]
    assert bands[1]["interval"][0] < 0.01 < bands[1]["interval"][1] < 0.2
    assert calibration.check(bands) == {"bands": 2, "outside": ["700-851"], "agrees": False, "interval": "Wilson, simultaneous 95%"}


def test_platt_scaling_recovers_a_known_distortion() -> None:
    rng = np.random.default_rng(3)
    model_logit = rng.normal(-3.5, 1.2, 40_000)
    truth = 0.6 + 0.7 * model_logit  # the model's log-odds are too extreme, and too low on the whole
    bad = (rng.uniform(size=model_logit.size) < 1 / (1 + np.exp(-truth))).astype(int)
    slope, intercept = calibration.fit_platt(bad, 1 / (1 + np.exp(-model_logit)))
    assert slope == pytest.approx(0.7, abs=0.05) and intercept == pytest.approx(0.6, abs=0.2)


@pytest.fixture(scope="module", params=engines.ENGINES)
def recalibrated(request):
    """A model of each engine trained on one synthetic sample, recalibrated on a later one whose bad rate is
    higher (the model under-predicts there)."""
    data = synthetic.training_set(2_000)
    card = training.train_bureau(data, scale=SCALES["300-850"], version=f"c-{request.param}", engine=request.param)
    later = synthetic.training_set(3_000, seed=11, shift=0.7)  # the same files' risk, twice the odds of bad
    new = training.recalibrate(card, later.frame(), later.bad, version=f"c-{request.param}-r",
                               observation_period="2025-09")
    return card, new, later, later.bad


def test_the_recalibrated_model_round_trips_and_scores_with_its_mapping(recalibrated) -> None:
    card, new, later, _ = recalibrated
    r = new.recalibration
    assert r["method"] == "platt" and set(r["segments"]) == {"main"} and r["observation_period"] == "2025-09"
    assert new.training["recalibrated_from"] == card.model_version and card.recalibration is None
    text = json.dumps(new.to_json())
    assert json.loads(text)["format_version"] == 2 and json.loads(text)["recalibration"] == r
    assert card.to_json()["format_version"] == 1 and "recalibration" not in card.to_json()
    back = engines.from_json(json.loads(text))
    slope, intercept = r["segments"]["main"]["slope"], r["segments"]["main"]["intercept"]
    for row in later.frame().head(50).to_dict("records"):
        row = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        before, after, read = card.score(row), new.score(row), back.score(row)
        assert (after.score, after.lost) == (before.score, before.lost)  # scores and reasons never move
        logit = (card.scale.offset - before.score) / card.scale.factor  # the score as shown
        assert after.probability_bad == pytest.approx(1 / (1 + math.exp(-(intercept + slope * logit))), rel=1e-12)
        assert read.probability_bad == after.probability_bad
    with pytest.raises(ValueError, match="newer"):
        engines.from_json({**json.loads(text), "format_version": 3})


def test_after_recalibration_the_bands_agree_on_the_period_it_was_fitted_on(recalibrated) -> None:
    _, new, later, worse = recalibrated
    r = new.recalibration
    assert not r["before_check"]["agrees"] and r["after_check"]["agrees"]
    result = training.evaluate(new, later.frame(), worse)
    assert result["calibration_check"]["agrees"] and not result["calibration_before_check"]["agrees"]


def test_recalibration_refuses_the_training_period_and_too_few_bads(recalibrated) -> None:
    card, _, later, _ = recalibrated
    with pytest.raises(Unprocessable) as exc:
        training.recalibrate(card, later.frame(), later.bad, version="v", observation_period="2025-06")
    assert exc.value.code == "RECALIBRATION_IN_SAMPLE"
    few = np.zeros(len(later.bad), dtype=int)
    few[:3] = 1
    with pytest.raises(Unprocessable) as exc:
        training.recalibrate(card, later.frame(), few, version="v", observation_period="2025-09")
    assert exc.value.code == "TOO_LITTLE_CALIBRATION_DATA"


def test_scoring_a_recalibrated_model_imports_no_training_library(recalibrated, tmp_path) -> None:
    _, new, later, _ = recalibrated
    path = tmp_path / "model.json"
    path.write_text(json.dumps(new.to_json()))
    row = {k: v for k, v in later.rows[0].items() if v is not None}
    code = ("import json, sys; from openbureau.scoring import engines; "
            f"m = engines.from_json(json.load(open({str(path)!r}))); s = m.score({row!r}); "
            "bad = [n for n in ('sklearn', 'interpret', 'optbinning') if n in sys.modules]; "
            "print(s.probability_bad, bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert float(out[0]) == pytest.approx(new.score(later.rows[0]).probability_bad) and out[1] == "[]"


def test_auto_keeps_platt_when_it_agrees_and_isotonic_round_trips(recalibrated) -> None:
    card, _, later, worse = recalibrated
    auto = training.recalibrate(card, later.frame(), worse, version="a", observation_period="2025-09", method="auto")
    assert auto.recalibration["method"] == "platt" and auto.recalibration["chosen_by"] == {"platt": []}
    iso = training.recalibrate(card, later.frame(), worse, version="i", observation_period="2025-09",
                               method="isotonic")
    fit = iso.recalibration["segments"]["main"]
    assert iso.recalibration["method"] == "isotonic" and len(fit["logit"]) == len(fit["probability"]) >= 2
    assert fit["probability"] == sorted(fit["probability"]) and min(fit["probability"]) >= calibration.ISOTONIC_FLOOR
    back = engines.from_json(json.loads(json.dumps(iso.to_json())))
    scored = [(iso.score(r), back.score(r)) for r in later.rows[:300]]
    assert all(a.probability_bad == b.probability_bad for a, b in scored)
    # The probability never rises with the score (a higher score, no more risk).
    by_score = sorted((s.score, s.probability_bad) for s, _ in scored)
    assert all(p1 >= p2 - 1e-12 for (_, p1), (_, p2) in zip(by_score, by_score[1:], strict=False))
