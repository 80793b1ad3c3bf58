"""Reason codes: the four factors that cost the most points, then inquiries as a fifth when they counted but
did not make the four (docs/scoring.md); the person's view lists what would raise the score."""

from __future__ import annotations

from openbureau.scoring import service
from openbureau.scoring.features import FEATURE_BY_NAME
from openbureau.scoring.scorecard import Scored


def scored(lost: dict[str, float]) -> Scored:
    """A score whose features fell ``lost`` points below their best bins."""
    return Scored(score=600, raw=0.0, probability_bad=0.1, segment="main", points={n: 0.0 for n in lost}, lost=lost)


def codes(lost: dict[str, float]) -> list[str]:
    return [r.code for r in service.reasons(scored(lost))]


def code(name: str) -> str:
    return FEATURE_BY_NAME[name].reason


FIVE_WITHOUT_INQUIRIES = {"late_90_24m": 40.04, "worst_status_6m": 30.0, "past_due_amount": 20.34,
                          "late_30_24m": 10.0, "late_60_24m": 5.0}


def test_at_most_four_key_factors_the_costliest_first() -> None:
    reasons = service.reasons(scored(FIVE_WITHOUT_INQUIRIES))
    assert [r.code for r in reasons] == [code("late_90_24m"), code("worst_status_6m"), code("past_due_amount"),
                                         code("late_30_24m")]
    assert [r.points for r in reasons] == [40.0, 30.0, 20.3, 10.0]  # to a tenth of a point
    assert reasons[0].text == FEATURE_BY_NAME["late_90_24m"].reason_text


def test_inquiries_that_cost_points_are_added_as_a_fifth_reason() -> None:
    lost = {**FIVE_WITHOUT_INQUIRIES, "hard_inquiries_6m": 2.0}
    assert codes(lost) == [code("late_90_24m"), code("worst_status_6m"), code("past_due_amount"),
                           code("late_30_24m"), code("hard_inquiries_6m")]
    both = {**FIVE_WITHOUT_INQUIRIES, "hard_inquiries_12m": 3.0, "hard_inquiries_6m": 1.0}
    assert codes(both)[4:] == [code("hard_inquiries_12m")]  # one inquiry reason: the costlier of the two


def test_inquiries_among_the_four_are_not_repeated_and_no_fifth_is_added() -> None:
    lost = {**FIVE_WITHOUT_INQUIRIES, "hard_inquiries_6m": 25.0, "hard_inquiries_12m": 1.0}
    assert codes(lost) == [code("late_90_24m"), code("worst_status_6m"), code("hard_inquiries_6m"),
                           code("past_due_amount")]


def test_a_factor_that_cost_under_half_a_point_is_no_reason() -> None:
    assert codes({"late_90_24m": 0.5, "past_due_amount": 0.49, "hard_inquiries_6m": 0.4}) == [code("late_90_24m")]
    assert codes({"past_due_amount": 0.0}) == []


def test_a_table_models_column_gets_a_code_of_its_own() -> None:
    (reason,) = service.reasons(scored({"x_ratio": 12.34}))
    assert (reason.code, reason.text, reason.points) == ("F_X_RATIO", "x_ratio lowered the score", 12.3)
    long = "c" * 60  # a code is at most 48 characters (the column's width)
    assert [r.code for r in service.reasons(scored({long: 1.0}))] == ["F_" + "C" * 46]
    assert [i.code for i in service.improvements(scored({long: 1.0}))] == ["F_" + "C" * 46]


def test_the_persons_view_lists_every_feature_below_its_best_the_most_points_first() -> None:
    lost = {**FIVE_WITHOUT_INQUIRIES, "hard_inquiries_6m": 0.5, "late_30_24m": 0.3, "x_ratio": 7.06}
    shown = service.improvements(scored(lost))
    assert [(i.code, i.points) for i in shown] == [
        (code("late_90_24m"), 40.0), (code("worst_status_6m"), 30.0), (code("past_due_amount"), 20.3),
        ("F_X_RATIO", 7.1), (code("late_60_24m"), 5.0), (code("hard_inquiries_6m"), 0.5)]
    assert shown[0].advice == FEATURE_BY_NAME["late_90_24m"].advice and shown[3].advice == "a better value of x_ratio"
