"""Tables of the accounts domain: the account states every other domain reads, and which of them are published.

``account_states`` is written by intake's load (through ``accounts.repository``), read by tradelines,
reports, scoring, signals, quality and disputes, and moved between persons by identity; every one of them
goes through this domain's repository, which alone knows the table and the filter that hides a load in
progress (``loads_in_progress``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from openbureau.kit.crypto import CIPHERTEXT, blind_index_of
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class AccountState(Base):
    """An account as furnished for one reporting period. Never updated: a correction is a new version.

    The largest table by far, so it carries no foreign-key constraints: a per-row check on each of its
    references more than doubled the bulk load on PostgreSQL. The loader is its only writer and takes
    ``submission_id``, ``furnisher_id`` and ``person_id`` from rows it has just read or written. Every row
    carries ``person_id`` so the table can be partitioned or distributed by person.
    """

    __tablename__ = "account_states"
    __table_args__ = (
        Index(None, "person_id"),
        Index("ix_account_states_held", "furnisher_id", "person_id", sqlite_where=text("held_reason IS NOT NULL"),
              postgresql_where=text("held_reason IS NOT NULL")),
    )

    # The natural key is the primary key: no surrogate id, so no sequence call and one index less per row.
    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporting_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    submission_id: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    identity_enc: Mapped[bytes] = mapped_column(
        LargeBinary, info=CIPHERTEXT, doc="The record's name, birth date, phone and address as furnished, encrypted."
    )
    product_type: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit: Mapped[int | None] = mapped_column(BigInteger)
    original_amount: Mapped[int | None] = mapped_column(BigInteger)
    term_months: Mapped[int | None] = mapped_column(Integer)
    balance: Mapped[int] = mapped_column(BigInteger)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    past_due_amount: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer)
    payment_status: Mapped[str] = mapped_column(String(1))
    account_status: Mapped[str] = mapped_column(String(16))
    first_delinquency_date: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    consent_ref: Mapped[str | None] = mapped_column(String(64))
    negative_notice_date: Mapped[date | None] = mapped_column(Date)
    correction: Mapped[int] = mapped_column(SmallInteger)
    has_warnings: Mapped[int] = mapped_column(SmallInteger, default=0)
    negative_held: Mapped[int] = mapped_column(
        SmallInteger, default=0,
        doc="1: negative information furnished without a notice to the person (Art. 15); its negative "
            "status is not published until a record with a notice arrives.")
    held_reason: Mapped[str | None] = mapped_column(
        String(16), default=None,
        doc="Why the record is held back from the person's file: no_consent (quarantine). The only "
            "columns ever updated are this one and released_at, when the consent arrives.")
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    history_profile: Mapped[str | None] = mapped_column(
        String(24), default=None,
        doc="A Metro 2 record's payment history profile as furnished (24 CRRG characters, the month before "
            "reporting_period first); it gives the account's earlier months where the bureau holds no state "
            "of them (tradelines.history). Null for other formats.")
    facilitator_id: Mapped[int | None] = mapped_column(
        BigInteger, default=None,
        doc="Standard v1.1: the member (platform) that originated the loan, when not the furnisher itself.")
    facilitator_account_id: Mapped[str | None] = mapped_column(
        String(64), default=None,
        doc="Standard v1.1: the facilitator's account number of the same loan, when a funder furnishes it.")


class AccountFunder(Base):
    """A funder of a version of an account state and its share (standard v1.1, ``funder_N_code/share``).

    Keyed like the state it belongs to, plus the funder's position in the record (1-5); a correction is a new
    version of the state, so it carries its own funders and the replaced version keeps its own. No foreign key,
    for the same reason as ``account_states``: the loader writes both from the rows it has just prepared.
    """

    __tablename__ = "account_funders"
    # The second index walks a funder's accounts in (furnisher, account) order: the funder's review's pages.
    __table_args__ = (Index(None, "funder_id", "reporting_period"),
                      Index(None, "funder_id", "furnisher_id", "furnisher_account_id"))

    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporting_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    funder_id: Mapped[int] = mapped_column(BigInteger, doc="The funding member.")
    share_bp: Mapped[int] = mapped_column(Integer, doc="Its share of the loan in basis points (1-10000).")


class AccountParty(Base):
    """A related person on a version of an account state: a co-borrower or a guarantor (standard v1.1,
    ``party_N_*``).

    ``person_id`` is the person the party's document links to, by the same linking as the borrower's;
    ``identity_enc`` seals the party's document, name and birth date as furnished. A party furnished without a
    consent in force is stored held (``held_reason`` no_consent) and never shown; the account itself loads.
    """

    __tablename__ = "account_parties"
    __table_args__ = (Index(None, "person_id"),)

    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporting_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16), doc="co_borrower or guarantor")
    person_id: Mapped[int] = mapped_column(BigInteger)
    identity_enc: Mapped[bytes] = mapped_column(
        LargeBinary, info=CIPHERTEXT, doc="The party's document, name and birth date as furnished, encrypted.")
    liability: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="Guaranteed amount (guarantor) or joint liability (co-borrower; None: the "
                                      "balance), minor units of the state's currency.")
    consent_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    held_reason: Mapped[str | None] = mapped_column(
        String(16), default=None, doc="no_consent: furnished without the person's consent; never shown.")


class ErasedState(Base):
    """An account's reporting period erased at the person's request (``people.erasure``): the suppression list.
    A record of it furnished again is rejected (``ERASED_RECORD``), so that an erasure survives a re-sent file
    and a consent's release. Only a period of which no version is left is listed: a furnisher stays able to
    correct what the file still shows."""

    __tablename__ = "erased_states"

    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporting_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), doc="held_records or expired_negative")
    erasure_id: Mapped[int] = mapped_column(BigInteger, doc="The erasure request.")
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ErasedEvent(Base):
    """A lending event erased at the person's request, by its id and keyed digest: the same event sent again
    is acknowledged as a duplicate and not stored; another under its id is refused (``EVENT_ID_REUSED``)."""

    __tablename__ = "erased_events"

    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    reason: Mapped[str] = mapped_column(String(32))
    erasure_id: Mapped[int] = mapped_column(BigInteger)
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoadInProgress(Base):
    """A submission whose records are being written: they are stored but not yet published.

    A load writes in short transactions; every reader of ``account_states`` leaves out the rows of the
    submissions listed here (``accounts.repository.PUBLISHED``), and the load publishes all of its rows at
    once by deleting its entry in its last, short transaction. A killed load leaves its entry behind, so
    its rows stay invisible until the next load removes them (``intake.loader.discard_interrupted``).
    """

    __tablename__ = "loads_in_progress"

    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    first_person_id: Mapped[int] = mapped_column(BigInteger, doc="Persons numbered from here on are the load's.")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LendingEvent(Base):
    """A lending event as furnished the day it happened: a loan applied for, opened, repaid, late, settled,
    closed or written off (docs/events.md). Never updated but for the consent gate's release and the link
    to a person.

    ``person_id`` is the person the event's subject was filed under when it was stored, or None when the
    bureau had no person for it and a load was running (it could not number one): such an event is found by
    its subject (``id_type``, ``id_index``) until a later step links it. ``id_enc`` keeps the identity
    number encrypted so that the person can be created from the event alone.
    """

    __tablename__ = "lending_events"
    __table_args__ = (
        UniqueConstraint("furnisher_id", "event_id"),
        Index(None, "person_id", "occurred_at"),
        Index(None, "id_type", "id_index"),
        Index(None, "furnisher_id", "furnisher_account_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    id_type: Mapped[str] = mapped_column(String(16))
    id_index: Mapped[bytes] = mapped_column(LargeBinary(16), info=blind_index_of("id_enc", "id_type"))
    id_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    identity_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    product_type: Mapped[str | None] = mapped_column(String(16), default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    term_months: Mapped[int | None] = mapped_column(Integer, default=None)
    opened_on: Mapped[date | None] = mapped_column(Date, default=None)
    amount_due: Mapped[int | None] = mapped_column(BigInteger, default=None)
    balance: Mapped[int | None] = mapped_column(BigInteger, default=None)
    days_past_due: Mapped[int | None] = mapped_column(Integer, default=None)
    past_due_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    consent_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16), doc="Keyed digest of the event as sent: a resent "
                                          "id with other content is refused (EVENT_ID_REUSED).")
    has_warnings: Mapped[int] = mapped_column(SmallInteger, default=0)
    held_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    submission_id: Mapped[int | None] = mapped_column(BigInteger, default=None, doc="The event file, if any.")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EventDiscrepancy(Base):
    """An event the furnisher's monthly file contradicts (or leaves out): a data-quality finding of that
    furnisher, found by reconciliation (``intake.events.reconcile``)."""

    __tablename__ = "event_discrepancies"
    __table_args__ = (UniqueConstraint("event_row_id", "code"), Index(None, "furnisher_id", "detected_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_row_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    reporting_period: Mapped[str] = mapped_column(String(7))
    code: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
