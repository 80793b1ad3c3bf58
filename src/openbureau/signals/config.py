"""Thresholds of the risk signals, read from ``OPENBUREAU_SIGNAL_*`` environment variables."""

from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SignalSettings(BaseSettings):
    """When each risk signal triggers. Every threshold is a setting, so that a bureau can tune them to its
    market (``OPENBUREAU_SIGNAL_MULTI_LENDING_30D=6``, for example)."""

    model_config = SettingsConfigDict(env_prefix="OPENBUREAU_SIGNAL_", extra="ignore")

    multi_lending_7d: int = Field(default=3, ge=1, description="distinct lenders with new credit in 7 days")
    multi_lending_30d: int = Field(default=5, ge=1, description="... in 30 days")
    multi_lending_90d: int = Field(default=8, ge=1, description="... in 90 days")
    multi_lending_180d: int = Field(default=10, ge=1, description="... in 180 days")
    dti_watch: float = Field(default=0.4, gt=0, description="monthly obligations / declared income: watch")
    dti_high: float = Field(default=0.5, gt=0, description="monthly obligations / declared income: high")
    utilisation_high: float = Field(default=0.9, gt=0, description="revolving balances / limits, without income")
    open_accounts_high: int = Field(default=10, ge=1, description="open credit accounts, without income")
    delinquency_months: int = Field(default=6, ge=1, le=24, description="how far back a delinquency is recent")

    def multi_lending(self) -> dict[int, int]:
        """Days of each multi-lending window -> its threshold."""
        return {7: self.multi_lending_7d, 30: self.multi_lending_30d, 90: self.multi_lending_90d,
                180: self.multi_lending_180d}


@functools.lru_cache(maxsize=1)
def get_signal_settings() -> SignalSettings:
    """The process-wide signal settings, read once on first use."""
    return SignalSettings()
