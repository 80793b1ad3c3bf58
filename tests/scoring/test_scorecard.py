"""The scorecard engine: monotone points, missing values and unseen categories, exact JSON round trips, scaling."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from openbureau.scoring.scorecard import SCALES, Scorecard, fit_segment

SCALE = SCALES["300-850"]


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, np.ndarray]:
    """Bad rate rising with utilisation and with the 'risky' channel; age unrelated; some values missing."""
    rng = np.random.default_rng(3)
    n = 4_000
    utilisation = rng.uniform(0, 1, n)
    channel = rng.choice(["branch", "app", "risky"], n, p=[0.4, 0.4, 0.2])
    logit = -3 + 3 * utilisation + np.where(channel == "risky", 1.2, 0.0)
    bad = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"utilisation": utilisation, "channel": channel, "age": rng.integers(18, 70, n)})
    frame.loc[rng.choice(n, 200, replace=False), "utilisation"] = np.nan
    return frame, bad


def test_points_fall_as_the_bad_rate_of_a_bin_rises(sample) -> None:
    frame, bad = sample
    segment = fit_segment(frame, bad, categorical=["channel"], scale=SCALE)
    by_name = {f.name: f for f in segment.features}
    util = by_name["utilisation"]
    assert len(util.points) >= 3 and util.points == sorted(util.points, reverse=True)  # monotone
    assert util.event_rates == sorted(util.event_rates)
    channel = by_name["channel"]
    risky = channel.bin_of("risky")
    assert channel.points[risky] == min(channel.points)
    order = np.argsort(channel.event_rates)
    assert list(np.array(channel.points)[order]) == sorted(channel.points, reverse=True)


def test_missing_values_and_unseen_categories_earn_the_missing_points(sample) -> None:
    frame, bad = sample
    segment = fit_segment(frame, bad, categorical=["channel"], scale=SCALE)
    card = Scorecard(model_version="t1", kind="table", scale=SCALE, segments={"main": segment})
    util = next(f for f in segment.features if f.name == "utilisation")
    assert util.points_of(None) == util.points_of(float("nan")) == util.missing_points
    channel = next(f for f in segment.features if f.name == "channel")
    assert channel.bin_of("never-seen") is None and channel.points_of("never-seen") == channel.missing_points
    low, high = card.score({"utilisation": 0.05, "channel": "branch", "age": 40}), card.score(
        {"utilisation": 0.95, "channel": "risky", "age": 40})
    assert low.score > high.score and low.probability_bad < high.probability_bad
    assert high.lost["utilisation"] > low.lost["utilisation"] >= 0
    assert card.score({"utilisation": 0.0, "channel": "branch"}).lost["utilisation"] == 0  # the best bin


def test_the_json_artefact_scores_exactly_like_the_model(sample) -> None:
    frame, bad = sample
    card = Scorecard(model_version="t1", kind="table", scale=SCALE,
                     segments={"main": fit_segment(frame, bad, categorical=["channel"], scale=SCALE)})
    again = Scorecard.from_json(json.loads(json.dumps(card.to_json())))
    rows = frame.head(200).to_dict("records")
    assert [card.score(r).raw for r in rows] == [again.score(r).raw for r in rows]
    with pytest.raises(ValueError, match="not an OpenBureau scorecard"):
        Scorecard.from_json({"format": "pickle"})
    with pytest.raises(ValueError, match="newer"):
        Scorecard.from_json({**card.to_json(), "format_version": 99})


def test_points_double_the_odds_and_bands_follow_the_scale() -> None:
    for scale in SCALES.values():
        at_base = scale.offset + scale.factor * math.log(scale.base_odds)
        doubled = scale.offset + scale.factor * math.log(2 * scale.base_odds)
        assert math.isclose(at_base, scale.base_score) and math.isclose(doubled - at_base, scale.pdo)
    assert SCALES["300-850"].band(579) == "poor" and SCALES["300-850"].band(800) == "exceptional"
    assert SCALES["350-950"].band(620).endswith("good")


def test_a_feature_known_only_for_one_class_is_a_clean_cut_weighed_not_a_failure(sample) -> None:
    # Known (not missing) for bads only: no bin holds both, so optbinning cannot weigh it. The fit cuts it
    # itself (known / missing) with smoothed counts and weighs it; a feature never known is left out, named.
    frame, bad = sample
    frame = frame.assign(only_bads=np.where(bad == 1, 1.0, np.nan), never_known=np.nan)
    segment = fit_segment(frame, bad, categorical=["channel"], scale=SCALE)
    assert "never_known" in segment.dropped and "only_bads" not in segment.dropped
    only = {f.name: f for f in segment.features}["only_bads"]
    assert only.event_rates == [1.0] and only.counts == [int(bad.sum())]
    assert math.isfinite(only.points[0]) and only.points[0] < only.missing_points  # known means bad: fewer points
    card = Scorecard(model_version="t3", kind="table", scale=SCALE, segments={"main": segment})
    applicant = {"utilisation": 0.9, "channel": "risky", "age": 30}
    assert card.score(applicant | {"only_bads": 1.0}).score < card.score(applicant).score


def test_a_clean_cut_of_too_few_bads_is_left_out(sample) -> None:
    # Two bads alone in a bin are no evidence (min_bin_bads): one bad record must not earn a feature its weight.
    frame, bad = sample
    two = np.flatnonzero(bad == 1)[:2]
    frame = frame.assign(rare=np.where(np.isin(np.arange(len(bad)), two), 1.0, 0.0))
    segment = fit_segment(frame, bad, categorical=["channel"], scale=SCALE, min_bin_size=0.0001, min_bin_bads=3)
    assert "rare" in segment.dropped


def test_a_clean_cut_splits_a_numeric_feature_where_the_classes_part(sample) -> None:
    # Every bad has 3 or more, every good 0: optbinning leaves it as one bin; the cut falls between 0 and 3.
    frame, bad = sample
    frame = frame.assign(ring=np.where(bad == 1, 3.0 + np.arange(len(bad)) % 4, 0.0))
    segment = fit_segment(frame, bad, categorical=["channel"], scale=SCALE)
    ring = {f.name: f for f in segment.features}.get("ring")
    assert ring is not None and len(ring.splits) == 1 and 0.0 < ring.splits[0] < 3.0
    assert ring.bin_of(0.0) == 0 and ring.bin_of(5.0) == 1 and ring.points[1] < ring.points[0]
