"""HTTP endpoints of lending events: report events as they happen (a batch or a file), and read what
reconciliation with the monthly files found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from openbureau.api.deps import (
    EventGathererDep,
    FurnisherDep,
    Offset,
    PolicyDep,
    PrincipalDep,
    RuntimeDep,
    SessionDep,
)
from openbureau.api.uploads import UPLOAD_SCHEMA, sealed_upload
from openbureau.intake.events import reconcile
from openbureau.intake.events.files import submit_event_file
from openbureau.intake.events.schemas import DiscrepancyRead, EventBatch, EventBatchRead, EventOutcome
from openbureau.intake.schemas import FindingRead, SubmissionRead

router = APIRouter(tags=["events"])


@router.post("/events", response_model=EventBatchRead, summary="Report lending events as they happen (1 to 10,000)",
             responses={413: {"description": "the body is larger than OPENBUREAU_MAX_EVENT_BATCH_BYTES"}})
async def post_events(batch: EventBatch, furnisher: FurnisherDep, intake: EventGathererDep) -> EventBatchRead:
    """Validate and store a batch of the calling furnisher's events; each is acknowledged on its own (an
    event id sent again is a duplicate, stored once). Events are counted by every lawful inquiry as soon as
    this answer is sent. Batches of one furnisher that arrive together are taken in as one
    (``intake.events.gathering``); each answer is about its own batch."""
    result = await intake.receive(furnisher, batch.frame())
    return EventBatchRead(
        received=result.received, stored=result.stored, warnings=result.warnings, duplicates=result.duplicates,
        rejected=result.rejected, held=result.held, unlinked=result.unlinked, received_at=result.received_at,
        outcomes=[EventOutcome(**row) for row in result.outcomes.iter_rows(named=True)],
        findings=[FindingRead(**row) for row in result.findings.iter_rows(named=True)])


@router.post("/events/files", response_model=SubmissionRead, status_code=201,
             summary="Submit a file of lending events (CSV, JSON Lines or Parquet)",
             responses={200: {"description": "the same bytes were submitted before: the earlier result"},
                        413: {"description": "the file is larger than OPENBUREAU_MAX_FILE_BYTES"},
                        422: {"description": "the file was refused whole (banned attribute, missing columns)"}},
             openapi_extra=UPLOAD_SCHEMA)
async def post_event_file(runtime: RuntimeDep, policy: PolicyDep, furnisher: FurnisherDep, response: Response,
                          request: Request) -> SubmissionRead:
    """Receive a file of events; its findings are read like a monthly file's (``/v1/submissions/{id}/errors``)."""
    sealed, filename = await sealed_upload(runtime, request)
    submission, _, repeated = await run_in_threadpool(lambda: submit_event_file(
        runtime.engine, settings=runtime.settings, vault=runtime.vault, profile=policy.profile, sealed=sealed,
        filename=filename, furnisher=furnisher))
    if repeated:
        response.status_code = 200
    return SubmissionRead.model_validate(submission).model_copy(update={"repeated": repeated})


@router.get("/events/discrepancies", response_model=list[DiscrepancyRead],
            summary="Events the monthly files contradict or leave out (your own; all for the regulator)")
def list_discrepancies(session: SessionDep, principal: PrincipalDep,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       offset: Offset = 0) -> list[DiscrepancyRead]:
    """Reconciliation's findings, newest first."""
    return [DiscrepancyRead.model_validate(row) for row in
            reconcile.list_discrepancies(session, principal=principal, limit=limit, offset=offset)]
