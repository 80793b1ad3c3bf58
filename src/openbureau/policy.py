"""The bureau's policy, built once when the bureau opens (``runtime.policy``) and passed to services.

One object holds every rule a bureau may set: the jurisdiction profile (``consent.profiles``), whether only
members that furnish may query (reciprocity), which member role may hold a consent for each purpose, how far
a furnished balance may exceed its limit before intake warns, and the thresholds of the risk signals and of
the data-quality jobs. Services take it as an argument and never
read settings or fall back to defaults of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbureau.consent.profiles import JurisdictionProfile, Purpose, get_profile
from openbureau.consent.service import GRANTEE_ROLE
from openbureau.kit.settings import DEFAULT_BALANCE_TOLERANCE, Settings


class SignalSettings(BaseSettings):
    """When each risk signal triggers. Every threshold is a setting, so that a bureau can tune them to its
    market (``OPENBUREAU_SIGNAL_MULTI_LENDING_30D=6``, for example)."""

    model_config = SettingsConfigDict(env_prefix="OPENBUREAU_SIGNAL_", extra="ignore")

    multi_lending_1d: int = Field(default=3, ge=1, description="distinct lenders with new credit in 24 hours")
    multi_lending_7d: int = Field(default=3, ge=1, description="distinct lenders with new credit in 7 days")
    multi_lending_30d: int = Field(default=5, ge=1, description="... in 30 days")
    multi_lending_90d: int = Field(default=8, ge=1, description="... in 90 days")
    multi_lending_180d: int = Field(default=10, ge=1, description="... in 180 days")
    dti_watch: float = Field(default=0.4, gt=0, description="monthly obligations / declared income: watch")
    dti_high: float = Field(default=0.5, gt=0, description="monthly obligations / declared income: high")
    utilisation_high: float = Field(default=0.9, gt=0, description="revolving balances / limits, without income")
    open_accounts_high: int = Field(default=10, ge=1, description="open credit accounts, without income")
    delinquency_months: int = Field(default=6, ge=1, le=24, description="how far back a delinquency is recent")
    # Fraud signals (docs/fraud.md).
    ring_min_size: int = Field(default=3, ge=2, description="persons in a ring before RING triggers")
    ring_attribute_cap: int = Field(default=10, ge=2, description="a phone or address given for more persons "
                                    "than this links nobody (a hotline, a campus)")
    ring_min_lenders: int = Field(default=2, ge=1, description="furnishers that must report a shared attribute")
    ring_window_months: int = Field(default=24, ge=1, le=120, description="reporting periods a ring build reads")
    ring_delinquent_high: float = Field(default=0.3, ge=0, le=1, description="share of a ring delinquent: high")
    velocity_lenders_1d: int = Field(default=3, ge=1, description="distinct lenders with new credit in 24 hours, for "
                                     "at least two kinds of credit (shopping for one loan is not a burst)")
    velocity_one_kind_lenders: int = Field(default=6, ge=2, description="distinct lenders with new credit in 24 "
                                           "hours that make a burst whatever the kind: fewer, for one kind of "
                                           "credit, are a person comparing offers (a loan marketplace sends one "
                                           "application to several lenders at once)")
    velocity_change_days: int = Field(default=30, ge=1, le=365, description="a phone or address a lender furnished "
                                      "as changed on an existing account this many days before, then given with new "
                                      "credit, is a recent change")
    synthetic_file_months: int = Field(default=12, ge=1, le=60, description="a file whose first account is this "
                                       "recent is young")
    fraud_list_disclose_reporter: bool = Field(default=False, description="name the reporting lender to other "
                                               "lenders")

    def multi_lending(self) -> dict[int, int]:
        """Days of each multi-lending window -> its threshold."""
        return {1: self.multi_lending_1d, 7: self.multi_lending_7d, 30: self.multi_lending_30d, 90: self.multi_lending_90d,
                180: self.multi_lending_180d}


MAX_WINDOW_MONTHS = 36  # the longest window of reporting periods a data-quality scorecard covers


class QualitySettings(BaseSettings):
    """Settings of the quality jobs (environment variables ``OPENBUREAU_QUALITY_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPENBUREAU_QUALITY_", extra="ignore")

    # The one default of the scorecards' window: the API, the command line and the demo's grades use it
    # unless they are asked for another, so that they grade the same periods.
    window_months: int = Field(default=12, ge=1, le=MAX_WINDOW_MONTHS,
                               description="reporting periods a scorecard covers unless asked otherwise")

    min_cell_persons: int = Field(default=10, ge=1, description="k: market cells about fewer persons are suppressed")
    due_days: int = Field(default=15, ge=0, description="a file is on time this many days after its period end")
    late_cap_days: int = Field(default=60, ge=1, description="a file this late counts as wholly late")


@dataclass(frozen=True, slots=True)
class Policy:
    """Every rule one bureau sets, in one frozen value.

    Example:
        >>> policy = Policy(profile=get_profile("US"), reciprocity=False)
        >>> policy.profile.dispute_days, policy.grantee_role[Purpose.LOAN_ORIGINATION]
        (30, 'subscriber')
    """

    profile: JurisdictionProfile
    reciprocity: bool
    # How far a balance may exceed its credit limit or original amount before intake warns
    # (``BALANCE_OVER_LIMIT``, ``BALANCE_OVER_ORIGINAL``; ``OPENBUREAU_BALANCE_TOLERANCE``).
    balance_tolerance: float = DEFAULT_BALANCE_TOLERANCE
    signals: SignalSettings = field(default_factory=SignalSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    # Which member role may hold a consent for each purpose, and so query for it (``consent.service``).
    grantee_role: Mapping[Purpose, str] = field(default_factory=lambda: MappingProxyType(dict(GRANTEE_ROLE)))


def build_policy(settings: Settings, *, signals: SignalSettings | None = None,
                 quality: QualitySettings | None = None) -> Policy:
    """The policy of the bureau configured by ``settings`` (thresholds from their own environment variables)."""
    return Policy(profile=get_profile(settings.jurisdiction), reciprocity=settings.reciprocity,
                  balance_tolerance=settings.balance_tolerance, signals=signals or SignalSettings(),
                  quality=quality or QualitySettings())
