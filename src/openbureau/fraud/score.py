"""The fraud-risk score: its features, read from the fraud and velocity signals a report computed already, and
the score of one person with its reasons in plain words.

The features are the signals' own figures (``values``), so an inquiry computes them in memory from what it
read for the signals (no other statement), and training computes them through the same report assembly
(``reports.fraud_training``): the two cannot drift apart.

The score is 0-999 and **higher means more risk** (unlike the credit score): ``FRAUD_SCALE`` puts 500 at even
odds of fraud and adds 50 points each time the odds of fraud double. Reasons are the features that added the
most points above their least-risk bin, up to four.

Example:
    >>> values = fraud_features(report.signals, now=now)
    >>> score_fraud(card, values).score
    712
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from openbureau.fraud.schemas import FraudScoreView
from openbureau.kit.periods import months_between
from openbureau.scoring.schemas import Reason
from openbureau.scoring.scorecard import Scale, Scorecard
from openbureau.signals.schemas import RiskSignal, SignalCode

MAX_REASONS = 4
MIN_REASON_POINTS = 0.5
FRAUD_SCALE = Scale("0-999", 0, 999, 500.0, 1.0, -50.0,
                    ((0, "low"), (300, "medium"), (500, "high"), (700, "very high")))


@dataclass(frozen=True, slots=True)
class FraudFeature:
    """One feature of the fraud-risk score, and the reason it gives when it adds risk."""

    name: str
    description: str
    reason: str  # stable reason code
    reason_text: str  # plain words, shown to the lender and the person


FRAUD_FEATURES: tuple[FraudFeature, ...] = (
    FraudFeature("ring_size", "Persons in the person's ring (linked by phones or addresses that different lenders "
                 "reported), the person included; 0 outside any ring.", "RING_LINKED",
                 "Shares a phone number or address with other persons, reported by different lenders"),
    FraudFeature("ring_delinquent_share", "Share of the ring's persons 30 or more days past due in the ring "
                 "window; missing outside any ring.", "RING_DELINQUENT",
                 "Persons sharing contact details with this one have fallen behind on payments"),
    FraudFeature("ring_lenders", "Lenders that reported the ring's shared phones and addresses; 0 outside any ring.",
                 "RING_LENDERS", "Several lenders reported the shared contact details"),
    FraudFeature("ring_age_months", "Months since the ring was first seen; missing outside any ring.", "RING_NEW",
                 "The group of persons sharing contact details appeared recently"),
    FraudFeature("shared_attributes", "The person's own phones and addresses that link them to a ring.",
                 "SHARED_DETAILS", "The phone number or address is also given for unrelated persons"),
    FraudFeature("lenders_1d", "Distinct lenders with new credit (accounts opened, applications, hard inquiries) "
                 "in the last 24 hours.", "VELOCITY_1D", "Several lenders were approached within 24 hours"),
    FraudFeature("lenders_7d", "Distinct lenders with new credit in the last 7 days.", "VELOCITY_7D",
                 "Several lenders were approached within a week"),
    FraudFeature("lenders_30d", "Distinct lenders with new credit in the last 30 days.", "VELOCITY_30D",
                 "Several lenders were approached within a month"),
    FraudFeature("lenders_180d", "Distinct lenders with new credit in the last 180 days.", "NEW_CREDIT_6M",
                 "Credit was sought from many lenders in the last six months"),
    FraudFeature("contact_changed", "1 when a phone or address put on an existing account shortly before was then "
                 "given with new credit in the last 7 days (CONTACT_CHANGE).", "CONTACT_CHANGED",
                 "The phone number or address changed recently"),
    FraudFeature("file_age_months", "Months since the first credit account was opened; missing without one.",
                 "FILE_YOUNG", "The credit file is young"),
    FraudFeature("identity_conflicts", "Birth-date and name conflicts between lenders' records.",
                 "IDENTITY_CONFLICT", "Lenders disagree on the person's name or birth date"),
    FraudFeature("fraud_reports", "Confirmed fraud reports in force on the fraud list.", "FRAUD_LIST",
                 "A lender reported confirmed fraud on this file"),
)
FRAUD_FEATURE_NAMES = tuple(f.name for f in FRAUD_FEATURES)
FRAUD_FEATURE_BY_NAME = {f.name: f for f in FRAUD_FEATURES}


def _number(value) -> float | None:
    return None if value is None else float(value)


def fraud_features(signals: Sequence[RiskSignal], *, now: datetime) -> dict[str, float | None]:
    """The fraud-risk features of one person, from the report's signals (``MULTI_LENDING``, ``RING``,
    ``VELOCITY``, ``CONTACT_CHANGE``, ``SYNTHETIC_IDENTITY``, ``FRAUD_LIST``) as computed at ``now``."""
    by_code = {s.code: s.values for s in signals}
    ring = by_code.get(SignalCode.RING, {})
    multi = by_code.get(SignalCode.MULTI_LENDING, {})
    velocity = by_code.get(SignalCode.VELOCITY, {})
    contact = by_code.get(SignalCode.CONTACT_CHANGE, {})
    synthetic = by_code.get(SignalCode.SYNTHETIC_IDENTITY, {})
    listed = by_code.get(SignalCode.FRAUD_LIST, {})
    size = int(ring.get("ring_size") or 0)
    period = f"{now:%Y-%m}"
    first_seen = ring.get("first_seen") if size else None
    first_account = synthetic.get("first_account")
    return {
        "ring_size": float(size),
        "ring_delinquent_share": _number(ring.get("delinquent_share")) if size else None,
        "ring_lenders": float(ring.get("lenders") or 0) if size else 0.0,
        "ring_age_months": float(months_between(str(first_seen), period)) if first_seen else None,
        "shared_attributes": float(synthetic.get("shared_attributes") or 0),
        "lenders_1d": float(velocity.get("lenders_1d") or multi.get("lenders_1d") or 0),
        "lenders_7d": float(velocity.get("lenders_7d") or multi.get("lenders_7d") or 0),
        "lenders_30d": float(multi.get("lenders_30d") or 0),
        "lenders_180d": float(multi.get("lenders_180d") or 0),
        "contact_changed": 1.0 if contact.get("recent_changes") else 0.0,
        "file_age_months": (float(months_between(f"{date.fromisoformat(str(first_account)):%Y-%m}", period))
                            if first_account else None),
        "identity_conflicts": float(int(synthetic.get("birth_date_conflict") or 0)
                                    + int(synthetic.get("name_conflict") or 0)),
        "fraud_reports": float(listed.get("reports") or 0),
    }


def fraud_reasons(lost: dict[str, float]) -> list[Reason]:
    """Up to four features that added the most risk, in plain words."""
    ranked = sorted(((p, n) for n, p in lost.items() if p >= MIN_REASON_POINTS), reverse=True)[:MAX_REASONS]
    return [Reason(code=FRAUD_FEATURE_BY_NAME[n].reason, text=FRAUD_FEATURE_BY_NAME[n].reason_text, points=round(p, 1))
            for p, n in ranked if n in FRAUD_FEATURE_BY_NAME]


def score_fraud(card: Scorecard, values: dict[str, float | None]) -> FraudScoreView:
    """The fraud-risk score of one person's feature ``values`` by the released fraud model."""
    scored = card.score(values)
    return FraudScoreView(score=scored.score, band=card.scale.band(scored.score), scale=card.scale.name,
                          model_version=card.model_version, probability_fraud=round(scored.probability_bad, 5),
                          reasons=fraud_reasons(scored.lost))
