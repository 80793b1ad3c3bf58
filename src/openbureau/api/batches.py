"""HTTP endpoints of batch inquiries: a lender submits a file of subjects (streamed, sealed as it arrives),
follows its job, cancels it and downloads its answers. A lender sees only its own jobs (docs/batch.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from openbureau.api.deps import IdPath, PrincipalDep, RuntimeDep, SessionDep
from openbureau.api.uploads import sealed_upload
from openbureau.batches import rows, service
from openbureau.batches.schemas import BatchRead

router = APIRouter(tags=["batch inquiries"])
PATH = "/inquiries/batches"
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
FormatQuery = Annotated[Literal["csv", "jsonl"] | None, Query(description="csv or jsonl; by default the file "
                                                                          "name's suffix (or the file's) tells")]
BATCH_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "The subjects: CSV with a header line, or JSON Lines (docs/batch.md)."}},
}}}}}


@router.post(PATH, response_model=BatchRead, status_code=202, summary="Submit a batch of inquiries",
             openapi_extra=BATCH_UPLOAD,
             responses={413: {"description": "over OPENBUREAU_BATCH_MAX_BYTES or OPENBUREAU_BATCH_MAX_ROWS"},
                        422: {"description": "the file is malformed or empty: nothing was stored"}})
async def submit(runtime: RuntimeDep, principal: PrincipalDep, request: Request, response: Response,
                 format: FormatQuery = None) -> BatchRead:
    """Queue a file of subjects; each row is answered as an inquiry of yours (the same lawful-basis check, the
    same log). Answers 202 with the job: follow it at ``Location``."""
    service.check_submitter(principal)  # before a byte of the body is read
    sealed, filename = await sealed_upload(runtime, request, file_format=format, check_name=rows.file_format,
                                           max_bytes=runtime.settings.batch_max_bytes)
    try:
        fmt = rows.file_format(filename, format)
    except BaseException:
        sealed.path.unlink(missing_ok=True)
        raise
    read = await run_in_threadpool(lambda: service.submit(runtime.engine, settings=runtime.settings,
                                                          principal=principal, sealed=sealed, file_format=fmt))
    response.headers["Location"] = f"/v1{PATH}/{read.id}"
    return read


@router.get(PATH, response_model=list[BatchRead], summary="Your batches, newest first")
def list_batches(session: SessionDep, principal: PrincipalDep,
                 before_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[BatchRead]:
    """Your batch jobs and where they stand."""
    return service.list_batches(session, principal=principal, before_id=before_id, limit=limit)


@router.get(PATH + "/{batch_id}", response_model=BatchRead, summary="A batch and its progress")
def read_batch(batch_id: IdPath, session: SessionDep, principal: PrincipalDep) -> BatchRead:
    """The job's status and progress (rows done, answered, refused, invalid); another member's is not found."""
    return service.get_batch(session, principal=principal, batch_id=batch_id)


@router.post(PATH + "/{batch_id}/cancel", response_model=BatchRead, summary="Cancel a batch")
def cancel(batch_id: IdPath, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep) -> BatchRead:
    """Stop the job; the rows committed so far stay answered (and logged) and can be downloaded."""
    return service.cancel(session, settings=runtime.settings, principal=principal, batch_id=batch_id)


@router.get(PATH + "/{batch_id}/results", summary="The answers of a batch",
            responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}},
                             "description": "one line per row, in the file's order (docs/batch.md)"},
                       409: {"description": "the job has not ended"}})
def results(batch_id: IdPath, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep,
            format: FormatQuery = None) -> Response:
    """The results file, streamed (decrypted a part at a time): the row, your reference, the outcome and its
    code, the report's summary, the score and its reason codes, the signals."""
    stream, fmt, name = service.results_of(session, settings=runtime.settings, principal=principal,
                                           batch_id=batch_id, fmt=format)
    return StreamingResponse(stream, media_type=MEDIA[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
