"""HTTP endpoints of the fraud list (a lender reports confirmed fraud, lists and withdraws its own reports) and of
the rings' aggregates for the regulator. No endpoint lists a ring or its members: a lender sees rings only
through the RING signal of its own inquiries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import IdPath, PolicyDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.fraud import service, statistics
from openbureau.fraud.schemas import FraudReportCreate, FraudReportRead, FraudReportWithdraw, RingStatistics

router = APIRouter(tags=["fraud"])
AfterId = Annotated[int, Query(ge=0, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.post("/fraud-reports", response_model=FraudReportRead, status_code=201, summary="Report confirmed fraud",
             responses={403: {"description": "ROLE_REQUIRED, or FRAUD_REPORT_NO_RELATIONSHIP: you hold no account "
                                             "of the person and made no inquiry about them"},
                        404: {"description": "PERSON_NOT_FOUND: the bureau holds no file of the person"}})
def report_fraud(data: FraudReportCreate, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                 ) -> FraudReportRead:
    """Put confirmed fraud about a person you dealt with on the bureau's fraud list, with its evidence. Other
    lenders' inquiries show that a lender reported it, not which one; the person sees it and may dispute it."""
    return service.report_fraud(session, vault=runtime.vault, principal=principal, data=data)


@router.get("/fraud-reports", response_model=list[FraudReportRead], summary="Your fraud reports")
def list_reports(session: SessionDep, principal: PrincipalDep, after_id: AfterId = 0, limit: Limit = 100
                 ) -> list[FraudReportRead]:
    """A page of your own reports, in id order (never the identity number)."""
    return service.list_reports(session, principal=principal, after_id=after_id, limit=limit)


@router.post("/fraud-reports/{report_id}/withdraw", response_model=FraudReportRead, summary="Withdraw a report",
             responses={404: {"description": "FRAUD_REPORT_NOT_FOUND: no report of yours has this id"},
                        409: {"description": "FRAUD_REPORT_WITHDRAWN: withdrawn already"}})
def withdraw(report_id: IdPath, data: FraudReportWithdraw, session: SessionDep, principal: PrincipalDep
             ) -> FraudReportRead:
    """Withdraw one of your reports, saying why; it leaves every report at once."""
    return service.withdraw_report(session, principal=principal, report_id=report_id, reason=data.reason)


@router.get("/fraud/rings/statistics", response_model=RingStatistics, summary="Rings across the market (aggregates)",
            responses={403: {"description": "ROLE_REQUIRED: for the regulator and the operator only"},
                       422: {"description": "K_TOO_SMALL: k below the bureau's minimum cell size"}})
def ring_statistics(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, policy: PolicyDep,
                    k: Annotated[int | None, Query(ge=1, le=10_000, description="Minimum persons per cell (may only "
                                                                               "raise the bureau's).")] = None
                    ) -> RingStatistics:
    """Rings of the last build by size band and by region: rings, persons, lenders involved, live balances,
    past-due balances and delinquent persons; cells about fewer than k persons suppressed. Never a ring's
    members (regulator and operator; audited)."""
    return statistics.ring_statistics(session, vault=runtime.vault, principal=principal, policy=policy, k=k)
