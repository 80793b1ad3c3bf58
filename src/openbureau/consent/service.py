"""Rules of the consent registry: grant, revoke, list, bulk import, and the checks others rely on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.consent.errors import CONSENT_NOT_FOUND
from openbureau.consent.importer import validate_consent_rows
from openbureau.consent.models import Consent, ConsentStatus
from openbureau.consent.profiles import Purpose
from openbureau.consent.repository import ConsentRepository
from openbureau.consent.schemas import CLOCK_SKEW, ConsentCreate, ConsentRead, ImportFinding, Subject
from openbureau.documents import normalise_id
from openbureau.kit.crypto import PiiVault, mask
from openbureau.kit.dialects import dialect_for
from openbureau.kit.errors import INVALID_WINDOW, ROLE_REQUIRED, Conflict, Forbidden, NotFound, Unprocessable
from openbureau.notifications import service as notifications
from openbureau.principals import Action, Kind, Principal, authorize

# Which role a member needs to hold a consent for each purpose. The person's own look at the file and the
# bureau's dispute handling rest on the person's request, not on a consent held by a member.
GRANTEE_ROLE = {
    Purpose.FURNISH: "furnisher",
    Purpose.LOAN_ORIGINATION: "subscriber",
    Purpose.ACCOUNT_REVIEW: "subscriber",
    Purpose.COLLECTIONS: "subscriber",
}


class Actor(Protocol):
    """The member acting (a members.models.Member)."""

    id: int
    code: str

    def has_role(self, role: str) -> bool: ...


def subject_index(vault: PiiVault, subject: Subject) -> bytes:
    """The blind index of a subject's identity document (under the current index key)."""
    return vault.blind_index(normalise_id(subject.id_number), domain=subject.id_type)


def subject_indexes(vault: PiiVault, subject: Subject) -> tuple[bytes, ...]:
    """Every blind index the subject's stored rows may carry: one, or two during an index key rotation."""
    return vault.index_candidates(normalise_id(subject.id_number), domain=subject.id_type)


def _check_grantee(actor: Actor, purpose: Purpose) -> None:
    role = GRANTEE_ROLE.get(purpose)
    if role is None:
        raise Unprocessable(f"a consent for {purpose.value} is not held by a member", code="PURPOSE_NOT_GRANTABLE",
                            field="purpose")
    if not actor.has_role(role):
        raise Forbidden(f"a consent for {purpose.value} is held by a {role}; {actor.code} is not one",
                        code=ROLE_REQUIRED, field="purpose")


def check_evidence_time(*, captured_at: datetime, valid_from: datetime, now: datetime) -> None:
    """A consent is given before it is recorded, and takes effect only once given (PIPL Art. 14: consent is
    given voluntarily and explicitly, so it cannot cover a time before it existed). Differences of instants
    are compared, never an instant moved by the skew, which overflows at the ends of the calendar."""
    if captured_at - now > CLOCK_SKEW:
        raise Unprocessable("the consent's evidence is dated in the future: captured_at must not be later than "
                            "now", code="EVIDENCE_IN_FUTURE", field="evidence.captured_at")
    if captured_at - valid_from > CLOCK_SKEW:
        raise Unprocessable("valid_from is before the consent was given (evidence.captured_at)",
                            code=INVALID_WINDOW, field="valid_from")


