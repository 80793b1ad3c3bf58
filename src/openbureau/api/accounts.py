"""HTTP endpoints a furnisher uses to read back what it furnished."""

from __future__ import annotations

from fastapi import APIRouter

from openbureau.accounts.schemas import AccountStateRead
from openbureau.api.deps import PrincipalDep, SessionDep
from openbureau.intake import service

router = APIRouter(tags=["accounts"])


@router.get("/accounts/{furnisher_account_id}", response_model=list[AccountStateRead],
            summary="Every stored version of one of your accounts")
def read_account(furnisher_account_id: str, session: SessionDep, principal: PrincipalDep) -> list[AccountStateRead]:
    """Your own account's history as stored (another furnisher's account number is simply not found)."""
    return [AccountStateRead.model_validate(s) for s in service.account_history(
        session, principal=principal, furnisher_account_id=furnisher_account_id)]
