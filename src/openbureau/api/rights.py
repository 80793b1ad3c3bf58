"""HTTP endpoints of the person's protections, for the bureau's operator acting at the person's request:
fraud alerts, security freezes and identity-theft reports. (The person's own endpoints, under ``/v1/me``, call
the same services with the person's principal.) Every request names the person in its body, never in a URL."""

from __future__ import annotations

from fastapi import APIRouter

from openbureau.api.deps import IdPath, PrincipalDep, RuntimeDep, SessionDep
from openbureau.rights import service
from openbureau.rights.schemas import (
    FraudAlertCreate,
    FraudAlertRead,
    FreezeLiftCreate,
    IdentityTheftReportCreate,
    ProtectionsRead,
    SubjectOnly,
)

router = APIRouter(tags=["protections"])


@router.post("/protections/search", response_model=ProtectionsRead, summary="A person's protections")
def protections(data: SubjectOnly, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                ) -> ProtectionsRead:
    """Every fraud alert, freeze (with its lifts) and identity-theft report of the person, and what is in force."""
    return service.protections(session, vault=runtime.vault, principal=principal, subject=data.subject)


def _read(session, runtime, principal, subject) -> ProtectionsRead:
    return service.protections(session, vault=runtime.vault, principal=principal, subject=subject)


@router.post("/protections/fraud-alerts", response_model=FraudAlertRead, status_code=201,
             summary="Place a fraud alert")
def place_alert(data: FraudAlertCreate, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                ) -> FraudAlertRead:
    """An initial alert (1 year) or an extended one (7 years, with an identity-theft report's reference)."""
    return FraudAlertRead.model_validate(service.place_fraud_alert(
        session, vault=runtime.vault, principal=principal, subject=data.subject, kind=data.kind,
        identity_theft_report_ref=data.identity_theft_report_ref))


@router.post("/protections/fraud-alerts/{alert_id}/remove", response_model=FraudAlertRead,
             summary="Remove a fraud alert")
def remove_alert(alert_id: IdPath, data: SubjectOnly, session: SessionDep, runtime: RuntimeDep,
                 principal: PrincipalDep) -> FraudAlertRead:
    """End one of the person's alerts before it expires."""
    return FraudAlertRead.model_validate(service.remove_fraud_alert(
        session, vault=runtime.vault, principal=principal, subject=data.subject, alert_id=alert_id))


@router.post("/protections/freezes", response_model=ProtectionsRead, status_code=201, summary="Freeze a file")
def place_freeze(data: SubjectOnly, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                 ) -> ProtectionsRead:
    """New-credit inquiries are refused (403 FROZEN) until the person lifts the freeze."""
    service.place_freeze(session, vault=runtime.vault, principal=principal, subject=data.subject)
    return _read(session, runtime, principal, data.subject)


@router.post("/protections/freezes/{freeze_id}/lift", response_model=ProtectionsRead, summary="Lift a freeze")
def lift_freeze(freeze_id: IdPath, data: FreezeLiftCreate, session: SessionDep, runtime: RuntimeDep,
                principal: PrincipalDep) -> ProtectionsRead:
    """For the window [starts_at, ends_at), or for good when no ``ends_at`` is given."""
    service.lift_freeze(session, vault=runtime.vault, principal=principal, subject=data.subject,
                        freeze_id=freeze_id, starts_at=data.starts_at, ends_at=data.ends_at)
    return _read(session, runtime, principal, data.subject)


@router.post("/protections/identity-theft-reports", response_model=ProtectionsRead, status_code=201,
             summary="File an identity-theft report")
def file_report(data: IdentityTheftReportCreate, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                ) -> ProtectionsRead:
    """The accounts it names are blocked from every report (FCRA §605B)."""
    service.file_identity_theft_report(session, vault=runtime.vault, principal=principal, subject=data.subject,
                                       report_ref=data.report_ref, accounts=data.accounts)
    return _read(session, runtime, principal, data.subject)
