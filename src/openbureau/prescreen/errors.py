"""Error codes of prescreening (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

PRESCREEN_NOT_AVAILABLE = "PRESCREEN_NOT_AVAILABLE"  # the profile allows no prescreening (CN: PIPL, Art. 18)
PRESCREEN_NOT_FOUND = "PRESCREEN_NOT_FOUND"  # unknown, or another lender's
NO_CRITERIA = "NO_CRITERIA"  # a prescreen must say whom it selects
INVALID_SCORE_RANGE = "INVALID_SCORE_RANGE"  # score_min above score_max
SCORE_OUT_OF_SCALE = "SCORE_OUT_OF_SCALE"  # a bound outside the released scorecard's scale
NO_RELEASED_MODEL = "NO_RELEASED_MODEL"  # a score range without a released scorecard
INVALID_REGION = "INVALID_REGION"  # not a US state code or a ZIP code prefix
OPT_OUT_NOT_FOUND = "OPT_OUT_NOT_FOUND"  # opting back in without an opt-out in force
