"""HTTP endpoints of the identity review queue, for the bureau's operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import IdPath, MemberDep, SessionDep
from openbureau.identity import service
from openbureau.identity.schemas import ReviewRead
from openbureau.members.models import Role
from openbureau.members.service import require_role

router = APIRouter(tags=["identity"])


@router.get("/identity/reviews", response_model=list[ReviewRead], summary="Pairs waiting for an operator")
def list_reviews(session: SessionDep, member: MemberDep,
                 status: Annotated[str, Query(pattern="^(pending|accepted|rejected)$")] = "pending",
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ReviewRead]:
    """The identity review queue (operators only), oldest first."""
    require_role(member, Role.OPERATOR)
    return [ReviewRead.model_validate(r) for r in service.list_reviews(session, status=status, limit=limit)]


@router.post("/identity/reviews/{review_id}/accept", response_model=ReviewRead, summary="Link the pair")
def accept(review_id: IdPath, session: SessionDep, member: MemberDep) -> ReviewRead:
    """Accept: the weak person's records join the candidate's file (audited)."""
    require_role(member, Role.OPERATOR)
    return ReviewRead.model_validate(service.decide_review(session, review_id=review_id, accept=True,
                                                           actor_code=member.code))


@router.post("/identity/reviews/{review_id}/reject", response_model=ReviewRead, summary="Keep the pair apart")
def reject(review_id: IdPath, session: SessionDep, member: MemberDep) -> ReviewRead:
    """Reject: the two stay separate persons for good (audited)."""
    require_role(member, Role.OPERATOR)
    return ReviewRead.model_validate(service.decide_review(session, review_id=review_id, accept=False,
                                                           actor_code=member.code))
