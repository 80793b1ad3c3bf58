"""HTTP endpoints of the intake: submit a file, read its outcome and its findings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from openbureau.api.deps import FurnisherDep, IdPath, Offset, PolicyDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.api.uploads import UPLOAD_SCHEMA, findings_download, sealed_upload
from openbureau.intake import service
from openbureau.intake.schemas import FindingRead, FindingsPage, SubmissionRead

router = APIRouter(tags=["submissions"])


@router.post("/submissions", response_model=SubmissionRead, status_code=201,
             summary="Submit a furnishing file (CSV, JSON Lines, Parquet or Metro 2)",
             responses={200: {"description": "the same bytes were submitted before: the earlier result"},
                        413: {"description": "the file is larger than OPENBUREAU_MAX_FILE_BYTES"},
                        422: {"description": "the file was refused whole (banned attribute, missing columns)"}},
             openapi_extra=UPLOAD_SCHEMA)
async def submit_file(runtime: RuntimeDep, policy: PolicyDep, furnisher: FurnisherDep, response: Response,
                      request: Request,
                      format: Annotated[str | None, Query(pattern="^(csv|jsonl|parquet|metro2)$",
                                                          description="the file's format; by default its "
                                                          "name's suffix tells")] = None) -> SubmissionRead:
    """Receive, validate and load a file; nothing valid is lost and every problem is reported."""
    sealed, filename = await sealed_upload(runtime, request, file_format=format)
    loads = request.app.state.load_process  # a serving app's load process, or None (api.app)
    if loads is None:
        result = await run_in_threadpool(lambda: service.submit(
            runtime.engine, settings=runtime.settings, policy=policy, furnisher=furnisher, sealed=sealed,
            filename=filename, file_format=format))
    else:
        result = await run_in_threadpool(lambda: service.register(
            runtime.engine, settings=runtime.settings, furnisher=furnisher, sealed=sealed, filename=filename,
            file_format=format))
        if not result.repeated:
            await loads.load(result.submission.id)
            loaded = await run_in_threadpool(service.read_submission, runtime.engine, result.submission.id)
            result = service.SubmissionResult(loaded, repeated=False)
    if result.repeated:
        response.status_code = 200
    return SubmissionRead.model_validate(result.submission).model_copy(update={"repeated": result.repeated})


@router.get("/submissions", response_model=list[SubmissionRead], summary="Your submissions, newest first")
def list_submissions(session: SessionDep, principal: PrincipalDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     offset: Offset = 0) -> list[SubmissionRead]:
    """A furnisher's own submissions."""
    return [SubmissionRead.model_validate(s)
            for s in service.list_submissions(session, principal=principal, limit=limit, offset=offset)]


@router.get("/submissions/{submission_id}", response_model=SubmissionRead, summary="One submission")
def read_submission(submission_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SubmissionRead:
    """A submission's status and counts; another furnisher's submission is reported as not found."""
    return SubmissionRead.model_validate(service.get_submission(session, principal=principal,
                                                                submission_id=submission_id))


@router.get("/submissions/{submission_id}/errors", response_model=FindingsPage,
            summary="The findings of a submission",
            responses={200: {"content": {"text/csv": {}}, "description": "JSON page, or every finding as CSV"}})
def read_findings(submission_id: IdPath, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                  offset: Offset = 0,
                  format: Annotated[str, Query(pattern="^(json|csv)$")] = "json"):
    """Every finding (line, field, code, severity, value, message); ``format=csv`` downloads them all."""
    if format == "csv":
        return findings_download(session, runtime, principal=principal, submission_id=submission_id,
                                 filename=f"submission-{submission_id}-errors.csv")
    submission = service.get_submission(session, principal=principal, submission_id=submission_id)
    items = service.list_findings(session, principal=principal, submission_id=submission_id, limit=limit, offset=offset)
    read = SubmissionRead.model_validate(submission)
    stored = submission.findings_stored if submission.findings_stored is not None else submission.findings_count
    return FindingsPage(submission_id=submission_id, total=stored, counted=submission.findings_count,
                        finding_counts=submission.finding_counts, note=read.findings_note, offset=offset,
                        items=[FindingRead.model_validate(f) for f in items])
