"""HTTP endpoint of the funder's review: the accounts a member is listed as a funder of (standard v1.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.accounts import funding
from openbureau.accounts.schemas import FundedAccountPage
from openbureau.api.deps import PrincipalDep, SessionDep

router = APIRouter(tags=["accounts"])


@router.get("/funded-accounts", response_model=FundedAccountPage, summary="The accounts you fund")
def funded_accounts(session: SessionDep, principal: PrincipalDep,
                    after: Annotated[str | None, Query(max_length=funding.MAX_CURSOR)] = None,
                    limit: Annotated[int, Query(ge=1, le=funding.MAX_PAGE)] = 100) -> FundedAccountPage:
    """A page of the accounts whose newest record lists you as a funder, across furnishers: the loan, its
    facilitator, your share, the balance and your share of it, its status and days past due. Audited."""
    return funding.funded_accounts(session, principal=principal, after=after, limit=limit)
