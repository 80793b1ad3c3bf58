"""Queries of the rights domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    exists,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from openbureau.identity.repository import same_person
from openbureau.kit.db import UtcDateTime
from openbureau.rights.models import FraudAlert, FreezeLift, IdentityTheftReport, SecurityFreeze

_A = FraudAlert.__table__.c
_F = SecurityFreeze.__table__.c
_L = FreezeLift.__table__.c
_MOMENT = bindparam("moment")
# Alerts in force at a moment: placed, not expired (expires_at excluded), not removed.
_ALERTS_AT = (select(_A.id, _A.kind, _A.placed_at, _A.expires_at)
              .where(same_person(_A.person_id, bindparam("person_id")), _A.placed_at <= _MOMENT, _A.expires_at > _MOMENT,
                     or_(_A.removed_at.is_(None), _A.removed_at > _MOMENT)).order_by(_A.placed_at))
# Whether a freeze is in force at a moment and no temporary lift of it covers the moment.
_FROZEN_AT = select(exists().where(
    same_person(_F.person_id, bindparam("person_id")), _F.placed_at <= _MOMENT,
    or_(_F.removed_at.is_(None), _F.removed_at > _MOMENT),
    ~exists().where(_L.freeze_id == _F.id, and_(_L.starts_at <= _MOMENT, _L.ends_at > _MOMENT))))
# Both in one statement (every inquiry reads them; a round trip each on PostgreSQL): the alerts in force, and
# one row of NULLs when a freeze is (an alert always has an id). The alerts' order is made in Python.
_PROTECTIONS_AT = union_all(
    select(_A.id, _A.kind, _A.placed_at, _A.expires_at)
    .where(same_person(_A.person_id, bindparam("person_id")), _A.placed_at <= _MOMENT, _A.expires_at > _MOMENT,
           or_(_A.removed_at.is_(None), _A.removed_at > _MOMENT)),
    select(cast(null(), BigInteger), cast(null(), String), cast(null(), UtcDateTime), cast(null(), UtcDateTime))
    .where(_FROZEN_AT.scalar_subquery()))


def protections_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any fraud alert or freeze, of any time, names the person of ``person_id``: false only when
    :meth:`RightsRepository.protections_at` finds nothing at every moment."""
    return or_(exists().where(same_person(_A.person_id, person_id)), exists().where(same_person(_F.person_id, person_id)))


def alert_or_freeze(person_id: ColumnElement, moment: datetime) -> ColumnElement[bool]:
    """Whether a fraud alert or a freeze is in force on the file of ``person_id`` (a column of another domain's
    statement) at ``moment``; a temporary lift of the freeze does not count: it opens the file to the person's
    own application, not to lists made without their request."""
    alert = exists().where(same_person(_A.person_id, person_id), _A.placed_at <= moment, _A.expires_at > moment,
                           or_(_A.removed_at.is_(None), _A.removed_at > moment))
    frozen = exists().where(same_person(_F.person_id, person_id), _F.placed_at <= moment,
                            or_(_F.removed_at.is_(None), _F.removed_at > moment))
    return or_(alert, frozen)


class RightsRepository:
    """All SQL about fraud alerts, freezes and identity-theft reports."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: FraudAlert | SecurityFreeze | FreezeLift | IdentityTheftReport) -> None:
        """Stage a row and write it."""
        self.session.add(row)
        self.session.flush()

    def alerts_at(self, person_id: int, moment: datetime) -> list[tuple]:
        """(id, kind, placed_at, expires_at) of the alerts in force at ``moment``, oldest first (plain rows:
        read on every inquiry)."""
        params = {"person_id": person_id, "moment": moment}
        return [tuple(r) for r in self.session.connection().execute(_ALERTS_AT, params)]

    def protections_at(self, person_id: int, moment: datetime) -> tuple[list[tuple], bool]:
        """(:meth:`alerts_at`, :meth:`frozen_at`) read in one statement."""
        alerts, frozen = [], False
        for r in self.session.connection().execute(_PROTECTIONS_AT, {"person_id": person_id, "moment": moment}):
            if r[0] is None:
                frozen = True
            else:
                alerts.append(tuple(r))
        alerts.sort(key=lambda a: a[2])  # oldest first, as _ALERTS_AT orders them
        return alerts, frozen

    def frozen_at(self, person_id: int, moment: datetime) -> bool:
        """Whether a freeze refuses new-credit inquiries at ``moment``."""
        return bool(self.session.connection().execute(_FROZEN_AT, {"person_id": person_id, "moment": moment})
                    .scalar())

    def alert(self, alert_id: int) -> FraudAlert | None:
        """The alert with ``alert_id``."""
        return self.session.get(FraudAlert, alert_id)

    def freeze(self, freeze_id: int) -> SecurityFreeze | None:
        """The freeze with ``freeze_id``."""
        return self.session.get(SecurityFreeze, freeze_id)

    def alerts_of(self, person_id: int) -> list[FraudAlert]:
        """Every alert of the person, newest first."""
        return list(self.session.scalars(select(FraudAlert).where(same_person(FraudAlert.person_id, person_id))
                                         .order_by(FraudAlert.placed_at.desc(), FraudAlert.id.desc())))

    def freezes_of(self, person_id: int) -> list[SecurityFreeze]:
        """Every freeze of the person, newest first."""
        return list(self.session.scalars(select(SecurityFreeze).where(same_person(SecurityFreeze.person_id, person_id))
                                         .order_by(SecurityFreeze.placed_at.desc(), SecurityFreeze.id.desc())))

    def lifts_of(self, person_id: int) -> list[FreezeLift]:
        """Every temporary lift of the person's freezes, oldest first."""
        return list(self.session.scalars(select(FreezeLift).where(same_person(FreezeLift.person_id, person_id))
                                         .order_by(FreezeLift.starts_at, FreezeLift.id)))

    def theft_reports_of(self, person_id: int) -> list[IdentityTheftReport]:
        """Every identity-theft report of the person, newest first."""
        return list(self.session.scalars(select(IdentityTheftReport).where(same_person(IdentityTheftReport.person_id, person_id))
                                         .order_by(IdentityTheftReport.filed_at.desc(), IdentityTheftReport.id.desc())))
