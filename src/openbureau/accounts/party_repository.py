"""SQL of standard v1.1's joint lending on the files: the funders and facilitator of the accounts a report shows,
and the accounts a person answers for as a co-borrower or guarantor (``account_funders``, ``account_parties``).

Only what is part of the files is read: a state of a load in progress (``PUBLISHED``) or held for want of the
borrower's consent is not, and a related person held for want of their own consent never is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, Row, Select, bindparam, select, update
from sqlalchemy.orm import Session

from openbureau.accounts.models import AccountFunder, AccountParty, AccountState
from openbureau.accounts.repository import PUBLISHED, STATE_COLUMNS
from openbureau.kit.keys import bound_key_params, bound_keys_in

S = AccountState.__table__.c
F = AccountFunder.__table__.c
P = AccountParty.__table__.c
StateKey = tuple[int, str, str, int]  # furnisher_id, furnisher_account_id, reporting_period, version
_IN_BATCH = 1_000


def _state_key(columns) -> tuple:
    """The columns of a state version's key in ``columns``."""
    return columns.furnisher_id, columns.furnisher_account_id, columns.reporting_period, columns.version


# Read on every inquiry: built once, with bound parameters (building them cost more than running them).
_FUNDERS = select(F.furnisher_id, F.furnisher_account_id, F.reporting_period, F.version, F.funder_id, F.share_bp).where(
    bound_keys_in(_state_key(F))).order_by(F.position)
_PARTIES = select(P.furnisher_id, P.furnisher_account_id, P.reporting_period, P.version, P.role).where(
    bound_keys_in(_state_key(P)), P.held_reason.is_(None))
_NAMED = select(P.furnisher_id, P.furnisher_account_id).where(
    P.person_id == bindparam("person_id"), P.held_reason.is_(None)).distinct()
_NEWEST = (select(*STATE_COLUMNS, S.identity_enc)
           .where(bound_keys_in((S.furnisher_id, S.furnisher_account_id)),
                  S.held_reason.is_(None), PUBLISHED)
           .order_by(S.furnisher_id, S.furnisher_account_id, S.reporting_period.desc(), S.version.desc()))
_ROLES = select(P.furnisher_id, P.furnisher_account_id, P.reporting_period, P.version, P.role, P.liability).where(
    bound_keys_in(_state_key(P)), P.person_id == bindparam("person_id"), P.held_reason.is_(None)).order_by(P.position)


class PartyRepository:
    """Reads of the funders, facilitators and related persons of the accounts in the files."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _in_batches(self, stmt: Select, keys: Sequence[tuple], **params) -> list[Row]:
        """``stmt`` for the keys, ``_IN_BATCH`` at a time (their ``bound_key_params``, and ``params``)."""
        rows: list[Row] = []
        for start in range(0, len(keys), _IN_BATCH):
            rows += self.session.execute(stmt, {**bound_key_params(keys[start:start + _IN_BATCH]), **params}).all()
        return rows

    def joint_details(self, keys: Sequence[StateKey]) -> tuple[list[Row], list[Row]]:
        """Of these state versions: (key, ``funder_id``, ``share_bp``) in position order, and (key, ``role``) of
        every related person not held."""
        keys = list(keys)
        if not keys:
            return [], []
        return self._in_batches(_FUNDERS, keys), self._in_batches(_PARTIES, keys)

    def parties_of(self, keys: Sequence[StateKey]) -> list[Row]:
        """The related persons of these state versions, held ones left out (they never leave the bureau): (key,
        ``position``, ``role``, ``person_id``, ``identity_enc``) in key and position order."""
        keys = list(keys)
        return self._in_batches(select(
            P.furnisher_id, P.furnisher_account_id, P.reporting_period, P.version, P.position, P.role,
            P.person_id, P.identity_enc).where(bound_keys_in(_state_key(P)), P.held_reason.is_(None)).order_by(
            P.furnisher_account_id, P.version, P.position), keys) if keys else []

    def answered_for(self, person_id: int) -> list[tuple[Row, str, int | None]]:
        """The accounts a person is a related person of (not held) on the newest version of the account's newest
        period in the files, not deleted: (state row of ``STATE_COLUMNS`` with the borrower's ``identity_enc``,
        ``role``, ``liability``), one per account and role."""
        named = self.session.execute(_NAMED, {"person_id": person_id}).all()
        if not named:
            return []
        newest: dict[tuple[int, str], Row] = {}
        for row in self._in_batches(_NEWEST, [tuple(r) for r in named]):
            newest.setdefault((row.furnisher_id, row.furnisher_account_id), row)
        current = [r for r in newest.values() if r.account_status != "deleted"]
        if not current:
            return []
        keys = [(r.furnisher_id, r.furnisher_account_id, r.reporting_period, r.version) for r in current]
        roles = self._in_batches(_ROLES, keys, person_id=person_id)
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
