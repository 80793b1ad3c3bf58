"""API schemas of the signals domain."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class SignalCode(StrEnum):
    """Stable codes of the risk signals."""

    MULTI_LENDING = "MULTI_LENDING"
    OVER_INDEBTEDNESS = "OVER_INDEBTEDNESS"
    RECENT_DELINQUENCY = "RECENT_DELINQUENCY"
    IDENTITY_CONFLICT = "IDENTITY_CONFLICT"
    # Fraud signals, computed by the fraud domain (docs/fraud.md).
    RING = "RING"
    VELOCITY = "VELOCITY"
    CONTACT_CHANGE = "CONTACT_CHANGE"
    SYNTHETIC_IDENTITY = "SYNTHETIC_IDENTITY"
    FRAUD_LIST = "FRAUD_LIST"


CREDIT_SIGNALS = (SignalCode.MULTI_LENDING, SignalCode.OVER_INDEBTEDNESS, SignalCode.RECENT_DELINQUENCY,
                  SignalCode.IDENTITY_CONFLICT)


class Severity(StrEnum):
    """How strongly a signal speaks."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RiskSignal(BaseModel):
    """One risk signal: whether it triggered, why, and the figures and thresholds behind it."""

    code: SignalCode
    triggered: bool
    severity: Severity
    explanation: str = Field(description="Plain-language explanation for the lender and the person.")
    values: dict[str, float | int | str | None] = Field(description="The figures the signal was computed from.")
    thresholds: dict[str, float | int] = Field(description="The thresholds in force (settings).")
