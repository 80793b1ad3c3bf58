"""Tables of the inquiries domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class Inquiry(Base):
    """One look at a person's file: logged (committed) before the answer leaves the bureau.

    ``subscriber_id`` is the member that asked; it is None for the person's own request made at the bureau
    (``actor_code`` then names the operator who served it). Hard inquiries (loan origination) are shown to
    other lenders and count as new-credit activity; soft ones are shown only to the person and the asker.
    """

    __tablename__ = "inquiries"
    __table_args__ = (Index(None, "person_id", "created_at"), Index(None, "subscriber_id", "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"),
                                                      doc="None: the person's own request at the bureau.")
    person_id: Mapped[int | None] = mapped_column(BigInteger, doc="None when no file matched.")
    enterprise_id: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="An enterprise's report (standard v1.1): the enterprise looked at; person_id "
                                      "is then None, and no person sees the inquiry.")
    purpose: Mapped[str] = mapped_column(String(32))
    hard: Mapped[int] = mapped_column(SmallInteger, doc="1: a hard inquiry (origination), shown to lenders.")
    basis: Mapped[str] = mapped_column(String(16), doc="consent, exception or self")
    consent_id: Mapped[int | None] = mapped_column(BigInteger)
    basis_note: Mapped[str | None] = mapped_column(Text)
    declared_monthly_income: Mapped[int | None] = mapped_column(BigInteger)
    actor_code: Mapped[str | None] = mapped_column(String(64), default=None,
                                                   doc="Who made the request: member code or OPERATOR:<user>.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Objection(Base):
    """A person's refusal of one use of their file that needs no consent of theirs (PIPL Art. 44; the purposes
    the profile's ``objection_grounds`` name): in force from ``objected_at`` until it is withdrawn."""

    __tablename__ = "objections"
    __table_args__ = (Index(None, "person_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(32))
    objected_by: Mapped[str] = mapped_column(String(64), doc="PERSON:<id>.")
    objected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64), default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
