"""SQL of standard v1.1's joint lending on the files: the funders and facilitator of the accounts a report shows,
and the accounts a person answers for as a co-borrower or guarantor (``account_funders``, ``account_parties``).

Only what is part of the files is read: a state of a load in progress (``PUBLISHED``) or held for want of the
borrower's consent is not, and a related person held for want of their own consent never is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, Row, Select, and_, or_, select, update
from sqlalchemy.orm import Session

from openbureau.accounts.models import AccountFunder, AccountParty, AccountState
from openbureau.accounts.repository import PUBLISHED, STATE_COLUMNS

S = AccountState.__table__.c
F = AccountFunder.__table__.c
P = AccountParty.__table__.c
StateKey = tuple[int, str, str, int]  # furnisher_id, furnisher_account_id, reporting_period, version


def _accounts_where(table, accounts: Sequence[tuple[int, str]]) -> ColumnElement[bool]:
    """``table``'s rows of these (furnisher id, account number) pairs, one ``IN`` list per furnisher joined by OR
    (an index range of the primary key's leading columns for each, on every engine)."""
    numbers: dict[int, set[str]] = {}
    for furnisher_id, account in accounts:
        numbers.setdefault(furnisher_id, set()).add(account)
    return or_(*(and_(table.furnisher_id == furnisher_id, table.furnisher_account_id.in_(sorted(numbers[furnisher_id])))
                 for furnisher_id in sorted(numbers)))


class PartyRepository:
    """Reads of the funders, facilitators and related persons of the accounts in the files.

    Every read goes by furnisher and account number, the leading columns of the tables' primary keys, and
    filters the period and version of the wanted state versions itself: a list of row values (``(furnisher,
    account, period, version) IN (...)``) is a scan of the whole table on SQLite, which made every report read
    a scan of ``account_states``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _of_keys(self, table, stmt_of: Callable[[ColumnElement], Select], keys: Sequence[StateKey]) -> list[Row]:
        """The rows of ``stmt_of(where)`` (whose first four columns are a state key) of the state versions
        ``keys``, found through ``table``'s furnisher and account number."""
        wanted = set(keys)
        where = _accounts_where(table, [(k[0], k[1]) for k in wanted])
        return [r for r in self.session.execute(stmt_of(where)) if (r[0], r[1], r[2], r[3]) in wanted]

    def joint_details(self, keys: Sequence[StateKey]) -> tuple[list[Row], list[Row], list[Row]]:
        """Of these state versions: (key, ``facilitator_id``) where one is named, (key, ``funder_id``,
        ``share_bp``) in position order, and (key, ``role``) of every related person not held."""
        keys = list(keys)
        if not keys:
            return [], [], []
        facilitators = self._of_keys(S, lambda where: select(
            S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version, S.facilitator_id).where(
            where, S.facilitator_id.is_not(None)), keys)
        funders = self._of_keys(F, lambda where: select(
            F.furnisher_id, F.furnisher_account_id, F.reporting_period, F.version, F.funder_id, F.share_bp).where(
            where).order_by(F.furnisher_account_id, F.reporting_period, F.version, F.position), keys)
        parties = self._of_keys(P, lambda where: select(
            P.furnisher_id, P.furnisher_account_id, P.reporting_period, P.version, P.role).where(
            where, P.held_reason.is_(None)), keys)
        return facilitators, funders, parties

    def parties_of(self, keys: Sequence[StateKey]) -> list[Row]:
        """The related persons of these state versions, held ones left out (they never leave the bureau): (key,
        ``position``, ``role``, ``person_id``, ``identity_enc``) in key and position order."""
        keys = list(keys)
        return self._of_keys(P, lambda where: select(
            P.furnisher_id, P.furnisher_account_id, P.reporting_period, P.version, P.position, P.role,
            P.person_id, P.identity_enc).where(where, P.held_reason.is_(None)).order_by(
            P.furnisher_account_id, P.reporting_period, P.version, P.position), keys) if keys else []

    def answered_for(self, person_id: int) -> list[tuple[Row, str, int | None]]:
        """The accounts a person is a related person of (not held) on the newest version of the account's newest
        period in the files, not deleted: (state row of ``STATE_COLUMNS`` with the borrower's ``identity_enc``,
        ``role``, ``liability``), one per account and role."""
        named = self.session.execute(select(P.furnisher_id, P.furnisher_account_id).where(
            P.person_id == person_id, P.held_reason.is_(None)).distinct()).all()
        if not named:
            return []
        accounts = [tuple(r) for r in named]
        newest: dict[tuple[int, str], Row] = {}
        stmt = (select(*STATE_COLUMNS, S.identity_enc)
                .where(_accounts_where(S, accounts), S.held_reason.is_(None), PUBLISHED)
                .order_by(S.furnisher_id, S.furnisher_account_id, S.reporting_period.desc(), S.version.desc()))
        for row in self.session.execute(stmt):
            newest.setdefault((row.furnisher_id, row.furnisher_account_id), row)
        current = [r for r in newest.values() if r.account_status != "deleted"]
        if not current:
            return []
        keys = [(r.furnisher_id, r.furnisher_account_id, r.reporting_period, r.version) for r in current]
        roles = self._of_keys(P, lambda where: select(
            P.furnisher_id, P.furnisher_account_id, P.reporting_period, P.version, P.role, P.liability).where(
            where, P.person_id == person_id, P.held_reason.is_(None)).order_by(P.position), keys)
        by_key = {(r.furnisher_id, r.furnisher_account_id, r.reporting_period, r.version): r for r in current}
        return [(by_key[(r[0], r[1], r[2], r[3])], r.role, r.liability) for r in roles]

    def release_held(self, *, reason: str, unblocked: Callable[[ColumnElement, ColumnElement], Select],
                     furnisher_id: int | None = None, person_ids: Sequence[int] | None = None) -> int:
        """Release related persons held for ``reason`` for whom ``unblocked(person_id, furnisher_id)`` finds a
        row (the consent gate's condition, as for records), only those of ``person_ids`` if given; how many.
        Guarded by the held reason: a party is released once however many releases run."""
        where = [P.held_reason == reason, unblocked(P.person_id, P.furnisher_id).exists()]
        if furnisher_id is not None:
            where.append(P.furnisher_id == furnisher_id)
        if person_ids is not None:
            where.append(P.person_id.in_(person_ids))
        return self.session.connection().execute(update(AccountParty).values(held_reason=None).where(*where)).rowcount
