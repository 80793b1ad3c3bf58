"""The questions other domains ask of the account states, in the field's words.

Inquiries ask whether a member holds an account of the person (the existing-customer exception), disputes
and furnishers ask for an account's history, the consent gate releases held records, identity files
records under persons, tradelines reads a person's file and purges what outlived its retention. Bulk paths
on a Core connection (the load, the quality jobs) use ``accounts.repository.AccountLoadRepository``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import ColumnElement, Engine, Row, Select
from sqlalchemy.orm import Session

from openbureau.accounts import party_repository
from openbureau.accounts.event_repository import RELEASED_EVENT_SCHEMA, EventRepository
from openbureau.accounts.joint_rows import erase_held_parties
from openbureau.accounts.models import AccountState
from openbureau.accounts.party_repository import PartyRepository, StateKey
from openbureau.accounts.person_repository import PersonRecordRepository
from openbureau.accounts.repository import PERSON_ORDER, AccountRepository
from openbureau.kit.dialects import dialect_for


def has_released_account(session: Session, *, furnisher_id: int, person_id: int, moment: datetime,
                         statuses: tuple[str, ...]) -> bool:
    """Whether the furnisher holds an account of the person that is part of the person's file, opened by
    ``moment``, whose newest published state has one of ``statuses`` (see ``AccountRepository``)."""
    return AccountRepository(session).has_released_account(furnisher_id=furnisher_id, person_id=person_id,
                                                           moment=moment, statuses=statuses)


def account_history(session: Session, *, furnisher_id: int, furnisher_account_id: str) -> list[AccountState]:
    """Every published version of one account, newest period and version first (empty when unknown)."""
    return AccountRepository(session).history(furnisher_id=furnisher_id, furnisher_account_id=furnisher_account_id)


def file_states(session: Session, person_id: int, *, with_identity: bool = False) -> Sequence[Row]:
    """The stored states that make up a person's file, as plain rows of ``STATE_COLUMNS``."""
    return AccountRepository(session).states_of(person_id, with_identity=with_identity)


@dataclass(frozen=True, slots=True)
class JointDetails:
    """Standard v1.1 on the accounts of a file, by state version: who funds each, and which have a co-borrower
    (held related persons never count). The facilitator that originated an account is on its state row."""

    funders: dict[StateKey, list[tuple[int, int]]]  # (funder member id, share in basis points), in order
    co_borrowed: set[StateKey]


def joint_details(session: Session, keys: Sequence[StateKey]) -> JointDetails:
    """The funders and co-borrowers of these state versions (the newest of each account shown)."""
    funders, parties = PartyRepository(session).joint_details(keys)
    funded: dict[StateKey, list[tuple[int, int]]] = {}
    for *key, funder_id, share_bp in funders:
        funded.setdefault(tuple(key), []).append((funder_id, share_bp))
    return JointDetails(funded, {(r[0], r[1], r[2], r[3]) for r in parties if r[4] == "co_borrower"})


def parties_of(session: Session, keys: Sequence[StateKey]) -> list[Row]:
    """The related persons of these state versions that are not held, with their sealed identities: (key,
    ``position``, ``role``, ``person_id``, ``identity_enc``), in position order (a Metro 2 file's J1 segments)."""
    return PartyRepository(session).parties_of(keys)


