"""HTTP endpoints of disputes: the operator's queue and the person's statement taken at the counter, and the
furnishers' investigation tasks and answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import IdPath, Offset, PolicyDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.disputes import investigation, service
from openbureau.disputes.models import DisputeKind, DisputeStatus
from openbureau.disputes.schemas import (
    DisputeCreate,
    DisputeRead,
    DisputeResolve,
    StatementCreate,
    TaskAnswer,
    TaskAnswered,
    TaskRead,
)
from openbureau.fraud.service import reporter_of

router = APIRouter(tags=["disputes"])
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/disputes/tasks", response_model=list[TaskRead], summary="Your open dispute tasks")
def list_tasks(session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
               ) -> list[TaskRead]:
    """Disputes of your data waiting for your answer, nearest deadline first (furnishers; your own only)."""
    return [TaskRead(id=t.id, dispute_id=t.dispute_id, furnisher_account_id=t.furnisher_account_id,
                     reporting_period=t.reporting_period, kind=DisputeKind.ACCOUNT.value, due_at=t.due_at,
                     created_at=t.created_at)
            for t in investigation.list_tasks(session, principal=principal, limit=limit, offset=offset)]


@router.post("/disputes/tasks/{task_id}/answer", response_model=TaskAnswered, summary="Answer a dispute task")
def answer_task(task_id: IdPath, data: TaskAnswer, session: SessionDep, runtime: RuntimeDep,
                principal: PrincipalDep) -> TaskAnswered:
    """verified, corrected (naming the correction record you sent through intake) or deleted, with your
    evidence; once. The dispute closes with your outcome."""
    t = investigation.answer_task(session, vault=runtime.vault, principal=principal, task_id=task_id, answer=data)
    return TaskAnswered(id=t.id, dispute_id=t.dispute_id, outcome=t.outcome, late=bool(t.late),
                        answered_at=t.answered_at, correction_submission_id=t.correction_submission_id,
                        correction_period=t.correction_period, correction_version=t.correction_version)


@router.post("/disputes", response_model=DisputeRead, status_code=201, summary="Record a person's dispute")
def file_dispute(data: DisputeCreate, session: SessionDep, runtime: RuntimeDep, policy: PolicyDep,
                 principal: PrincipalDep) -> DisputeRead:
    """The operator records a dispute the person made (counter, mail, call); an account dispute becomes a task
    of its furnisher, due by the profile's deadline."""
    return DisputeRead.model_validate(service.file_dispute(session, vault=runtime.vault, data=data,
                                                           principal=principal, policy=policy,
                                                           fraud_reports=reporter_of))


@router.get("/disputes", response_model=list[DisputeRead], summary="The dispute queue")
def list_disputes(session: SessionDep, principal: PrincipalDep, status: DisputeStatus | None = DisputeStatus.OPEN,
                  overdue: bool = False, limit: Limit = 100, offset: Offset = 0) -> list[DisputeRead]:
    """Disputes by status, or the open ones past their deadline (``overdue``), oldest deadline first."""
    rows = service.list_disputes(session, principal=principal, status=None if overdue else status,
                                 overdue_at=datetime.now(UTC) if overdue else None, limit=limit, offset=offset)
    return [DisputeRead.model_validate(d) for d in rows]


@router.post("/disputes/{dispute_id}/resolve", response_model=DisputeRead, summary="Close a dispute")
def resolve(dispute_id: IdPath, data: DisputeResolve, session: SessionDep, runtime: RuntimeDep,
            principal: PrincipalDep) -> DisputeRead:
    """The operator closes a dispute (an inquiry or identity dispute, or an account one on the bureau's own
    finding); ``deleted`` blocks the item."""
    return DisputeRead.model_validate(service.resolve_dispute(
        session, vault=runtime.vault, principal=principal, dispute_id=dispute_id, outcome=data.outcome))


@router.post("/disputes/{dispute_id}/statement", response_model=DisputeRead, summary="Add the person's statement")
def add_statement(dispute_id: IdPath, data: StatementCreate, session: SessionDep, runtime: RuntimeDep,
                  principal: PrincipalDep) -> DisputeRead:
    """The operator, at the person's request, adds their statement (200 characters) to a disputed account: it
    is shown on every later report of it."""
    return DisputeRead.model_validate(investigation.add_statement(
        session, vault=runtime.vault, principal=principal, subject=data.subject, dispute_id=dispute_id,
        statement=data.statement))
