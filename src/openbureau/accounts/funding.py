"""The funder's review (standard v1.1, joint lending): the accounts a member is listed as a funder of, across
furnishers, with its share and its exposure (docs/reports.md, The funder's review).

A member sees only the accounts whose newest record in the files lists it as a funder; any other member, and a
member no record lists, gets an empty page (never an error that would tell an account exists). Every page read
is an access to credit data about persons, so it is audited (``account.read_funded``) with the account
references it returned.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbureau.accounts.funding_repository import FundingRepository
from openbureau.accounts.repository import as_date
from openbureau.accounts.schemas import FundedAccount, FundedAccountPage
from openbureau.audit import service as audit
from openbureau.kit.errors import NotFound, Unprocessable
from openbureau.members.repository import MemberRepository
from openbureau.principals import Action, Principal, authorize

MAX_PAGE = 500
MAX_CURSOR = 80  # "<furnisher id>/<account number of at most 64>"
INVALID_CURSOR = "INVALID_CURSOR"
FUNDER_NOT_FOUND = "FUNDER_NOT_FOUND"


def _cursor(after: str | None) -> tuple[int, str] | None:
    if after is None:
        return None
    head, sep, account = after.partition("/")
    if len(after) > MAX_CURSOR or not sep or not head.isdigit() or not account:
        raise Unprocessable("after must be a next_after value of a previous page", code=INVALID_CURSOR,
                            field="after")
    return int(head), account


def funded_accounts(session: Session, *, principal: Principal, after: str | None = None, limit: int = 100,
                    funder_code: str | None = None) -> FundedAccountPage:
    """A page of the accounts the acting member funds (the operator: those of ``funder_code``)."""
    authorize(principal, Action.READ_FUNDED_ACCOUNTS, message="the funded-accounts review is for funders")
    members = MemberRepository(session)
    if principal.member_id is not None:
        funder_id = principal.member_id  # a member reviews its own funding, never another's
    else:
        funder = members.by_code(funder_code) if funder_code else None
        if funder is None:
            raise NotFound("name a member as funder", code=FUNDER_NOT_FOUND, field="funder")
        funder_id = funder.id
    limit = max(1, min(limit, MAX_PAGE))
    rows = FundingRepository(session.connection()).funded_accounts(funder_id=funder_id, after=_cursor(after),
                                                                   limit=limit)
    codes = {i: code for i, (code, _) in members.names().items()}
    accounts = [FundedAccount(
        furnisher=codes.get(r.furnisher_id, str(r.furnisher_id)), furnisher_account_id=r.furnisher_account_id,
        facilitator=codes.get(r.facilitator_id or r.furnisher_id, str(r.facilitator_id)),
        facilitator_account_id=r.facilitator_account_id or r.furnisher_account_id,
        reporting_period=r.reporting_period, product_type=r.product_type, opened_on=as_date(r.opened_on),
        currency=r.currency, share_bp=r.share_bp, balance=r.balance, funded_balance=r.balance * r.share_bp // 10_000,
        past_due_amount=r.past_due_amount, days_past_due=r.days_past_due, payment_status=r.payment_status,
        account_status=r.account_status) for r in rows]
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="account.read_funded",
                 details={"funder_id": funder_id, "after": after, "returned": len(rows),
                          "accounts": [[r.furnisher_id, r.furnisher_account_id] for r in rows]})
    last = rows[-1] if len(rows) == limit else None
    return FundedAccountPage(accounts=accounts,
                             next_after=f"{last.furnisher_id}/{last.furnisher_account_id}" if last else None)