def grant(session: Session, *, vault: PiiVault, actor: Actor, data: ConsentCreate,
          now: datetime | None = None) -> Consent:
    """Record a consent given to ``actor``; audited."""
    now = now or datetime.now(UTC)
    _check_grantee(actor, data.purpose)
    repo = ConsentRepository(session)
    if repo.by_ref(grantee_member_id=actor.id, consent_ref=data.consent_ref) is not None:
        raise Conflict(f"you already recorded consent {data.consent_ref}", code="CONSENT_EXISTS", field="consent_ref")
    valid_from = data.valid_from or now
    if data.valid_until is not None and data.valid_until <= valid_from:
        raise Unprocessable("valid_until must be after valid_from", code=INVALID_WINDOW, field="valid_until")
    check_evidence_time(captured_at=data.evidence.captured_at, valid_from=valid_from, now=now)
    number = normalise_id(data.subject.id_number)
    consent = Consent(
        consent_ref=data.consent_ref, grantee_member_id=actor.id, purpose=data.purpose.value,
        scope=",".join(data.scope), subject_id_type=data.subject.id_type,
        subject_id_index=vault.blind_index(number, domain=data.subject.id_type), subject_id_enc=vault.encrypt(number),
        valid_from=valid_from, valid_until=data.valid_until, status=ConsentStatus.ACTIVE,
        evidence_channel=data.evidence.channel, evidence_at=data.evidence.captured_at,
        evidence_hash=data.evidence.document_hash, source="api", created_by=actor.id, created_at=now,
    )
    repo.add(consent)
    audit.record(session, actor_member_id=actor.id, actor_code=actor.code, action="consent.grant",
                 person_id=None, purpose=consent.purpose, details={"consent_id": consent.id,
                                                                   "consent_ref": consent.consent_ref})
    until = f" until {consent.valid_until:%Y-%m-%d}" if consent.valid_until is not None else ""
    _notify(session, vault=vault, consent=consent, kind="consent.granted", now=now,
            text=f"{actor.code} recorded your consent ({consent.consent_ref}) for {consent.purpose}, valid from "
                 f"{valid_from:%Y-%m-%d}{until}. If you did not give it, tell the bureau.")
    return consent


NOTICE_SUBJECT = "Your consents at the credit bureau"


def _notify(session: Session, *, vault: PiiVault, consent: Consent, kind: str, text: str, now: datetime) -> None:
    """Tell the person a consent about them changed: an outbox message in this transaction, addressed by the
    consent's identity document (the person may have no file yet)."""
    notifications.enqueue(session, [notifications.compose(
        vault, kind=kind, subject=NOTICE_SUBJECT, body=text, now=now,
        subject_id_type=consent.subject_id_type, subject_id_enc=consent.subject_id_enc)])


def _holder(principal: Principal) -> int | None:
    """The member whose consents ``principal`` manages: a member its own; the bureau's operator outside any
    member (``Principal.operator``) every member's (None)."""
    if not isinstance(principal, Principal):
        raise TypeError(f"a Principal is required, not {type(principal).__name__}")
    if principal.member_id is not None:
        return principal.member_id
    authorize(principal, Action.MANAGE_ALL_CONSENTS)
    return None


def revoke(session: Session, *, vault: PiiVault, principal: Principal, consent_id: int, reason: str,
           now: datetime | None = None) -> Consent:
    """Revoke a consent at once: a member revokes only those it holds, the operator any, a signed-in person
    only those about them (any other answers as unknown). Audited; the person is told."""
    now = now or datetime.now(UTC)
    consent = _revocable(session, principal=principal, consent_id=consent_id)
    if consent.status != ConsentStatus.REVOKED:
        consent.status, consent.revoked_at, consent.revocation_reason = ConsentStatus.REVOKED, now, reason
        session.flush()
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="consent.revoke",
                     person_id=principal.person_id, purpose=consent.purpose,
                     details={"consent_id": consent.id, "reason": reason})
        by = "at your request" if principal.is_a(Kind.PERSON) else f"by {principal.code}"
        _notify(session, vault=vault, consent=consent, kind="consent.revoked", now=now,
                text=f"Your consent ({consent.consent_ref}) for {consent.purpose} was revoked {by} on "
                     f"{now:%Y-%m-%d}; nothing further rests on it.")
    return consent


def _revocable(session: Session, *, principal: Principal, consent_id: int) -> Consent:
    """The consent ``principal`` may revoke, else 404 ``CONSENT_NOT_FOUND`` (another's is never confirmed)."""
    if isinstance(principal, Principal) and principal.is_a(Kind.PERSON):
        authorize(principal, Action.MANAGE_OWN_CONSENTS)
        consent = ConsentRepository(session).get(consent_id)
        if consent is None or (consent.subject_id_type, consent.subject_id_index) not in principal.documents:
            raise NotFound(f"no consent {consent_id}", code=CONSENT_NOT_FOUND, field="consent_id")
        return consent
    holder = _holder(principal)
    consent = ConsentRepository(session).get(consent_id)
    if consent is None or (holder is not None and consent.grantee_member_id != holder):
        raise NotFound(f"no consent {consent_id}", code=CONSENT_NOT_FOUND, field="consent_id")
    return consent


