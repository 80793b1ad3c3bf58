"""The additive engine: its JSON points tables reproduce the boosted model, stay monotone where credit logic
says, give the costliest terms as reasons, and ``auto`` keeps the engine with the better cross-validated AUC."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from openbureau.scoring import engines, service, training
from openbureau.scoring.additive import MONOTONE, AdditiveModel, ebm_frame, export_segment, fit_ebm
from openbureau.scoring.features import FEATURE_BY_NAME
from openbureau.scoring.scorecard import SCALES
from tests.scoring import synthetic

SCALE = SCALES["300-850"]


def _row(record: dict) -> dict:
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()}


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Bad rate rising with utilisation, U-shaped in age, higher in the 'risky' channel, some values missing."""
    rng = np.random.default_rng(11)
    n = 3_000
    utilisation = rng.uniform(0, 1, n)
    age = rng.uniform(18, 80, n)
    channel = rng.choice(["branch", "app", "risky"], n, p=[0.4, 0.4, 0.2])
    logit = -2.5 + 2.5 * utilisation + ((age - 49) / 18) ** 2 + np.where(channel == "risky", 1.0, 0.0)
    bad = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"revolving_utilisation": utilisation, "age": age, "channel": channel})
    frame.loc[rng.choice(n, 150, replace=False), "revolving_utilisation"] = np.nan
    return frame, bad, ["channel"]


@pytest.fixture(scope="module")
def fitted(sample):
    """An EBM fitted on the first 2,000 rows (utilisation monotone), and its export read back from JSON text."""
    frame, bad, categorical = sample
    ebm, _ = fit_ebm(frame.iloc[:2000], bad[:2000], categorical=categorical, monotone=MONOTONE, interactions=3)
    segment = export_segment(ebm, scale=SCALE, monotone=MONOTONE)
    model = AdditiveModel("add-1", "table", SCALE, {"main": segment})
    return ebm, engines.from_json(json.loads(json.dumps(model.to_json())))


def test_the_json_tables_reproduce_the_boosted_models_log_odds_on_held_out_rows(sample, fitted) -> None:
    frame, _, categorical = sample
    ebm, model = fitted
    held_out = frame.iloc[2000:].copy()
    held_out.loc[held_out.index[:5], "channel"] = "never-seen"  # unseen categories score as interpret does
    held_out.loc[held_out.index[5:10], "channel"] = None  # and so do missing ones
    expected = ebm.decision_function(ebm_frame(held_out, categorical))
    log_odds_bad = [(SCALE.offset - model.score(_row(r)).raw) / SCALE.factor for r in held_out.to_dict("records")]
    assert isinstance(model, AdditiveModel) and any(len(t.features) == 2 for t in model.segments["main"].terms)
    assert np.max(np.abs(np.array(log_odds_bad) - expected)) < 1e-9
    probability = [model.score(_row(r)).probability_bad for r in held_out.head(50).to_dict("records")]
    assert np.allclose(probability, ebm.predict_proba(ebm_frame(held_out.head(50), categorical))[:, 1], atol=1e-9)


def test_monotone_features_are_monotone_in_the_exported_tables_and_in_no_interaction(fitted) -> None:
    _, model = fitted
    terms = model.segments["main"].terms
    (utilisation,) = [t for t in terms if t.features == ["revolving_utilisation"]]
    shape = utilisation.points[1:-1]  # without the missing and unseen bins
    assert utilisation.monotone == 1 and len(shape) > 5
    assert all(b <= a + 1e-9 for a, b in zip(shape, shape[1:], strict=False))  # more use never earns points
    assert shape[0] - shape[-1] > 40  # and the shape is not flat: high use costs
    assert not any("revolving_utilisation" in t.features for t in terms if len(t.features) == 2)
    (age,) = [t for t in terms if t.features == ["age"]]
    middle = age.points[len(age.points) // 2]
    assert middle > age.points[1] and middle > age.points[-2]  # unconstrained: the U shape is kept


def test_reasons_are_the_terms_that_cost_the_most_points(fitted) -> None:
    _, model = fitted
    row = {"revolving_utilisation": 0.97, "age": 33.0, "channel": "risky"}
    scored = model.score(row)
    terms = model.segments["main"].terms
    lost = {}
    for term in terms:
        gap = term.best_points - term.points_of(row)
        for name in term.features:
            lost[name] = lost.get(name, 0.0) + gap / len(term.features)
    assert scored.lost == pytest.approx(lost)
    assert sum(scored.points.values()) + model.segments["main"].base_points == pytest.approx(scored.raw)
    reasons = service.reasons(scored)
    costliest = sorted(lost, key=lambda name: -lost[name])
    assert [r.code for r in reasons] == [FEATURE_BY_NAME["revolving_utilisation"].reason, "F_CHANNEL", "F_AGE"]
    assert costliest == ["revolving_utilisation", "channel", "age"]
    assert [r.points for r in reasons] == [round(lost[name], 1) for name in costliest]
    best = model.score({"revolving_utilisation": 0.0, "age": 49.0, "channel": "branch"})
    assert best.score > scored.score and service.improvements(scored)[0].points == reasons[0].points


def test_a_bureau_model_of_either_engine_trains_validates_and_round_trips() -> None:
    data = synthetic.training_set(2_000)
    for engine in engines.ENGINES:
        card = training.train_bureau(data, scale=SCALES["350-950"], version=f"b-{engine}", engine=engine)
        assert engines.engine_of(card) == engine and card.training["engine"] == engine
        assert card.validation["auc"] > 0.7 and card.training["thin_segment"].startswith("too few thin files")
        again = engines.from_json(json.loads(service.artefact_text(card)))
        rows = data.rows[:100]
        assert [again.score(r).raw for r in rows] == [card.score(r).raw for r in rows]
        assert all(350 <= card.score(r).score <= 950 for r in rows)


def test_auto_keeps_the_engine_with_the_better_cross_validated_auc() -> None:
    rng = np.random.default_rng(5)
    n = 1_500
    x, noise = rng.uniform(-3, 3, n), rng.uniform(0, 1, n)
    bad = np.where(np.abs(x) > 2.2, rng.uniform(0, 1, n) < 0.7, rng.uniform(0, 1, n) < 0.08)  # bad at both ends
    table = training.Table(pd.DataFrame({"x": x, "noise": noise}), bad.astype(int), [])
    choice = training.choose_table(table, scale=SCALE, folds=3)
    # Risk is U-shaped in x: monotone bins cannot follow it, additive shapes can.
    assert choice.engine == "additive" and choice.mean("additive") > choice.mean("scorecard") + 0.1
    assert len(choice.auc["scorecard"]) == len(choice.auc["additive"]) == 3
    card = training.train_table(table, scale=SCALE, version="auto-1", source="u.csv", target="bad", engine="auto")
    assert engines.engine_of(card) == "additive" and card.training["engine_choice"]["engine"] == "additive"


def test_auto_on_the_bureau_cross_validates_both_engines_on_the_training_rows(monkeypatch) -> None:
    monkeypatch.setattr(engines, "AUTO_FOLDS", 2)
    data = synthetic.training_set(1_500)
    card = training.train_bureau(data, scale=SCALE, version="b-auto", engine="auto")
    choice = card.training["engine_choice"]
    means = choice["mean_auc"]
    assert choice["folds"] == 2 and all(len(v) == 2 for v in choice["auc"].values())
    assert min(means.values()) > 0.65
    assert engines.engine_of(card) == card.training["engine"] == choice["engine"] == (
        "additive" if means["additive"] > means["scorecard"] else "scorecard")
