"""Tables of the enterprises domain: the enterprises (by unified social credit code), the account states of
enterprise borrowers, and the businesses of sole traders' account states.

``account_states`` needs a person on every row and holds millions of them, so an enterprise's accounts are
not stored there (a person id that names nobody would reach every person query, statistics and identity's
moves): they have a table of their own, with the same account columns and the same publication rule (a row
of a load in progress is hidden, ``accounts.models.LoadInProgress``). A sole trader's account is the
owner's: it stays in ``account_states`` under the owner, and ``account_enterprises`` names its business,
row for row by the state's key. Like ``account_states``, neither carries foreign keys (the loader is their
only writer and takes every reference from rows it has just read or written).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT, blind_index_of
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow

USCC = "USCC"  # the blind index's domain: GB 32100-2015 codes


class Enterprise(Base):
    """A business known by its unified social credit code, sealed and blind-indexed like a person's identity
    number: a sole trader's code (an individual business, category 92) identifies a person, and the same code
    may be furnished as a sole trader's by one lender and as an enterprise's by another."""

    __tablename__ = "enterprises"
    __table_args__ = (UniqueConstraint("code_type", "uscc_index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    code_type: Mapped[str] = mapped_column(String(8), default=USCC, doc="The blind index's domain: USCC.")
    uscc_index: Mapped[bytes] = mapped_column(LargeBinary(16), info=blind_index_of("uscc_enc", "code_type"))
    uscc_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    submission_id: Mapped[int] = mapped_column(BigInteger, doc="The load that first named it (a discard of "
                                               "that load deletes it).")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class _StateKey:
    """The key of an account state (furnisher, account, period, version) and the load that wrote the row."""

    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporting_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    submission_id: Mapped[int] = mapped_column(BigInteger)


class EnterpriseState(_StateKey, Base):
    """An enterprise borrower's account as furnished for one reporting period (``borrower_type`` enterprise):
    the columns of ``account_states`` without a person. Never updated: a correction is a new version."""

    __tablename__ = "enterprise_states"
    __table_args__ = (Index(None, "enterprise_id"),)

    line: Mapped[int] = mapped_column(BigInteger)
    enterprise_id: Mapped[int] = mapped_column(BigInteger)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT, doc="enterprise_name as furnished.")
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
    correction: Mapped[int] = mapped_column(SmallInteger)
    has_warnings: Mapped[int] = mapped_column(SmallInteger, default=0)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AccountEnterprise(_StateKey, Base):
    """The business of a sole trader's account state (``borrower_type`` sole_trader): the state itself is in
    ``account_states`` under the owner, with the same key."""

    __tablename__ = "account_enterprises"
    __table_args__ = (Index(None, "enterprise_id"),)

    enterprise_id: Mapped[int] = mapped_column(BigInteger)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT, doc="enterprise_name as furnished.")