def list_for_person(session: Session, *, principal: Principal) -> list[Consent]:
    """Every consent about the signed-in person (by each identity document they proved), newest first."""
    authorize(principal, Action.READ_OWN_FILE)
    return consents_about(session, documents=principal.documents)


def consents_about(session: Session, *, documents: frozenset[tuple[str, bytes]]) -> list[Consent]:
    """Every consent whose subject is one of ``documents`` ((id type, blind index) pairs), newest first (no
    principal: the caller checked who asks and audits)."""
    repo = ConsentRepository(session)
    found = {c.id: c for id_type, index in sorted(documents)
             for c in repo.for_subject(id_type=id_type, id_index=index, grantee_member_id=None)}
    return sorted(found.values(), key=lambda c: c.id, reverse=True)


def list_for_subject(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject) -> list[Consent]:
    """A person's consents: a member sees those it holds; the operator every member's."""
    holder = _holder(principal)
    repo = ConsentRepository(session)
    return [c for index in subject_indexes(vault, subject)
            for c in repo.for_subject(id_type=subject.id_type, id_index=index, grantee_member_id=holder)]


def to_read(consent: Consent, *, vault: PiiVault, grantee_code: str, now: datetime | None = None) -> ConsentRead:
    """The API view of a consent."""
    return ConsentRead(
        id=consent.id, consent_ref=consent.consent_ref, grantee=grantee_code, purpose=consent.purpose,
        scope=consent.scope.split(","), subject_id_type=consent.subject_id_type,
        subject_id_number_masked=mask(vault.decrypt(consent.subject_id_enc)) or "",
        valid_from=consent.valid_from, valid_until=consent.valid_until,
        status=consent.status_at(now or datetime.now(UTC)).value, evidence_channel=consent.evidence_channel,
        evidence_at=consent.evidence_at, evidence_hash=consent.evidence_hash, revoked_at=consent.revoked_at,
        revocation_reason=consent.revocation_reason, source=consent.source,
    )


# Findings an import reports line by line (the first in the file); every finding is counted by its code.
FINDINGS_SHOWN = 1_000


@dataclass(slots=True)
class ImportOutcome:
    """What a consent file came to, and the subjects whose consent now stands."""

    received: int = 0
    created: int = 0
    revoked: int = 0
    unchanged: int = 0
    rejected: int = 0
    findings: list[ImportFinding] = field(default_factory=list)
    finding_counts: Counter[str] = field(default_factory=Counter)
    granted_subjects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"id_type": pl.String, "id_index": pl.Binary}))

    def note(self, found: Sequence[ImportFinding], *, counted: bool = False) -> None:
        """Count ``found`` by code (unless ``counted`` already) and keep the first ``FINDINGS_SHOWN`` of the
        file's findings, in line order: a file of millions of bad lines is reported in bounded memory."""
        if not counted:
            self.finding_counts.update(f.code for f in found)
        self.findings.extend(found[:FINDINGS_SHOWN])
        self.findings.sort(key=lambda f: (f.line, f.field or ""))
        del self.findings[FINDINGS_SHOWN:]


# Consents a stored import chunk writes in one short transaction (with the records it releases): a writer
# holds SQLite's only write lock that long, and inquiries log their answers between two chunks.
IMPORT_CHUNK = 2_000


