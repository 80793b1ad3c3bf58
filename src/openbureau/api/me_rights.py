"""HTTP endpoints of the signed-in person's disputes and protections (/v1/me): file and follow disputes, add a
statement, place and lift fraud alerts and freezes, report identity theft.

The same services as the operator's counter (``api.disputes``, ``api.rights``), called with the person's
principal: the person names no subject, the file is always their own (``disputes.service.whose_file``), and
an id of another person's dispute, alert or freeze answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import IdPath, Offset, PersonDep, PolicyDep, RuntimeDep, SessionDep
from openbureau.disputes import investigation
from openbureau.disputes import service as disputes
from openbureau.disputes.schemas import DisputeCreate, MyDisputeCreate, MyDisputeRead, MyStatement
from openbureau.fraud.service import reporter_of
from openbureau.rights import service as rights
from openbureau.rights.schemas import (
    FraudAlertRead,
    MyFraudAlert,
    MyFreezeLift,
    MyTheftReport,
    ProtectionsRead,
)

router = APIRouter(prefix="/me", tags=["the person"])
Limit = Annotated[int, Query(ge=1, le=1000)]


def _mine(d) -> MyDisputeRead:
    return MyDisputeRead.model_validate(d)


@router.get("/disputes", response_model=list[MyDisputeRead], summary="Your disputes")
def my_disputes(session: SessionDep, runtime: RuntimeDep, person: PersonDep, limit: Limit = 100,
                offset: Offset = 0) -> list[MyDisputeRead]:
    """Every dispute of yours, newest first: status, outcome and the deadline the lender must answer by."""
    return [_mine(d) for d in investigation.list_own_disputes(session, vault=runtime.vault, principal=person,
                                                              subject=None, limit=limit, offset=offset)]


@router.post("/disputes", response_model=MyDisputeRead, status_code=201, summary="Dispute an item of your file",
             responses={404: {"description": "ACCOUNT_NOT_FOUND, PERIOD_NOT_FOUND or INQUIRY_NOT_FOUND: no such "
                                             "item in your file"}})
def file_dispute(data: MyDisputeCreate, session: SessionDep, runtime: RuntimeDep, policy: PolicyDep,
                 person: PersonDep) -> MyDisputeRead:
    """An account (or one month of it), an inquiry, or an identity detail. An account dispute goes to its
    lender, which must answer by the deadline (CN 20 days, US 30 days); until then every report marks the item
    as disputed, and if the lender does not answer in time the item is left out of reports until it does."""
    filed = disputes.file_dispute(session, vault=runtime.vault, principal=person, policy=policy,
                                  data=DisputeCreate(**data.model_dump(), channel="portal"),
                                  fraud_reports=reporter_of)
    return _mine(filed)


@router.post("/disputes/{dispute_id}/statement", response_model=MyDisputeRead, summary="Add your statement",
             responses={404: {"description": "DISPUTE_NOT_FOUND: no account dispute of yours has this id"}})
def add_statement(dispute_id: IdPath, data: MyStatement, session: SessionDep, runtime: RuntimeDep,
                  person: PersonDep) -> MyDisputeRead:
    """Up to 200 characters, shown on every later report of the disputed account; a new one replaces it."""
    return _mine(investigation.add_statement(session, vault=runtime.vault, principal=person, subject=None,
                                             dispute_id=dispute_id, statement=data.statement))


@router.get("/protections", response_model=ProtectionsRead, summary="Your fraud alerts, freezes and reports")
def protections(session: SessionDep, runtime: RuntimeDep, person: PersonDep) -> ProtectionsRead:
    """What protects your file now, and its history."""
    return rights.protections(session, vault=runtime.vault, principal=person, subject=None)


@router.post("/protections/fraud-alerts", response_model=FraudAlertRead, status_code=201,
             summary="Place a fraud alert")
def place_alert(data: MyFraudAlert, session: SessionDep, runtime: RuntimeDep, person: PersonDep
                ) -> FraudAlertRead:
    """Initial (1 year) or extended (7 years, naming your identity-theft report): lenders must confirm your
    identity before they grant credit."""
    return FraudAlertRead.model_validate(rights.place_fraud_alert(
        session, vault=runtime.vault, principal=person, subject=None, kind=data.kind,
        identity_theft_report_ref=data.identity_theft_report_ref))


@router.post("/protections/fraud-alerts/{alert_id}/remove", response_model=FraudAlertRead,
             summary="Remove a fraud alert", responses={404: {"description": "ALERT_NOT_FOUND"}})
def remove_alert(alert_id: IdPath, session: SessionDep, runtime: RuntimeDep, person: PersonDep) -> FraudAlertRead:
    """End one of your alerts before it expires."""
    return FraudAlertRead.model_validate(rights.remove_fraud_alert(
        session, vault=runtime.vault, principal=person, subject=None, alert_id=alert_id))


@router.post("/protections/freezes", response_model=ProtectionsRead, status_code=201, summary="Freeze your file",
             responses={409: {"description": "ALREADY_FROZEN"}})
def place_freeze(session: SessionDep, runtime: RuntimeDep, person: PersonDep) -> ProtectionsRead:
    """At once: lenders' inquiries for new credit are refused (403 FROZEN) until you lift it; your current
    lenders' account reviews and your own access go on."""
    rights.place_freeze(session, vault=runtime.vault, principal=person, subject=None)
    return rights.protections(session, vault=runtime.vault, principal=person, subject=None)


@router.post("/protections/freezes/{freeze_id}/lift", response_model=ProtectionsRead, summary="Lift your freeze",
             responses={404: {"description": "FREEZE_NOT_FOUND"}, 422: {"description": "INVALID_WINDOW"}})
def lift_freeze(freeze_id: IdPath, session: SessionDep, runtime: RuntimeDep, person: PersonDep,
                data: MyFreezeLift | None = None) -> ProtectionsRead:
    """At once, for the window [starts_at, ends_at) (up to 366 days), or for good when no ``ends_at`` is
    given."""
    data = data or MyFreezeLift()
    rights.lift_freeze(session, vault=runtime.vault, principal=person, subject=None, freeze_id=freeze_id,
                       starts_at=data.starts_at, ends_at=data.ends_at)
    return rights.protections(session, vault=runtime.vault, principal=person, subject=None)


@router.post("/protections/identity-theft-reports", response_model=ProtectionsRead, status_code=201,
             summary="Report identity theft", responses={404: {"description": "ACCOUNT_NOT_FOUND"}})
def file_theft_report(data: MyTheftReport, session: SessionDep, runtime: RuntimeDep, person: PersonDep
                      ) -> ProtectionsRead:
    """The accounts your report (police or authority reference) names are blocked from every report."""
    rights.file_identity_theft_report(session, vault=runtime.vault, principal=person, subject=None,
                                      report_ref=data.report_ref, accounts=data.accounts)
    return rights.protections(session, vault=runtime.vault, principal=person, subject=None)
