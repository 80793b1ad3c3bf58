"""Tables of the rights domain: fraud alerts, security freezes (and their temporary lifts), identity-theft
reports. Each names the person by id only; who placed or lifted it is the actor's code."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime


class AlertKind(StrEnum):
    """The two fraud alerts of FCRA §605A."""

    INITIAL = "initial"  # §605A(a): one year, on the person's good-faith suspicion
    EXTENDED = "extended"  # §605A(b): seven years, on an identity-theft report


class FraudAlert(Base):
    """A fraud alert on a person's file, in force from ``placed_at`` until ``expires_at`` or its removal."""

    __tablename__ = "fraud_alerts"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    theft_report_id: Mapped[int | None] = mapped_column(BigInteger, doc="The identity-theft report (extended).")
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class SecurityFreeze(Base):
    """A security freeze (FCRA §605A(i)): no report for new credit from ``placed_at`` until it is removed,
    except inside a temporary lift (:class:`FreezeLift`)."""

    __tablename__ = "security_freezes"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class FreezeLift(Base):
    """A window during which a freeze does not refuse: ``starts_at`` included, ``ends_at`` excluded."""

    __tablename__ = "freeze_lifts"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    freeze_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdentityTheftReport(Base):
    """A person's identity-theft report (FCRA §603(q)(4): a report filed with a law enforcement agency), by
    its reference, encrypted; the accounts it names are blocked (``disputes.models.ItemBlock``)."""

    __tablename__ = "identity_theft_reports"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    report_ref_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
