"""The signed-in person's pages (/me): their report with its score and reasons (HTML or PDF), who looked at
their file, the consents held about them (and revoking one), their disputes (file one, add a statement,
follow them), fraud alerts and freezes (place, remove, lift), and the export of everything held.

Each page calls the same service as its ``/v1/me`` endpoint with the person's principal, so it is authorised,
limited and audited exactly as the API call is; the person names no subject, and an id of another person's
consent, dispute, alert or freeze is the service's 404. Actions answer with a redirect to the page that shows
their result (post, redirect, get).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from openbureau.api.deps import IdPath, RuntimeDep, SessionDep
from openbureau.api.edge import SELF_CONTAINED
from openbureau.disputes import investigation
from openbureau.disputes import service as disputes
from openbureau.disputes.schemas import DisputeCreate, MyDisputeCreate, MyStatement
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable
from openbureau.people import export, rights
from openbureau.present.report import render_html, render_pdf
from openbureau.rights import service as protections
from openbureau.rights.schemas import MyFraudAlert
from openbureau.web.i18n import N_
from openbureau.web.render import page
from openbureau.web.session import FormDep, PagePersonDep

router = APIRouter(prefix="/me", include_in_schema=False)
MAX_LIFT_DAYS = 366


def _max_length(model, name: str) -> int:
    return next(m.max_length for m in model.model_fields[name].metadata if getattr(m, "max_length", None))


STATEMENT_CHARS = _max_length(MyStatement, "statement")  # the forms' maxlength, from the schemas that check them
DISPUTE_CHARS = _max_length(MyDisputeCreate, "statement")
DONE = {"revoked": N_("The consent is revoked: nothing further is furnished or queried on it."),
        "filed": N_("Your dispute is filed. The lender must answer by the date shown."),
        "statement": N_("Your statement is saved; it is shown on every later report of the account."),
        "alert": N_("The fraud alert is placed."), "alert-removed": N_("The fraud alert is removed."),
        "frozen": N_("Your file is frozen: lenders' inquiries for new credit are refused."),
        "lifted": N_("The freeze is lifted.")}
FREE_REPORT_PERIODS = (N_("year"), N_("week"))  # the profiles' free_report_period, as the pages name it


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _field(form, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


@router.get("")
def home(request: Request, person: PagePersonDep, runtime: RuntimeDep) -> Response:
    """What the person can do here."""
    profile = runtime.policy.profile
    return page(request, "me.html.j2", free_reports=profile.free_reports, period=profile.free_report_period)


@router.get("/report")
def report_page(request: Request, person: PagePersonDep, runtime: RuntimeDep) -> Response:
    """The free-report rule, and the buttons that take a report (each counts as one)."""
    profile = runtime.policy.profile
    return page(request, "report.html.j2", free_reports=profile.free_reports, period=profile.free_report_period)


def _my_report(runtime, person):
    with session_scope(runtime.engine, write=True) as session:  # as GET /v1/me/report: one free report
        return rights.my_report(session, vault=runtime.vault, principal=person, policy=runtime.policy)


@router.post("/report/view")
def report_view(person: PagePersonDep, runtime: RuntimeDep, form: FormDep) -> Response:
    """The person's report as its own printable page: accounts, who looked, signals, score with its reasons and
    what would raise it."""
    return Response(render_html(_my_report(runtime, person)), media_type="text/html; charset=utf-8",
                    headers={SELF_CONTAINED: "1"})  # its own inline style sheet: the edge's HTML_POLICY


@router.post("/report/pdf")
def report_pdf(person: PagePersonDep, runtime: RuntimeDep, form: FormDep) -> Response:
    """The same report as a PDF file."""
    return Response(render_pdf(_my_report(runtime, person)), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="openbureau-report.pdf"'})


@router.get("/inquiries")
def inquiries(request: Request, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Who looked at the file, when, why and on what basis."""
    return page(request, "inquiries.html.j2",
                inquiries=rights.my_inquiries(session, principal=person, policy=runtime.policy))


