"""Tables of prescreening: the persons' opt-outs (FCRA §604(e)), a lender's prescreens and the persons each
selected, their names and addresses sealed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime

# The purpose a prescreen's soft inquiry is logged under (``inquiries.purpose``). Not a ``consent.profiles.Purpose``:
# no consent is given for it and no member may ask a report for it; only a prescreen writes it.
PRESCREEN_PURPOSE = "prescreen"


class OptOutTerm:
    """How long an opt-out lasts: the profile's years when made by phone or online (§604(e)(4)(A)(i)), until
    withdrawn when made by a signed notice (§604(e)(4)(A)(ii))."""

    FIVE_YEARS = "five_years"
    PERMANENT = "permanent"
    ALL = (FIVE_YEARS, PERMANENT)


class PrescreenOptOut(Base):
    """A person's election to be left off every prescreened list: in force from ``starts_at`` until
    ``expires_at`` (NULL: permanent) or until the person opts back in (``ended_at``)."""

    __tablename__ = "prescreen_opt_outs"
    __table_args__ = (Index(None, "person_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    term: Mapped[str] = mapped_column(String(16), doc="five_years or permanent")
    channel: Mapped[str] = mapped_column(String(16), doc="online (the person signed in) or counter")
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="None: until the person opts back in.")
    made_by: Mapped[str] = mapped_column(String(64), doc="PERSON:<id> or the operator's code.")
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None, doc="When the person opted back in.")
    ended_by: Mapped[str | None] = mapped_column(String(64), default=None)


class Prescreen(Base):
    """A lender's prescreen: its criteria and firm offer (no personal data), what the run found, and when.

    ``status``: ``running`` while chunks are committed, ``done`` at the end (a run that stopped half-way
    stays ``running`` with the persons committed so far; it is never resumed, the lender runs a new one).
    """

    __tablename__ = "prescreens"
    __table_args__ = (Index(None, "subscriber_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    actor_code: Mapped[str] = mapped_column(String(64))
    criteria: Mapped[str] = mapped_column(Text, doc="The criteria as JSON (schemas.PrescreenCriteria).")
    offer_product: Mapped[str] = mapped_column(String(32))
    offer_terms: Mapped[str] = mapped_column(String(500), doc="The firm offer as the lender states it.")
    max_persons: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(128), doc="The scorecard the score range used.")
    status: Mapped[str] = mapped_column(String(16))
    persons_considered: Mapped[int] = mapped_column(Integer, doc="Files read against the criteria.")
    persons_selected: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PrescreenSelection(Base):
    """One person on a prescreen's list: the soft inquiry logged on their file, and what the lender may mail
    to (name and address, sealed as one JSON value; decrypted only when the list is read)."""

    __tablename__ = "prescreen_selections"
    __table_args__ = (UniqueConstraint("prescreen_id", "person_id"), Index(None, "person_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prescreen_id: Mapped[int] = mapped_column(ForeignKey("prescreens.id"))
    person_id: Mapped[int] = mapped_column(BigInteger)
    inquiry_id: Mapped[int] = mapped_column(BigInteger)
    mailing_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
