"""Replay a simulated market's credit applications (``truth/applications.parquet``) into a bureau: each is
a lender's hard inquiry (purpose ``loan_origination``) at the moment the person applied.

Under the CN profile every query needs the person's consent to that lender for that purpose (Credit
Reporting Regulation Art. 18): the applicant gives it with the application, so each application brings its
consent (reference ``<LENDER>-<application_id>``, granted a minute before the application, valid 30 days).
The consents go through the consent domain's import (validated, sealed, audited, the person told), a lender's
lines at a time; the inquiries through the inquiry log (``inquiries.log.write_entries``: the inquiry row and
the audit entry of the look, in one transaction per chunk). A person with no file at the bureau yields an
inquiry that matched no file, as at the counter. Run after the furnishing files, so that every applicant the
lenders reported has a file; the inquiries carry their own moments, so their order of arrival changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from openbureau.audit.service import AuditNote
from openbureau.consent import service as consents
from openbureau.consent.profiles import Purpose
from openbureau.identity.repository import PersonRepository
from openbureau.inquiries.log import LogEntry, write_entries
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.sim.applications import APPLICATIONS_FILE

CONSENT_LEAD = timedelta(minutes=1)  # the consent is signed with the application, just before the query
CONSENT_VALID = timedelta(days=30)
CHUNK = 5_000  # inquiries per transaction


@dataclass(slots=True)
class ApplicationTotals:
    """What the replay of the applications came to."""

    applications: int = 0
    consents: int = 0
    inquiries: int = 0
    persons_found: int = 0


def replay_applications(engine: Engine, *, vault: PiiVault, market: Path) -> ApplicationTotals:
    """Record every application of ``market`` as its lender's hard inquiry, under the applicant's consent."""
    totals = ApplicationTotals()
    path = market / "truth" / APPLICATIONS_FILE
    if not path.exists():  # a market generated before applications were simulated
        return totals
    apps = pl.read_parquet(path)
    totals.applications = apps.height
    for (code,), part in apps.partition_by("furnisher", as_dict=True, maintain_order=True).items():
        with session_scope(engine) as session:
            lender = get_member(session, code=str(code))
        part = part.with_columns(consent_ref=pl.format("{}-{}", pl.col("furnisher"), pl.col("application_id")))
        indexed = _import_consents(engine, vault=vault, lender=lender, part=part, totals=totals)
        _log_inquiries(engine, lender=lender, part=indexed, totals=totals)
    return totals


def _import_consents(engine: Engine, *, vault: PiiVault, lender, part: pl.DataFrame,
                     totals: ApplicationTotals) -> pl.DataFrame:
    """Import the lender's consents for loan origination; the applications with their consent's id and the
    applicant's blind index."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    file = part.select(
        "consent_ref", "id_type", "id_number", "full_name", purpose=pl.lit(Purpose.LOAN_ORIGINATION.value),
        granted_at=(pl.col("applied_at") - CONSENT_LEAD).dt.strftime(stamp),
        expires_at=(pl.col("applied_at") + CONSENT_VALID).dt.strftime(stamp), channel=pl.lit("app"),
        evidence_hash=pl.col("consent_ref").map_elements(lambda ref: hashlib.sha256(ref.encode()).hexdigest(),
                                                         return_dtype=pl.String),
        status=pl.lit("active"), revoked_at=pl.lit(None, pl.String))
    now = part["applied_at"].max() + timedelta(seconds=1)
    prepared = consents.prepare_rows(vault=vault, actor=lender, rows=file.with_row_index("_line", offset=2).cast({"_line": pl.Int64}),
                                     now=now,
                                     sha256=hashlib.sha256(file.write_csv().encode()).hexdigest())
    if prepared.outcome.rejected:
        raise ValueError(f"{lender.code}: {prepared.outcome.rejected} application consents rejected: "
                         f"{prepared.outcome.findings[:3]}")
    stored = []
    for number, chunk in enumerate(prepared.chunks(), start=1):
        with session_scope(engine, write=True) as session:
            totals.consents += consents.store_import_chunk(session, actor=lender, summary=prepared.summary, chunk=chunk,
                                                           now=now, part=number).created
            stored.append(consents.consent_ids(session, grantee_member_id=lender.id,
                                               refs=chunk.select("consent_ref")))
    return part.join(prepared.good.select("consent_ref", pl.col("subject_id_index").alias("id_index")),
                     on="consent_ref").join(pl.concat(stored), on="consent_ref")


def _log_inquiries(engine: Engine, *, lender, part: pl.DataFrame, totals: ApplicationTotals) -> None:
    """Write the lender's hard inquiries a chunk at a time through the inquiry log."""
    purpose = Purpose.LOAN_ORIGINATION.value
    for start in range(0, part.height, CHUNK):
        chunk = part.slice(start, CHUNK)
        with session_scope(engine, write=True) as session:
            persons = PersonRepository(session.connection()).persons_of_subjects(chunk.select("id_type", "id_index"))
            rows = chunk.join(persons, on=["id_type", "id_index"], how="left", maintain_order="left")
            entries = []
            for ref, consent_id, person_id, at in rows.select("consent_ref", "consent_id", "person_id",
                                                              "applied_at").iter_rows():
                entries.append(LogEntry(
                    values=dict(subscriber_id=lender.id, person_id=person_id, purpose=purpose, hard=1,
                                basis="consent", consent_id=consent_id, basis_note=None, declared_monthly_income=None,
                                actor_code=lender.code, created_at=at),
                    audit=AuditNote(lender.id, lender.code, "inquiry.read", person_id, purpose,
                                    {"basis": f"consent:{ref}"}) if person_id is not None else None))
            write_entries(session, entries)
        totals.inquiries += len(entries)
        totals.persons_found += sum(1 for e in entries if e.values["person_id"] is not None)

