"""HTTP endpoints of the identity review queue, for the bureau's operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import IdPath, PrincipalDep, SessionDep
from openbureau.identity import service
from openbureau.identity.schemas import ReviewRead

router = APIRouter(tags=["identity"])


@router.get("/identity/reviews", response_model=list[ReviewRead], summary="Pairs waiting for an operator")
def list_reviews(session: SessionDep, principal: PrincipalDep,
                 status: Annotated[str, Query(pattern="^(pending|accepted|rejected)$")] = "pending",
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ReviewRead]:
    """The identity review queue (operators only), oldest first."""
    return [ReviewRead.model_validate(r)
            for r in service.list_reviews(session, principal=principal, status=status, limit=limit)]


@router.post("/identity/reviews/{review_id}/accept", response_model=ReviewRead, summary="Link the pair")
def accept(review_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ReviewRead:
    """Accept: the weak person's records join the candidate's file (audited)."""
    return ReviewRead.model_validate(service.decide_review(session, principal=principal, review_id=review_id,
                                                           accept=True))


@router.post("/identity/reviews/{review_id}/reject", response_model=ReviewRead, summary="Keep the pair apart")
def reject(review_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ReviewRead:
    """Reject: the two stay separate persons for good (audited)."""
    return ReviewRead.model_validate(service.decide_review(session, principal=principal, review_id=review_id,
                                                           accept=False))
