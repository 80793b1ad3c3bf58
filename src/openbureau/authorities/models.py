"""Tables of the authorities domain: the requests for a person's report made by authorities (a court, the
police, a tax office). Each names the authority by member id and the person by id; whatever the authority
wrote (its citation, its reference, its non-disclosure order's reference) is encrypted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime


class LegalBasis(StrEnum):
    """The kind of law an authority's request rests on (the citation names the provision itself)."""

    COURT_ORDER = "court_order"  # an order of a court (civil or criminal proceedings, enforcement)
    CRIMINAL_INVESTIGATION = "criminal_investigation"  # the police or a prosecutor investigating an offence
    TAX_ASSESSMENT = "tax_assessment"  # a tax office assessing or collecting a tax
    OTHER = "other"  # another authority empowered by law (the citation says which)


class AuthorityRequest(Base):
    """One request by an authority for a person's report: its legal basis, the authority's reference, the
    order's hash, and the non-disclosure order that keeps it from the person until ``nondisclosure_until``
    (both or neither). Never updated: an order extended is a new request."""

    __tablename__ = "authority_requests"
    __table_args__ = (
        Index(None, "person_id"), Index(None, "authority_id", "created_at"), Index(None, "created_at"),
        CheckConstraint("(nondisclosure_until IS NULL) = (nondisclosure_ref_enc IS NULL)", name="nondisclosure"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    authority_id: Mapped[int] = mapped_column(BigInteger, doc="The requesting member (role authority).")
    person_id: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(String(32), doc="A LegalBasis.")
    citation_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT,
                                                doc="The provision the request rests on (at most 500 characters).")
    reference_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT,
                                                 doc="The authority's own reference (at most 100 characters).")
    order_hash: Mapped[str] = mapped_column(String(128), doc="Hash or signature of the order document.")
    nondisclosure_ref_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info=CIPHERTEXT, default=None)
    nondisclosure_until: Mapped[datetime | None] = mapped_column(
        UtcDateTime, default=None, doc="The person is shown the request, and notified, from this moment.")
    requested_by: Mapped[str] = mapped_column(String(64), doc="The actor code the request was made under.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
