"""HTTP endpoint of inquiries: a subscriber looks at a person's file on a lawful basis."""

from __future__ import annotations

from fastapi import APIRouter

from openbureau.api.deps import MemberDep, RuntimeDep, SessionDep
from openbureau.consent.profiles import get_profile
from openbureau.reports import service
from openbureau.reports.schemas import InquiryCreate, InquiryResult

router = APIRouter(tags=["inquiries"])


@router.post("/inquiries", response_model=InquiryResult, status_code=201, summary="Query a person's file",
             responses={403: {"description": "no lawful basis: the code names what is missing"}})
def inquire(data: InquiryCreate, session: SessionDep, runtime: RuntimeDep, member: MemberDep) -> InquiryResult:
    """The person's accounts across lenders (others masked), logged as an inquiry the person will see."""
    settings = runtime.settings
    return service.inquire(session, vault=runtime.vault, actor=member, request=data,
                           profile=get_profile(settings.jurisdiction), reciprocity=settings.reciprocity)
