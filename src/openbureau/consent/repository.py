"""Queries of the consent domain."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection, Row, Table, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from openbureau.consent.models import Consent, ConsentStatus
from openbureau.consent.profiles import Purpose


def valid_at(moment: datetime):
    """SQL condition: the consent is in force at ``moment`` (not revoked, inside its window)."""
    return and_(
        Consent.status != ConsentStatus.REVOKED,
        Consent.valid_from <= moment,
        or_(Consent.valid_until.is_(None), Consent.valid_until > moment),
    )


# The two lookups of every inquiry, built once (building a statement costs more than running it), read as
# plain rows of the consent's terms (every inquiry makes one; an ORM object cost more than the query).
_C = Consent.__table__.c
TERMS = (_C.id, _C.consent_ref, _C.grantee_member_id, _C.purpose, _C.scope, _C.subject_id_type, _C.subject_id_index,
         _C.valid_from, _C.valid_until, _C.status)
_BY_REF = select(*TERMS).where(_C.grantee_member_id == bindparam("grantee"), _C.consent_ref == bindparam("ref"))
_IN_FORCE = select(*TERMS).where(
    Consent.subject_id_type == bindparam("id_type"), Consent.subject_id_index == bindparam("id_index"),
    Consent.grantee_member_id == bindparam("grantee"), Consent.purpose == bindparam("purpose"),
    valid_at(bindparam("moment", type_=Consent.valid_from.type)),
).order_by(Consent.id.desc()).limit(1)


class ConsentRepository:
    """SQL about consents, for request-sized work in an ORM session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, consent_id: int) -> Consent | None:
        """The consent with ``consent_id``."""
        return self.session.get(Consent, consent_id)

    def by_ref(self, *, grantee_member_id: int, consent_ref: str) -> Row | None:
        """The terms (``TERMS``) of the grantee's consent with its own reference; change consents through
        ``get``."""
        return self.session.connection().execute(_BY_REF, {"grantee": grantee_member_id, "ref": consent_ref}).first()

    def for_subject(self, *, id_type: str, id_index: bytes, grantee_member_id: int | None) -> list[Consent]:
        """Consents about one subject, newest first; of one grantee when given."""
        stmt = select(Consent).where(Consent.subject_id_type == id_type, Consent.subject_id_index == id_index)
        if grantee_member_id is not None:
            stmt = stmt.where(Consent.grantee_member_id == grantee_member_id)
        return list(self.session.scalars(stmt.order_by(Consent.id.desc())))

    def in_force(self, *, id_type: str, id_index: bytes, grantee_member_id: int, purpose: str,
                 moment: datetime) -> Row | None:
        """The terms (``TERMS``) of a consent of the grantee for the purpose, in force at ``moment`` (the
        newest one)."""
        return self.session.connection().execute(_IN_FORCE, {
            "id_type": id_type, "id_index": id_index, "grantee": grantee_member_id, "purpose": purpose,
            "moment": moment}).first()

    def add(self, consent: Consent) -> None:
        """Stage a new consent."""
        self.session.add(consent)
        self.session.flush()

    def existing_refs(self, *, grantee_member_id: int, staged: Table) -> pl.DataFrame:
        """(``consent_ref``, ``consent_id``, ``stored_status``) of the grantee's refs in ``staged``."""
        conn = self.session.connection()
        rows = conn.execute(select(Consent.consent_ref, Consent.id, Consent.status)
                            .join(staged, staged.c.consent_ref == Consent.consent_ref)
                            .where(Consent.grantee_member_id == grantee_member_id)).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "consent_ref": pl.String, "consent_id": pl.Int64, "stored_status": pl.String})

    def revoke_many(self, *, ids: list[int], moment: datetime, reason: str) -> None:
        """Mark consents revoked."""
        for start in range(0, len(ids), 5_000):
            self.session.execute(update(Consent).where(Consent.id.in_(ids[start:start + 5_000])).values(
                status=ConsentStatus.REVOKED, revoked_at=moment, revocation_reason=reason))


def subjects_granted_since(conn: Connection, *, grantee_member_id: int, purpose: str, since: datetime
                           ) -> pl.DataFrame:
    """(``id_type``, ``id_index``) of the grantee's consents for ``purpose`` recorded at or after ``since``."""
    rows = conn.execute(select(Consent.subject_id_type, Consent.subject_id_index).distinct().where(
        Consent.grantee_member_id == grantee_member_id, Consent.purpose == purpose, Consent.created_at >= since)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={"id_type": pl.String, "id_index": pl.Binary})


def subjects_in_force(conn: Connection, *, grantee_member_id: int, purpose: str, staged: Table,
                      moment: datetime) -> pl.DataFrame:
    """(``id_type``, ``id_index``) among ``staged`` holding a consent of the grantee in force at ``moment``.

    Written as ``IN (SELECT ...)`` so that the planner probes the consents index once per staged key instead
    of scanning every consent for each chunk (the temporary table has no statistics).
    """
    rows = conn.execute(
        select(Consent.subject_id_type, Consent.subject_id_index).distinct()
        .where(Consent.subject_id_index.in_(select(staged.c.id_index)),
               Consent.grantee_member_id == grantee_member_id, Consent.purpose == purpose, valid_at(moment))
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={"id_type": pl.String, "id_index": pl.Binary})


FURNISH_CONSENT_SCHEMA = {"consent_id": pl.Int64, "furnisher_id": pl.Int64, "consent_ref": pl.String,
                          "id_type": pl.String, "id_index": pl.Binary, "recorded_at": pl.Datetime("us", "UTC")}


def furnish_consents(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Consents to furnish recorded in ``[since, until)`` and not revoked: ``consent_id``, ``furnisher_id``
    (the grantee), ``consent_ref``, the subject (``id_type``, ``id_index``) and ``recorded_at``."""
    rows = conn.execute(select(Consent.id, Consent.grantee_member_id, Consent.consent_ref, Consent.subject_id_type,
                               Consent.subject_id_index, Consent.created_at).where(
        Consent.purpose == Purpose.FURNISH, Consent.status != ConsentStatus.REVOKED, Consent.created_at >= since,
        Consent.created_at < until)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=FURNISH_CONSENT_SCHEMA, orient="row")
