"""HTTP endpoints of inquiries and reports: a subscriber looks at a person's file on a lawful basis; the
bureau's counter or portal asks for the person's own report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from openbureau.api.deps import InquiryLogDep, Offset, PolicyDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.kit.db import session_scope
from openbureau.present.report import render_html, render_pdf
from openbureau.reports import service
from openbureau.reports.schemas import (
    InquiryCreate,
    InquiryRead,
    InquiryResult,
    Report,
    ReportFormat,
    SelfReportCreate,
)

router = APIRouter(tags=["inquiries"])

FormatQuery = Annotated[ReportFormat, Query(description="json (default), html (a printable page) or pdf.")]
RENDERED = {200: {"content": {"text/html": {}, "application/pdf": {}},
                  "description": "with format=html or format=pdf: the report rendered"}}


def _respond(body, report: Report | None, fmt: ReportFormat, *, status: int, inquiry_id: int | None = None) -> Response:
    headers = {"X-Inquiry-Id": str(inquiry_id)} if inquiry_id is not None else None
    if fmt is ReportFormat.HTML:
        return HTMLResponse(render_html(report, inquiry_id=inquiry_id), status_code=status, headers=headers)
    if fmt is ReportFormat.PDF:
        return Response(render_pdf(report, inquiry_id=inquiry_id), status_code=status, headers=headers,
                        media_type="application/pdf")
    # Serialised once, by the model itself: the body was built by the service, not by the caller.
    return Response(body.model_dump_json(), status_code=status, media_type="application/json", headers=headers)


@router.post("/inquiries", response_model=InquiryResult, status_code=201, summary="Query a person's file",
             responses={403: {"description": "no lawful basis: the code names what is missing"},
                        503: {"description": "the inquiry could not be logged, so no report was given"},
                        **RENDERED})
async def inquire(data: InquiryCreate, runtime: RuntimeDep, principal: PrincipalDep, policy: PolicyDep,
                  log: InquiryLogDep, format: FormatQuery = ReportFormat.JSON) -> Response:
    """The person's consolidated report as a lender sees it (other lenders masked) with its risk signals;
    logged as an inquiry the person will see, and committed before the answer is sent."""
    # Run on the event loop, not in the thread pool: the reads are short and local. The edge authenticated
    # the caller before the body was read; one read transaction reads the file and ends before the wait for
    # the group commit, during which the loop prepares the next requests.
    with session_scope(runtime.engine, read_only=True) as session:
        prepared = service.prepare_inquiry(session, vault=runtime.vault, principal=principal, request=data,
                                           policy=policy)
    result = prepared.finish(await log.write_async(prepared.entry))
    if format is not ReportFormat.JSON:  # rendering takes long enough to leave the loop for
        return await run_in_threadpool(_respond, result, result.report, format, status=201,
                                       inquiry_id=result.inquiry_id)
    return _respond(result, result.report, format, status=201, inquiry_id=result.inquiry_id)


@router.get("/inquiries", response_model=list[InquiryRead], summary="Your own inquiries")
def list_inquiries(session: SessionDep, principal: PrincipalDep, offset: Offset = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[InquiryRead]:
    """The inquiries you made, newest first."""
    return service.list_inquiries(session, principal=principal, limit=limit, offset=offset)


@router.post("/self-reports", response_model=Report, summary="A person's own report (bureau counter or portal)",
             responses={404: {"description": "the bureau holds no file for this person"}, **RENDERED})
async def self_report(data: SelfReportCreate, runtime: RuntimeDep, principal: PrincipalDep, policy: PolicyDep,
                      log: InquiryLogDep, format: FormatQuery = ReportFormat.JSON) -> Response:
    """Everything in the person's file, including who looked at it and why, for the bureau's own counter or
    portal once it has checked the person's identity. Logged as the person's own (soft) inquiry."""
    with session_scope(runtime.engine, read_only=True) as session:
        prepared = service.prepare_own_report(session, vault=runtime.vault, subject=data.subject,
                                              principal=principal, policy=policy,
                                              history_months=data.history_months)
    report = prepared.finish(await log.write_async(prepared.entry))
    return await run_in_threadpool(_respond, report, report, format, status=200)