def joint_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any state of the person of ``person_id`` (a column or parameter of another domain's statement)
    has a funder or a related person: when not, :func:`joint_details` finds none for their file."""
    return party_repository.joint_exist(person_id)


def answers_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the person of ``person_id`` (a column or parameter of another domain's statement) answers for
    any account as a related person (not held): when not, :func:`answered_for` is empty."""
    return party_repository.answers_exist(person_id)


def answered_for(session: Session, person_id: int) -> list[tuple[Row, str, int | None]]:
    """The accounts in the files a person answers for as a co-borrower or guarantor (consented, newest version):
    (state row with the borrower's ``identity_enc``, role, liability)."""
    return PartyRepository(session).answered_for(person_id)


def files_by_person(session: Session) -> Iterator[tuple[int, list[Row]]]:
    """Every person's file states, person by person (batch scoring)."""
    return AccountRepository(session).states_by_person()


def files_of(session: Session, person_ids: Sequence[int]) -> dict[int, list[Row]]:
    """The file states of many persons at once, with their encrypted identity descriptions (a prescreen's chunk)."""
    return AccountRepository(session).states_of_persons(person_ids)


def persons_with_credit(session: Session, *, after_id: int, limit: int, credit_products: Sequence[str],
                        condition: Callable[[ColumnElement], ColumnElement[bool]]) -> list[int]:
    """A page of the persons whose file holds a credit account, in id order, for whom ``condition`` holds."""
    return AccountRepository(session).persons_with_credit(after_id=after_id, limit=limit,
                                                          credit_products=credit_products, condition=condition)


def furnisher_period(session: Session, *, furnisher_id: int, period: str) -> Iterator[Row]:
    """The newest version of each account a furnisher reported for ``period`` that is part of the files, with
    its person and encrypted identity, streamed in account order (a Metro 2 file written from the store)."""
    return AccountRepository(session).furnisher_period(furnisher_id=furnisher_id, period=period)


def held_in_period(session: Session, *, furnisher_id: int, period: str) -> int:
    """How many of a furnisher's states of ``period`` are held back from the files (no consent yet)."""
    return AccountRepository(session).held_in_period(furnisher_id=furnisher_id, period=period)


def latest_period(session: Session, *, furnisher_id: int | None = None) -> str | None:
    """The newest reporting period in the bureau (or furnished by one member)."""
    return AccountRepository(session).latest_period(furnisher_id=furnisher_id)


def earliest_period(session: Session) -> str | None:
    """The oldest reporting period in the bureau."""
    return AccountRepository(session).earliest_period()


def bureau_counts(session: Session) -> dict[str, int]:
    """Published ``accounts`` and account ``states``."""
    return AccountRepository(session).counts()


def stored_by_furnisher(session: Session) -> dict[int, tuple[int, int]]:
    """(published states, of which held) by furnisher id."""
    return AccountRepository(session).stored_by_furnisher()


@dataclass(frozen=True, slots=True)
class Released:
    """What a release let into the files: the records (``RELEASED_SCHEMA``) and the lending events
    (``RELEASED_EVENT_SCHEMA``)."""

    states: pl.DataFrame
    events: pl.DataFrame

    @property
    def count(self) -> int:
        """Records and events released."""
        return self.states.height + self.events.height


def release_held(session: Session, *, reason: str, unblocked: Callable[[ColumnElement, ColumnElement], Select],
                 moment: datetime, furnisher_id: int | None = None, submission_id: int | None = None,
                 person_ids: Sequence[int] | None = None) -> Released:
    """Release published records held for ``reason`` whose (person_id, furnisher_id) ``unblocked`` now finds
    (only those of ``person_ids`` if given), and (unless one submission's records are meant) the lending
    events held alike; what was released."""
    states = AccountRepository(session).release_held(reason=reason, unblocked=unblocked, moment=moment,
                                                     furnisher_id=furnisher_id, submission_id=submission_id,
                                                     person_ids=person_ids)
    events = pl.DataFrame(schema=RELEASED_EVENT_SCHEMA)
    # Related persons (standard v1.1) held alike are released with them; they are no records of their own, so
    # they are not counted among what was released.
    PartyRepository(session).release_held(reason=reason, unblocked=unblocked, furnisher_id=furnisher_id,
                                          person_ids=person_ids)
    if submission_id is None:
        events = EventRepository(session.connection()).release_held(
            reason=reason, unblocked=unblocked, moment=moment, furnisher_id=furnisher_id, person_ids=person_ids)
    return Released(states, events)


def held_count(session: Session, *, furnisher_id: int | None = None) -> int:
    """How many records are held back from the files."""
    return AccountRepository(session).held_count(furnisher_id=furnisher_id)


def identity_rows(session: Session, *, batch: int = 50_000) -> Iterator[list[tuple]]:
    """Batches of (person_id, furnisher_id, furnisher_account_id, reporting_period, identity_enc)."""
    return AccountRepository(session).identity_rows(batch)


def identity_records(session: Session, *, since_period: str, batch: int = 50_000) -> Iterator[list[tuple]]:
    """Batches of (person_id, furnisher_id, reporting_period, identity_enc) of the files' published states from
    ``since_period`` on (quarantined records are not part of a file)."""
    return AccountRepository(session).identity_records(since_period=since_period, batch=batch)


def event_identity_records(session: Session, *, since: datetime, batch: int = 50_000) -> Iterator[list[tuple]]:
    """Batches of (person_id, furnisher_id, occurred_at, identity_enc) of the published lending events filed
    under a person since ``since`` (applications carry the phone and address the applicant gave)."""
    return EventRepository(session.connection()).identity_records(since=since, batch=batch)


def delinquent_persons(session: Session, *, since_period: str, min_days_past_due: int = 30) -> set[int]:
    """Persons reported at least ``min_days_past_due`` days past due (or charged off) since ``since_period``."""
    return AccountRepository(session).delinquent_persons(since_period=since_period,
                                                         min_days_past_due=min_days_past_due)


def account_persons(session: Session) -> pl.DataFrame:
    """Distinct (``furnisher`` code, ``period``, ``furnisher_account_id``, ``person_id``) of stored records."""
    return AccountRepository(session).account_persons()


def accounts_of(session: Session, person_id: int) -> list[tuple[int, str]]:
    """Distinct (furnisher_id, furnisher_account_id) of a person's records."""
    return AccountRepository(session).accounts_of(person_id)


def identities_of(session: Session, person_id: int) -> list[tuple[int, bytes]]:
    """(furnisher_id, identity_enc) of a person's records."""
    return AccountRepository(session).identities_of(person_id)


def latest_identities(session: Session, person_id: int, *, limit: int = 20) -> list[bytes]:
    """The encrypted identity descriptions of a person's released records, most recently reported first."""
    return AccountRepository(session).latest_identities(person_id, limit=limit)


def held_by_furnisher(session: Session, person_id: int, *, reason: str) -> dict[int, int]:
    """furnisher id -> how many of the person's records it has held back for ``reason`` (e.g. no_consent)."""
    return AccountRepository(session).held_by_furnisher(person_id, reason=reason)


def move_person(session: Session, *, from_person_id: int, to_person_id: int) -> None:
    """File every record of a person under another (a merge)."""
    AccountRepository(session).move_person(from_person_id=from_person_id, to_person_id=to_person_id)


def move_account(session: Session, *, person_id: int, furnisher_id: int, furnisher_account_id: str,
                 to_person_id: int) -> int:
    """File one account's records of a person under another (a split); the number of records moved."""
    return AccountRepository(session).move_account(person_id=person_id, furnisher_id=furnisher_id,
                                                   furnisher_account_id=furnisher_account_id,
                                                   to_person_id=to_person_id)


def move_persons(session: Session, moves: list[dict[str, int]]) -> None:
    """File the records of each person ``old`` under ``new``."""
    AccountRepository(session).move_persons(moves)


def accounts_with_status_before(session: Session, period: str, *, payment_statuses: tuple[str, ...],
                                batch: int = 5_000) -> Iterator[list[tuple[int, str]]]:
    """Batches of accounts with one of ``payment_statuses``, a charge-off or days past due by ``period``."""
    return AccountRepository(session).accounts_with_status_before(period, payment_statuses=payment_statuses,
                                                                  batch=batch)


def states_of_accounts(session: Session, accounts: list[tuple[int, str]]) -> Sequence[Row]:
    """Every stored state (``STATE_COLUMNS``) of the given accounts, held records included."""
    return AccountRepository(session).states_of_accounts(accounts)


def delete_periods(session: Session, keys: list[tuple[int, str, str]]) -> int:
    """Delete every version of the given (furnisher, account, period); the number of rows (retention)."""
    return AccountRepository(session).delete_periods(keys)


def cluster_by_person(engine: Engine, *, progress: Callable[[int], None] | None = None) -> int:
    """Rewrite the account states so that each person's lie together on disk, in (person, account, period,
    version) order; the number of rows. A person's file is then read from a few pages instead of one page
    per row. Rows loaded later go at the end again, so run it after a month's loads. The table stays
    readable and writable throughout: an online rewrite (``kit.dialects.base.Dialect.cluster``)."""
    return dialect_for(engine).cluster(engine, AccountState.__table__, order_by=PERSON_ORDER, progress=progress)


def person_events(session: Session, *, person_id: int, id_type: str, id_indexes: Sequence[bytes], since: datetime
                  ) -> Sequence[Row]:
    """A person's lending events since ``since``, oldest first (``EventRepository.of_person``)."""
    return EventRepository(session.connection()).of_person(person_id=person_id, id_type=id_type,
                                                          id_indexes=id_indexes, since=since)


# -- the person's rights: everything held, erasure ------------------------------------------------------------
def records_of_person(session: Session, person_id: int) -> tuple[Sequence[Row], Sequence[Row]]:
    """(every published account state, every lending event) filed under the person, held ones included."""
    repo = PersonRecordRepository(session.connection())
    return repo.states_of(person_id), repo.events_of(person_id)


def file_counts(session: Session, person_id: int) -> tuple[int, int]:
    """(states in the person's file, states held back from it) of the person."""
    return PersonRecordRepository(session.connection()).counts_of(person_id)


@dataclass(frozen=True, slots=True)
class Erased:
    """What one step of an erasure deleted: account states, reporting periods listed as erased, events."""

    states: int = 0
    periods: int = 0
    events: int = 0
    parties: int = 0  # related-person rows (standard v1.1) held for want of the person's consent


def erase_held(session: Session, *, person_id: int, reason: str, erasure_id: int, moment: datetime, limit: int
               ) -> Erased:
    """Delete up to ``limit`` of the person's states and up to ``limit`` of their events held for ``reason``,
    listing what can never be stored again (``accounts.person_repository``)."""
    repo = PersonRecordRepository(session.connection())
    keys = repo.held_state_keys(person_id=person_id, reason=reason, limit=limit)
    states, periods = repo.erase_states(keys, reason="held_records", erasure_id=erasure_id, moment=moment)
    events = repo.held_events(person_id=person_id, reason=reason, limit=limit)
    deleted = repo.erase_events(events, reason="held_records", erasure_id=erasure_id, moment=moment)
    parties = erase_held_parties(session.connection(), person_id=person_id, reason=reason)
    return Erased(states, periods, deleted, parties)


def erase_periods(session: Session, keys: list[tuple[int, str, str]], *, erasure_id: int, moment: datetime) -> Erased:
    """Delete every version of the given (furnisher, account, period) of a person's expired negative months and
    list them as erased."""
    rows = PersonRecordRepository(session.connection()).erase_periods(keys, reason="expired_negative",
                                                                      erasure_id=erasure_id, moment=moment)
    return Erased(rows, len(keys), 0)

