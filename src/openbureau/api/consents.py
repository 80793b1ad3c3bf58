"""HTTP endpoints of the consent registry: grant, import, revoke and find a person's consents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from openbureau.api.deps import IdPath, MemberDep, RuntimeDep, SessionDep
from openbureau.api.uploads import UPLOAD_SCHEMA, sealed_upload
from openbureau.consent import service as consents
from openbureau.consent.schemas import ConsentCreate, ConsentImportResult, ConsentRead, ConsentRevoke, Subject
from openbureau.intake import quarantine
from openbureau.intake.files import SealedFile, file_keyring
from openbureau.principals import Principal
from openbureau.runtime import Runtime

router = APIRouter(tags=["consents"])


class ConsentGranted(ConsentRead):
    """A recorded consent and the quarantined records it released."""

    released_records: int


@router.post("/consents", response_model=ConsentGranted, status_code=201, summary="Record a consent you hold")
def grant(data: ConsentCreate, session: SessionDep, runtime: RuntimeDep, member: MemberDep) -> ConsentGranted:
    """Record a person's consent to you (furnish: a furnisher; query purposes: a subscriber)."""
    consent, released = quarantine.grant_consent(session, vault=runtime.vault, profile=runtime.policy.profile,
                                                  actor=member, data=data)
    read = consents.to_read(consent, vault=runtime.vault, grantee_code=member.code)
    return ConsentGranted(**read.model_dump(), released_records=released)


@router.post("/consents/import", response_model=ConsentImportResult, summary="Import a consent file",
             openapi_extra=UPLOAD_SCHEMA)
async def import_file(runtime: RuntimeDep, member: MemberDep, request: Request) -> ConsentImportResult:
    """Bulk import of your consents (CSV or JSON Lines, docs/consent.md); every bad line is reported; held
    records they unblock are released. The file is sealed as it streams in: never in clear on disk."""
    sealed, filename = await sealed_upload(runtime, request)
    try:
        outcome, released = await run_in_threadpool(_import, runtime, member, sealed, filename)
    finally:
        sealed.path.unlink(missing_ok=True)
    return ConsentImportResult(received=outcome.received, created=outcome.created, revoked=outcome.revoked,
                               unchanged=outcome.unchanged, rejected=outcome.rejected, released=released,
                               findings=outcome.findings, finding_counts=dict(outcome.finding_counts))


def _import(runtime: Runtime, member, sealed: SealedFile, filename: str):
    return quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                      actor=member, path=sealed.path, name=filename,
                                      keys=file_keyring(runtime.settings), sha256=sealed.sha256)


@router.post("/consents/{consent_id}/revoke", response_model=ConsentRead, summary="Revoke a consent you hold")
def revoke(consent_id: IdPath, data: ConsentRevoke, session: SessionDep, runtime: RuntimeDep,
           member: MemberDep) -> ConsentRead:
    """Revoke at once: no further collection (or query) rests on it."""
    consent = consents.revoke(session, vault=runtime.vault, principal=Principal.of_member(member), consent_id=consent_id,
                              reason=data.reason)
    return consents.to_read(consent, vault=runtime.vault, grantee_code=member.code)


class ConsentSearch(BaseModel):
    """Find a person's consents (the identity number travels in the body, never in a URL)."""

    subject: Subject


@router.post("/consents/search", response_model=list[ConsentRead], summary="A person's consents you hold")
def search(data: ConsentSearch, session: SessionDep, runtime: RuntimeDep, member: MemberDep) -> list[ConsentRead]:
    """The consents of one person that you hold, newest first."""
    found = consents.list_for_subject(session, vault=runtime.vault, principal=Principal.of_member(member),
                                      subject=data.subject)
    return [consents.to_read(c, vault=runtime.vault, grantee_code=member.code) for c in found]
