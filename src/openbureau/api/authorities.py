"""HTTP endpoints of requests by authorities: an authority requests a person's report (citing the law, its
reference and the order); the operator lists every request, an authority its own; and the published
transparency report, open to anyone (``api.app.PUBLISHED_PATHS``: no key, rate limited per client address).
The person sees the requests about them at ``GET /v1/me/authority-requests`` (``api.me``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import Offset, PolicyDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.authorities import service
from openbureau.authorities.schemas import (
    AuthorityRequestAnswer,
    AuthorityRequestCreate,
    AuthorityRequestListed,
    TransparencyReport,
)

router = APIRouter(tags=["authorities"])


@router.post("/authority-requests", response_model=AuthorityRequestAnswer, status_code=201,
             summary="An authority requests a person's report",
             responses={403: {"description": "ROLE_REQUIRED: only members with the role authority"},
                        404: {"description": "PERSON_NOT_FOUND: the bureau holds no file for the subject"},
                        422: {"description": "NONDISCLOSURE_END_REQUIRED, INVALID_NONDISCLOSURE_END, ..."}})
def request_report(data: AuthorityRequestCreate, session: SessionDep, runtime: RuntimeDep, policy: PolicyDep,
                   principal: PrincipalDep) -> AuthorityRequestAnswer:
    """The person's report, everything shown. The request is logged and audited (not as a credit inquiry: no
    lender sees it and no score moves), shown to the person and notified to them at once, or when the
    non-disclosure order ends, and counted in the transparency report."""
    return service.request_report(
        session, vault=runtime.vault, principal=principal, subject=data.subject, basis=data.basis,
        citation=data.citation, reference=data.reference, order_hash=data.order_hash, policy=policy,
        nondisclosure_until=data.nondisclosure_until, nondisclosure_ref=data.nondisclosure_ref,
        history_months=data.history_months)


@router.get("/authority-requests", response_model=list[AuthorityRequestListed], summary="Requests by authorities")
def list_requests(session: SessionDep, principal: PrincipalDep, offset: Offset = 0,
                  limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 100) -> list[AuthorityRequestListed]:
    """The operator: every request; an authority: its own. Ids, kinds and dates only, newest first."""
    return service.list_requests(session, principal=principal, limit=limit, offset=offset)


@router.get("/transparency/authority-requests", response_model=TransparencyReport,
            summary="Transparency report: requests by authorities (published, no key needed)")
def transparency(session: SessionDep, year: Annotated[int, Query(ge=2000, le=9998)]) -> TransparencyReport:
    """Counts per quarter, legal basis and authority of one calendar year; counts of 1 to 4 (and any count that
    would give one away by subtraction) are published as 'suppressed'."""
    return service.transparency_report(session, year=year)
