"""API schemas of the scoring domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Reason(BaseModel):
    """A key factor that lowered the score."""

    code: str = Field(description="Stable reason code (docs/scoring.md).")
    text: str
    points: float = Field(description="Points below the best this factor can earn.")


class Improvement(BaseModel):
    """Something that would raise the score, and by about how much."""

    code: str
    advice: str
    points: float = Field(description="Points it could add, all else equal.")


class ScoreView(BaseModel):
    """A person's score from the released model, with the reasons behind it."""

    scorable: bool
    score: int | None
    band: str | None
    scale: str
    model_version: str
    segment: str | None = Field(description="main or thin (a thin file's own scorecard).")
    probability_bad: float | None = Field(description="Modelled chance of 90+ days past due or charge-off in 12 "
                                                      "months.")
    reasons: list[Reason] = Field(description="Up to 4 key factors that lowered the score, plus inquiries when "
                                              "they counted.")
    unscorable_reason: str | None = Field(description="Why no score: NO_FILE, NO_RECENT_ACTIVITY, TOO_LITTLE_HISTORY.")
    improvements: list[Improvement] | None = Field(default=None, description="The person's view only: what "
                                                                             "would raise the score.")


class ModelRead(BaseModel):
    """A registered model."""

    version: str
    kind: str
    scale: str
    created_at: datetime
    created_by: str
    released_at: datetime | None
    auc: float | None
    ks: float | None
    gini: float | None
    training: dict
