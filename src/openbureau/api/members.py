"""HTTP endpoints of the members domain."""

from __future__ import annotations

from fastapi import APIRouter

from openbureau.api.deps import MemberDep
from openbureau.members.schemas import MemberRead

router = APIRouter(tags=["members"])


@router.get("/members/me", response_model=MemberRead, summary="The calling member")
def read_me(member: MemberDep) -> MemberRead:
    """The institution the API key belongs to."""
    return MemberRead(code=member.code, name=member.name, roles=sorted(member.roles), created_at=member.created_at)