@dataclass(slots=True, frozen=True)
class ImportSummary:
    """What the audit entry of each stored part of a consent file says of the whole file."""

    sha256: str
    received: int
    rejected: int
    lines: int  # the good lines, stored ``IMPORT_CHUNK`` at a time

    @property
    def parts(self) -> int:
        return -(-self.lines // IMPORT_CHUNK)


def check_purposes(actor: Actor, purposes: Iterable[str]) -> None:
    """Refuse a consent file naming a purpose ``actor`` may not hold (before any of it is stored)."""
    for purpose in sorted(set(purposes)):
        _check_grantee(actor, Purpose(purpose))


def seal_lines(*, vault: PiiVault, actor: Actor, good: pl.DataFrame) -> pl.DataFrame:
    """Good lines of a consent file (``importer.validate_consent_rows``) ready to store: each with its
    subject's blind index, its identity number encrypted (the number in clear dropped) and the person's
    notice sealed."""
    if not good.height:
        return good.drop("id_number").with_columns(
            pl.lit(None, dtype=pl.Binary).alias(c) for c in ("subject_id_index", "subject_id_enc", "notice_enc"))
    numbers = good["id_number"].to_list()
    return good.with_columns(
        pl.Series("subject_id_index", [vault.blind_index(n, domain=t) for t, n in
                                       zip(good["id_type"].to_list(), numbers, strict=True)], dtype=pl.Binary),
        pl.Series("subject_id_enc", vault.encrypt_many(numbers), dtype=pl.Binary),
        pl.Series("notice_enc", vault.encrypt_many(_import_notices(actor.code, good)), dtype=pl.Binary),
    ).drop("id_number")


@dataclass(slots=True)
class PreparedImport:
    """Consent lines held in memory, checked and sealed: the lines to store and what was rejected. (A
    file is read, checked and sealed a chunk at a time by ``intake.consent_files``.)"""

    outcome: ImportOutcome
    good: pl.DataFrame
    summary: ImportSummary

    def chunks(self) -> list[pl.DataFrame]:
        """The lines to store, in file order, ``IMPORT_CHUNK`` at a time."""
        return [self.good.slice(start, IMPORT_CHUNK) for start in range(0, self.good.height, IMPORT_CHUNK)]


def prepare_rows(*, vault: PiiVault, actor: Actor, rows: pl.DataFrame, now: datetime, sha256: str) -> PreparedImport:
    """Check consent lines held in memory (``rows``: a consent file's text columns and ``_line``), refuse a
    purpose ``actor`` may not hold and seal every good line; touches no database. ``sha256`` names the lines'
    file in the audit entries."""
    good, findings = validate_consent_rows(rows, now=now)
    check_purposes(actor, good["purpose"].unique().to_list())
    outcome = ImportOutcome(received=rows.height, rejected=rows.height - good.height)
    outcome.note(findings)
    return PreparedImport(outcome=outcome, good=seal_lines(vault=vault, actor=actor, good=good),
                          summary=ImportSummary(sha256=sha256, received=rows.height, rejected=outcome.rejected,
                                                lines=good.height))


def _import_notices(grantee: str, good: pl.DataFrame) -> list[str]:
    """The person's notice of each line of a consent file (sealed with the line, sent only for a consent
    created in force or revoked by the file): JSON ``{subject, body}`` as ``notifications.compose`` writes,
    built by Polars for the whole file at once."""
    until = pl.when(pl.col("expires_at").is_not_null()).then(
        pl.concat_str(pl.lit(" until "), pl.col("expires_at").dt.strftime("%Y-%m-%d"))).otherwise(pl.lit(""))
    granted = pl.concat_str(pl.lit(f"{grantee} recorded your consent ("), pl.col("consent_ref"), pl.lit(") for "),
                            pl.col("purpose"), pl.lit(", valid from "), pl.col("granted_at").dt.strftime("%Y-%m-%d"),
                            until, pl.lit(". If you did not give it, tell the bureau."))
    revoked = pl.concat_str(pl.lit("Your consent ("), pl.col("consent_ref"), pl.lit(") for "), pl.col("purpose"),
                            pl.lit(f" was revoked by {grantee}; nothing further rests on it."))
    body = pl.when(pl.col("status") == ConsentStatus.REVOKED.value).then(revoked).otherwise(granted)
    return good.select(pl.struct(pl.lit(NOTICE_SUBJECT).alias("subject"), body.alias("body"))
                       .struct.json_encode()).to_series().to_list()


def _store_import_notices(conn: Connection, *, created: pl.DataFrame, revoked: pl.DataFrame, now: datetime) -> None:
    """Queue the person's notice of every consent a chunk created in force or revoked, in its transaction."""
    notices = pl.concat([created.filter(pl.col("status") == ConsentStatus.ACTIVE).select(
                             "id_type", "subject_id_enc", "notice_enc", pl.lit("consent.granted").alias("kind")),
                         revoked.select("id_type", "subject_id_enc", "notice_enc",
                                        pl.lit("consent.revoked").alias("kind"))])
    notifications.enqueue_frame(conn, notices.select(
        "kind", pl.lit(None, dtype=pl.Int64).alias("person_id"), pl.col("id_type").alias("subject_id_type"),
        "subject_id_enc", pl.col("notice_enc").alias("message_enc")), now=now)


def store_import_chunk(session: Session, *, actor: Actor, summary: ImportSummary, chunk: pl.DataFrame,
                       now: datetime, part: int) -> ImportOutcome:
    """Store one chunk of sealed lines (``seal_lines``) in the caller's transaction, audited with it: new references
    are created; a known reference whose line says ``revoked`` is revoked; other known references are left
    as they are (so a file imported again, or after a killed import, changes nothing twice). Returns the
    chunk's counts and the subjects whose consent now stands."""
    outcome = ImportOutcome()
    bulk = dialect_for(session.connection())
    repo = ConsentRepository(session)
    with bulk.staged(session.connection(), chunk.select("consent_ref"), "consent_refs") as staged:
        known = repo.existing_refs(grantee_member_id=actor.id, staged=staged)
    chunk = chunk.join(known, on="consent_ref", how="left", maintain_order="left")
    fresh = chunk.filter(pl.col("consent_id").is_null())
    to_revoke = chunk.filter(pl.col("consent_id").is_not_null() & (pl.col("status") == "revoked")
                             & (pl.col("stored_status") != ConsentStatus.REVOKED))
    outcome.unchanged = chunk.height - fresh.height - to_revoke.height
    if fresh.height:
        bulk.insert(session.connection(), Consent.__table__, fresh.select(
            "consent_ref",
            pl.lit(actor.id, dtype=pl.Int64).alias("grantee_member_id"),
            "purpose",
            pl.lit("accounts").alias("scope"),
            pl.col("id_type").alias("subject_id_type"),
            "subject_id_index",
            "subject_id_enc",
            pl.col("granted_at").alias("valid_from"),
            pl.col("expires_at").alias("valid_until"),
            "status",
            pl.col("channel").alias("evidence_channel"),
            pl.col("granted_at").alias("evidence_at"),
            "evidence_hash",
            "revoked_at",
            pl.when(pl.col("status") == "revoked").then(pl.lit("revoked in the grantee's file")).otherwise(None)
            .alias("revocation_reason"),
            pl.lit("import").alias("source"),
            pl.lit(now).alias("created_at"),
            pl.lit(actor.id, dtype=pl.Int64).alias("created_by"),
        ))
        outcome.created = fresh.height
        bulk.refresh_statistics(session.connection(), Consent.__table__, rows_written=fresh.height)
        in_force = fresh.filter((pl.col("status") == "active") & (pl.col("granted_at") <= now)
                                & (pl.col("expires_at").is_null() | (pl.col("expires_at") > now)))
        outcome.granted_subjects = in_force.select("id_type", pl.col("subject_id_index").alias("id_index"))
    if to_revoke.height:
        repo.revoke_many(ids=to_revoke["consent_id"].to_list(), moment=now, reason="revoked in the grantee's file")
        outcome.revoked = to_revoke.height
    _store_import_notices(session.connection(), created=fresh, revoked=to_revoke, now=now)
    audit.record(session, actor_member_id=actor.id, actor_code=actor.code, action="consent.import", person_id=None,
                 purpose=None, details={"file_sha256": summary.sha256, "part": part, "parts": summary.parts,
                                        "received": summary.received, "lines": chunk.height,
                                        "created": outcome.created, "revoked": outcome.revoked,
                                        "rejected": summary.rejected})
    return outcome


def consent_ids(session: Session, *, grantee_member_id: int, refs: pl.DataFrame) -> pl.DataFrame:
    """(``consent_ref``, ``consent_id``) of the grantee's consents among ``refs`` (a ``consent_ref`` column)."""
    conn = session.connection()
    with dialect_for(conn).staged(conn, refs.select("consent_ref"), "consent_refs") as staged:
        known = ConsentRepository(session).existing_refs(grantee_member_id=grantee_member_id, staged=staged)
    return known.select("consent_ref", "consent_id")


def record_rejected_import(session: Session, *, actor: Actor, summary: ImportSummary) -> None:
    """Audit a consent file none of whose lines could be stored."""
    audit.record(session, actor_member_id=actor.id, actor_code=actor.code, action="consent.import", person_id=None,
                 purpose=None, details={"file_sha256": summary.sha256, "part": 0, "parts": 0,
                                        "received": summary.received, "lines": 0, "created": 0,
                                        "revoked": 0, "rejected": summary.rejected})
