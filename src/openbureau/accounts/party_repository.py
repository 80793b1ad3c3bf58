"""SQL of standard v1.1's joint lending on the files: the funders and facilitator of the accounts a report shows,
and the accounts a person answers for as a co-borrower or guarantor (``account_funders``, ``account_parties``).

Only what is part of the files is read: a state of a load in progress (``PUBLISHED``) or held for want of the
borrower's consent is not, and a related person held for want of their own consent never is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    String,
    bindparam,
    exists,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from openbureau.accounts.models import AccountFunder, AccountParty, AccountState
from openbureau.accounts.repository import PUBLISHED, STATE_COLUMNS, keyed_rows_exist
from openbureau.kit.keys import KeyedSelect, KeyList

S = AccountState.__table__.c
F = AccountFunder.__table__.c
P = AccountParty.__table__.c
StateKey = tuple[int, str, str, int]  # furnisher_id, furnisher_account_id, reporting_period, version
_IN_BATCH = 1_000


def _state_key(columns) -> tuple:
    """The columns of a state version's key in ``columns``."""
    return columns.furnisher_id, columns.furnisher_account_id, columns.reporting_period, columns.version


# Read on every inquiry: built once, each with its list of keys bound as one parameter (kit.keys.KeyedSelect).
_STATE_KEY = _state_key(S)


def _joint(keys: KeyList) -> Select:
    """The funders (part 0: ``a`` the funder, ``b`` its share) and the related persons not held (part 1: ``role``)
    of the state versions listed, in one statement; funders in position order."""
    funders = select(literal(0).label("part"), *_state_key(F), F.funder_id.label("a"), F.share_bp.label("b"),
                     literal(None, String).label("role"), F.position).select_from(
        keys.table.join(AccountFunder, keys.on(_state_key(F))))
    parties = select(literal(1), *_state_key(P), literal(None, BigInteger), literal(None, BigInteger), P.role,
                     P.position).select_from(keys.table.join(AccountParty, keys.on(_state_key(P)))).where(
        P.held_reason.is_(None))
    return funders.union_all(parties).order_by("part", "position")


_JOINT = KeyedSelect(_STATE_KEY, _joint)
_NAMED = select(P.furnisher_id, P.furnisher_account_id).where(
    P.person_id == bindparam("person_id"), P.held_reason.is_(None)).distinct()
_NEWEST = KeyedSelect((S.furnisher_id, S.furnisher_account_id), lambda keys: (
    select(*STATE_COLUMNS, S.identity_enc)
    .select_from(keys.table.join(AccountState, keys.on((S.furnisher_id, S.furnisher_account_id))))
    .where(S.held_reason.is_(None), PUBLISHED)
    .order_by(S.furnisher_id, S.furnisher_account_id, S.reporting_period.desc(), S.version.desc())))
_ROLES = KeyedSelect(_STATE_KEY, lambda keys: (
    select(*_state_key(P), P.role, P.liability).select_from(keys.table.join(AccountParty, keys.on(_state_key(P))))
    .where(P.person_id == bindparam("person_id"), P.held_reason.is_(None)).order_by(P.position)))
_PARTIES_OF = KeyedSelect(_STATE_KEY, lambda keys: (
    select(*_state_key(P), P.position, P.role, P.person_id, P.identity_enc)
    .select_from(keys.table.join(AccountParty, keys.on(_state_key(P)))).where(P.held_reason.is_(None))
    .order_by(P.furnisher_account_id, P.version, P.position)))


def joint_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any state of the person of ``person_id`` has a funder or a related person: when not,
    :meth:`PartyRepository.joint_details` is empty for every key of their file."""
    return or_(keyed_rows_exist(person_id, _state_key(F)), keyed_rows_exist(person_id, _state_key(P)))


def answers_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the person of ``person_id`` (a column or parameter of another domain's statement) is a related
    person not held on any account: when not, :meth:`PartyRepository.answered_for` is empty."""
    return exists().where(P.person_id == person_id, P.held_reason.is_(None))


class PartyRepository:
    """Reads of the funders, facilitators and related persons of the accounts in the files."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _in_batches(self, stmt: KeyedSelect, keys: Sequence[tuple], **params) -> list[Row]:
        """``stmt`` for the keys, ``_IN_BATCH`` at a time (and ``params``)."""
        conn = self.session.connection()
        rows: list[Row] = []
        for start in range(0, len(keys), _IN_BATCH):
            rows += stmt.execute(conn, keys[start:start + _IN_BATCH], **params).all()
        return rows

    def joint_details(self, keys: Sequence[StateKey]) -> tuple[list[tuple], list[tuple]]:
        """Of these state versions: (key..., ``funder_id``, ``share_bp``) in position order, and (key...,
        ``role``) of every related person not held; read in one statement."""
        funders: list[tuple] = []
        parties: list[tuple] = []
        for r in self._in_batches(_JOINT, list(keys)):
            if r.part == 0:
                funders.append((r[1], r[2], r[3], r[4], r.a, r.b))
            else:
                parties.append((r[1], r[2], r[3], r[4], r.role))
        return funders, parties

    def parties_of(self, keys: Sequence[StateKey]) -> list[Row]:
        """The related persons of these state versions, held ones left out (they never leave the bureau): (key,
        ``position``, ``role``, ``person_id``, ``identity_enc``) in key and position order."""
        return self._in_batches(_PARTIES_OF, list(keys))

    def answered_for(self, person_id: int) -> list[tuple[Row, str, int | None]]:
        """The accounts a person is a related person of (not held) on the newest version of the account's newest
        period in the files, not deleted: (state row of ``STATE_COLUMNS`` with the borrower's ``identity_enc``,
        ``role``, ``liability``), one per account and role."""
        named = self.session.connection().execute(_NAMED, {"person_id": person_id}).all()
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