@router.get("/consents")
def consents(request: Request, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Every consent held about the person, and what lenders hold back for want of one."""
    return page(request, "consents.html.j2", wallet=rights.my_consents(session, vault=runtime.vault, principal=person),
                done=_done(request))


@router.post("/consents/{consent_id}/revoke")
def revoke(consent_id: IdPath, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep,
           form: FormDep) -> Response:
    """Revoke one of the person's consents at once."""
    reason = _field(form, "reason") or "revoked by the person in the portal"
    rights.revoke_mine(session, vault=runtime.vault, principal=person, consent_id=consent_id, reason=reason[:200])
    return _back("/me/consents", "revoked")


def _disputes_page(request, person, session, runtime, *, status_code: int = 200, error: str | None = None):
    found = investigation.list_own_disputes(session, vault=runtime.vault, principal=person, subject=None, limit=100)
    return page(request, "disputes.html.j2", status_code=status_code, disputes=found, error=error,
                done=_done(request), max_statement=STATEMENT_CHARS, max_dispute=DISPUTE_CHARS)


@router.get("/disputes")
def dispute_list(request: Request, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The person's disputes, newest first, and the form to file one."""
    return _disputes_page(request, person, session, runtime)


@router.post("/disputes")
def file_dispute(request: Request, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep,
                 form: FormDep) -> Response:
    """File a dispute about an account (or one month of it), an inquiry or an identity detail."""
    try:
        data = MyDisputeCreate(kind=form.get("kind", ""), lender=_field(form, "lender"),
                               furnisher_account_id=_field(form, "furnisher_account_id"),
                               reporting_period=_field(form, "reporting_period"),
                               inquiry_id=_field(form, "inquiry_id"), statement=form.get("statement", ""))
    except ValidationError as exc:
        return _disputes_page(request, person, session, runtime, status_code=422, error=_problems(exc))
    disputes.file_dispute(session, vault=runtime.vault, principal=person, policy=runtime.policy,
                          data=DisputeCreate(**data.model_dump(), channel="portal"))
    return _back("/me/disputes", "filed")


@router.post("/disputes/{dispute_id}/statement")
def add_statement(request: Request, dispute_id: IdPath, person: PagePersonDep, session: SessionDep,
                  runtime: RuntimeDep, form: FormDep) -> Response:
    """The person's statement about a disputed account (shown on every later report of it)."""
    try:
        statement = MyStatement(statement=form.get("statement", "")).statement
    except ValidationError as exc:
        return _disputes_page(request, person, session, runtime, status_code=422, error=_problems(exc))
    investigation.add_statement(session, vault=runtime.vault, principal=person, subject=None, dispute_id=dispute_id,
                                statement=statement)
    return _back("/me/disputes", "statement")


def _problems(exc: ValidationError) -> str:
    """What is wrong with a form, by field, without echoing what was typed."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors())


@router.get("/protections")
def protection_page(request: Request, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """What protects the file now (fraud alerts, freezes, identity-theft reports) and its history."""
    return page(request, "protections.html.j2", done=_done(request), max_lift_days=MAX_LIFT_DAYS,
                state=protections.protections(session, vault=runtime.vault, principal=person, subject=None))


@router.post("/protections/fraud-alerts")
def place_alert(person: PagePersonDep, session: SessionDep, runtime: RuntimeDep, form: FormDep) -> Response:
    """Place an initial (one year) or extended (seven years, naming an identity-theft report) fraud alert."""
    try:
        data = MyFraudAlert(kind=form.get("kind", "initial"),
                            identity_theft_report_ref=_field(form, "identity_theft_report_ref"))
    except ValidationError as exc:
        raise Unprocessable(_problems(exc)) from None
    protections.place_fraud_alert(session, vault=runtime.vault, principal=person, subject=None, kind=data.kind,
                                  identity_theft_report_ref=data.identity_theft_report_ref)
    return _back("/me/protections", "alert")


@router.post("/protections/fraud-alerts/{alert_id}/remove")
def remove_alert(alert_id: IdPath, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep,
                 form: FormDep) -> Response:
    """End one of the person's alerts."""
    protections.remove_fraud_alert(session, vault=runtime.vault, principal=person, subject=None, alert_id=alert_id)
    return _back("/me/protections", "alert-removed")


@router.post("/protections/freezes")
def place_freeze(person: PagePersonDep, session: SessionDep, runtime: RuntimeDep, form: FormDep) -> Response:
    """Freeze the file at once."""
    protections.place_freeze(session, vault=runtime.vault, principal=person, subject=None)
    return _back("/me/protections", "frozen")


@router.post("/protections/freezes/{freeze_id}/lift")
def lift_freeze(freeze_id: IdPath, person: PagePersonDep, session: SessionDep, runtime: RuntimeDep,
                form: FormDep) -> Response:
    """Lift the freeze for a number of days from now, or for good when none is given."""
    days = _field(form, "days")
    if days is not None and (not days.isdigit() or not 1 <= int(days) <= MAX_LIFT_DAYS):
        raise Unprocessable(f"days: a whole number from 1 to {MAX_LIFT_DAYS}, or empty to lift for good",
                             field="days")
    now = datetime.now(UTC)
    protections.lift_freeze(session, vault=runtime.vault, principal=person, subject=None, freeze_id=freeze_id,
                            starts_at=now if days else None, ends_at=now + timedelta(days=int(days)) if days else None)
    return _back("/me/protections", "lifted")


@router.get("/export")
def export_mine(person: PagePersonDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Everything the bureau holds about the person, as the JSON file of ``GET /v1/me/export``."""
    body = export.export_person(session, vault=runtime.vault, principal=person, policy=runtime.policy,
                                max_bytes=runtime.settings.export_max_bytes)
    return Response(content=body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="openbureau-export.json"'})
