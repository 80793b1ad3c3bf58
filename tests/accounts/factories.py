"""Factories of the accounts domain: joint lending (standard v1.1) set on loaded account states.

Records are furnished through intake as usual; :func:`fund` then stores what a v1.1 record's facilitator and
funder columns would have stored (``account_states.facilitator_*`` and ``account_funders`` rows) on every
version of the account's chosen periods. It stands in for the v1.1 loader until that loads funders itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update

from openbureau.accounts.models import AccountFunder, AccountState
from openbureau.kit.db import session_scope
from openbureau.members.models import Member
from openbureau.runtime import Runtime


def fund(runtime: Runtime, *, furnisher: str, account: str, funders: Sequence[tuple[str, int]] = (),
         facilitator: str | None = None, facilitator_account: str | None = None,
         periods: Sequence[str] | None = None) -> int:
    """Give ``furnisher``'s ``account`` its funders ``(code, share_bp)`` and facilitator (code and account
    number); every stored version of ``periods`` (all when None). The number of states changed."""
    with session_scope(runtime.engine, write=True) as session:
        ids = dict(session.execute(select(Member.code, Member.id)).all())
        s = AccountState.__table__.c
        where = [s.furnisher_id == ids[furnisher], s.furnisher_account_id == account]
        if periods is not None:
            where.append(s.reporting_period.in_(list(periods)))
        keys = session.execute(select(s.reporting_period, s.version).where(*where)).all()
        if facilitator is not None:
            session.execute(update(AccountState).where(*where).values(
                facilitator_id=ids[facilitator], facilitator_account_id=facilitator_account))
        rows = [{"furnisher_id": ids[furnisher], "furnisher_account_id": account, "reporting_period": period,
                 "version": version, "position": n, "funder_id": ids[code], "share_bp": share}
                for period, version in keys for n, (code, share) in enumerate(funders, start=1)]
        if rows:
            session.execute(insert(AccountFunder), rows)
        return len(keys)
