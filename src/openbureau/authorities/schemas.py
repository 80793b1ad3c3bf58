"""API schemas of the authorities domain: an authority's request, what the person and the operator see of
it, and the published transparency report."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from openbureau.authorities.models import LegalBasis
from openbureau.consent.schemas import DOCUMENT_HASH_PATTERN, Subject
from openbureau.reports.schemas import Report

MAX_CITATION = 500
MAX_REFERENCE = 100


class AuthorityRequestCreate(BaseModel):
    """An authority's request for a person's report: the law it rests on, its own reference and the order's
    hash; with a non-disclosure order, that order's reference and its end (both, or neither)."""

    subject: Subject
    basis: LegalBasis
    citation: str = Field(min_length=1, max_length=MAX_CITATION,
                          description="The provision the request rests on, e.g. 'Criminal Procedure Law Art. 54'.")
    reference: str = Field(min_length=1, max_length=MAX_REFERENCE, description="Your own reference of the case.")
    order_hash: str = Field(pattern=DOCUMENT_HASH_PATTERN, max_length=128,
                            description="Hash (hex SHA-256/SM3/SHA-512) or signature (sig:base64) of the order.")
    nondisclosure_ref: str | None = Field(default=None, min_length=1, max_length=MAX_REFERENCE,
                                          description="The non-disclosure order's reference, if one applies.")
    nondisclosure_until: AwareDatetime | None = Field(
        default=None, description="When the non-disclosure order ends (required with it; in the future, within "
                                  "366 days): the person is shown the request and notified then.")
    history_months: int = Field(default=24, ge=1, le=60)


class AuthorityRequestAnswer(BaseModel):
    """The request as recorded, and the person's report (everything shown)."""

    request_id: int
    created_at: datetime
    shown_to_person_from: datetime = Field(description="When the person is shown the request and notified of it.")
    report: Report


class AuthorityRequestRead(BaseModel):
    """A request about the signed-in person, as they see it once no non-disclosure order keeps it from them."""

    id: int
    at: datetime
    authority: str = Field(description="The authority's member code.")
    authority_name: str
    basis: LegalBasis
    citation: str
    reference: str
    nondisclosure_ended_at: datetime | None = Field(description="When the order that kept it from you ended.")


class AuthorityRequestListed(BaseModel):
    """A request as the operator (every one) or its authority (its own) lists it: ids only, no text."""

    id: int
    at: datetime
    authority: str
    person_id: int | None = Field(description="The bureau's person id (the operator's list only).")
    basis: LegalBasis
    nondisclosure_until: datetime | None
    shown_to_person: bool


Cell = int | str  # a published count, or SUPPRESSED


class QuarterFigures(BaseModel):
    """One calendar quarter of the transparency report."""

    quarter: str = Field(description="YYYY-Qn")
    requests: Cell
    persons_affected: Cell
    with_nondisclosure: Cell
    still_under_nondisclosure: Cell = Field(description="At the moment the report was made.")
    by_basis: dict[str, Cell]


class AuthorityFigures(BaseModel):
    """One authority's requests over the year."""

    authority: str
    authority_name: str
    requests: Cell


class TransparencyReport(BaseModel):
    """Requests by authorities in one year, aggregates only; small cells are suppressed (see ``note``)."""

    year: int
    generated_at: datetime
    threshold: int
    note: str
    requests: Cell
    persons_affected: Cell
    with_nondisclosure: Cell
    still_under_nondisclosure: Cell
    by_basis: dict[str, Cell]
    quarters: list[QuarterFigures]
    by_authority: list[AuthorityFigures]
