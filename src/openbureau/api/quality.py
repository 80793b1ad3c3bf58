"""HTTP endpoints of data-quality scorecards and market statistics (regulator, operator; a furnisher sees
only its own scorecard)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import PolicyDep, PrincipalDep, SessionDep
from openbureau.policy import MAX_WINDOW_MONTHS
from openbureau.quality import service
from openbureau.quality.schemas import MarketReport, ScorecardReport

router = APIRouter(tags=["quality"])

PeriodQuery = Annotated[str | None, Query(description="Reporting period YYYY-MM (default: the latest).")]


@router.get("/quality/scorecards", response_model=ScorecardReport, summary="Data-quality scorecards and grades")
def scorecards(session: SessionDep, principal: PrincipalDep, policy: PolicyDep, period: PeriodQuery = None,
               months: Annotated[int | None, Query(
                   ge=1, le=MAX_WINDOW_MONTHS, description="Periods in the window, ending at period (default: the "
                   "bureau's window, OPENBUREAU_QUALITY_WINDOW_MONTHS, 12 unless set).")] = None,
               ) -> ScorecardReport:
    """Metrics, grade A–E and anomaly flags per furnisher; a furnisher sees only its own."""
    return service.scorecards(session, principal=principal, policy=policy, period=period, months=months)


@router.get("/quality/market", response_model=MarketReport, summary="Market statistics")
def market(session: SessionDep, principal: PrincipalDep, policy: PolicyDep, period: PeriodQuery = None,
           k: Annotated[int | None, Query(description="Minimum persons per cell (may only raise the bureau's).")]
           = None) -> MarketReport:
    """Balances, accounts, shares, delinquency, multi-lending and concentration (regulator and operator)."""
    return service.market(session, principal=principal, policy=policy, period=period, k=k)
