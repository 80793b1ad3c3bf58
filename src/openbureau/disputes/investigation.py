"""The investigation of a dispute: the furnisher's task and answer, the person's statement, and what the
disputes of a person's file take out of or add to its reports at a given moment.

**The deadline is checked when a report is read, not by a job.** An account dispute not answered by its
deadline has its item left out of every report from the deadline's instant on, until the furnisher answers
(FCRA §611(a)(5)(A): information that cannot be verified is deleted). :func:`marks_of` decides this from
the open disputes it reads anyway and the report's own ``now``, so a report is right at every instant (a job
would leave the item shown between the deadline and its next run, and a test's clock could not move it), and
nothing is written on a read. A late answer restores a verified or corrected item at once and owes the
person a notice of its reinsertion (§611(a)(5)(B)(ii)).

The instant rule, one place: a dispute is overdue at ``now`` when ``now >= due_at`` (:func:`overdue`); an
answer given at or after ``due_at`` is recorded as late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from openbureau.accounts.service import account_history
from openbureau.audit import service as audit
from openbureau.consent.schemas import Subject
from openbureau.disputes import repository
from openbureau.disputes.models import (
    BlockReason,
    Dispute,
    DisputeKind,
    DisputeOutcome,
    DisputeStatus,
    DisputeTask,
    ItemBlock,
    TaskStatus,
)
from openbureau.disputes.repository import DisputeRepository
from openbureau.disputes.schemas import MAX_CONSUMER_STATEMENT, MAX_EVIDENCE, TaskAnswer
from openbureau.disputes.service import block_item, whose_file
from openbureau.identity.repository import person_ids
from openbureau.intake.service import get_submission_by_id
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import INVALID_LIMIT, Conflict, NotFound, Unprocessable
from openbureau.notices import Milestone, notify_person
from openbureau.principals import Action, Kind, Principal, authorize

MAX_LIMIT = 1_000
TASK_NOT_FOUND = "TASK_NOT_FOUND"
TASK_ANSWERED = "TASK_ANSWERED"
CORRECTION_REQUIRED = "CORRECTION_REQUIRED"
CORRECTION_NOT_FOUND = "CORRECTION_NOT_FOUND"
CORRECTION_NOT_FOR_ACCOUNT = "CORRECTION_NOT_FOR_ACCOUNT"

Item = tuple[int, str, str | None]  # (furnisher_id, furnisher_account_id, reporting_period or None: whole account)


def overdue(due_at: datetime, now: datetime) -> bool:
    """Whether a dispute due at ``due_at`` is past its deadline at ``now`` (from the deadline's instant on)."""
    return now >= due_at


def list_tasks(session: Session, *, principal: Principal, limit: int = 100, offset: int = 0) -> list[DisputeTask]:
    """The calling furnisher's open tasks, nearest deadline first; never another furnisher's. Audited when
    any is shown."""
    authorize(principal, Action.ANSWER_DISPUTES, message="dispute tasks are answered by the furnisher of the data")
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    found = DisputeRepository(session).open_tasks(furnisher_id=principal.member_id, limit=limit, offset=offset)
    if found:  # which disputes of which persons the furnisher was shown
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.tasks_read",
                     purpose="dispute_handling", details={"task_ids": [t.id for t in found]})
    return found


def answer_task(session: Session, *, vault: PiiVault, principal: Principal, task_id: int, answer: TaskAnswer,
                now: datetime | None = None) -> DisputeTask:
    """The furnisher's answer to one of its own open tasks; it closes the dispute with the same outcome.

    ``corrected`` needs the correction record sent through intake: it must exist, be the furnisher's, be a
    correction of the disputed account (of the disputed month, when one month is disputed), be part of the
    file (published, not held by the consent gate) and have arrived after the dispute was filed. ``deleted``
    blocks the item from every report. Audited; the person is owed a notice. Another furnisher's task is
    unknown (404); an answered one is a 409.
    """
    authorize(principal, Action.ANSWER_DISPUTES, message="dispute tasks are answered by the furnisher of the data")
    now = now or datetime.now(UTC)
    if not 1 <= len(answer.evidence) <= MAX_EVIDENCE:  # the schema bounds it too; a caller is not trusted
        raise Unprocessable(f"evidence is 1 to {MAX_EVIDENCE} characters", code="EVIDENCE_TOO_LONG",
                            field="evidence")
    repo = DisputeRepository(session)
    task = repo.task(task_id, for_update=True)
    if task is None or task.furnisher_id != principal.member_id:
        raise NotFound(f"no task {task_id} of yours", code=TASK_NOT_FOUND, field="task_id")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task_id} is already {task.status}", code=TASK_ANSWERED)
    dispute = repo.get(task.dispute_id)
    correction = None
    if answer.outcome is DisputeOutcome.CORRECTED:
        correction = _correction(session, task=task, dispute=dispute, answer=answer)
    late = overdue(task.due_at, now)
    task.status, task.outcome, task.evidence_enc = TaskStatus.ANSWERED, answer.outcome.value, vault.encrypt(
        answer.evidence)
    task.answered_by, task.answered_at, task.late = principal.code, now, int(late)
    if correction is not None:
        task.correction_submission_id, task.correction_period, task.correction_version = correction
    dispute.status, dispute.outcome, dispute.resolved_at = DisputeStatus.RESOLVED, answer.outcome.value, now
    if answer.outcome is DisputeOutcome.DELETED:
        block_item(session, dispute=dispute, principal=principal, now=now)
    session.flush()
    details = {"dispute_id": dispute.id, "task_id": task.id, "outcome": answer.outcome.value, "late": late}
    if correction is not None:
        details["correction"] = {"submission_id": correction[0], "period": correction[1], "version": correction[2]}
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.answer",
                 person_id=task.person_id, purpose="dispute_handling", details=details)
    notify_person(session, vault=vault, person_id=task.person_id, milestone=Milestone.DISPUTE_ANSWERED,
                  details={"dispute_id": dispute.id, "outcome": answer.outcome.value}, now=now)
    if late and answer.outcome is not DisputeOutcome.DELETED:
        notify_person(session, vault=vault, person_id=task.person_id, milestone=Milestone.ITEM_REINSERTED,
                      details={"dispute_id": dispute.id, "outcome": answer.outcome.value}, now=now)
    return task


def _correction(session: Session, *, task: DisputeTask, dispute: Dispute, answer: TaskAnswer
                ) -> tuple[int, str, int]:
    """(submission, period, version) of the correction record a ``corrected`` answer names, checked."""
    ref = answer.correction
    if ref is None or (ref.submission_id is None and (ref.reporting_period is None or ref.version is None)):
        raise Unprocessable("a corrected answer names the correction record: its submission, or its period and "
                            "version", code=CORRECTION_REQUIRED, field="correction")
    states = [s for s in account_history(session, furnisher_id=task.furnisher_id,
                                         furnisher_account_id=task.furnisher_account_id)
              if (ref.submission_id is None or s.submission_id == ref.submission_id)
              and (ref.reporting_period is None or s.reporting_period == ref.reporting_period)
              and (ref.version is None or s.version == ref.version)]
    if not states:
        if ref.submission_id is not None:
            submission = _submission(session, ref.submission_id)
            if submission is not None and submission.furnisher_id == task.furnisher_id:
                raise Unprocessable(f"submission {ref.submission_id} holds no record of account "
                                    f"{task.furnisher_account_id}", code=CORRECTION_NOT_FOR_ACCOUNT,
                                    field="correction")
        raise Unprocessable("no such record of yours for this account", code=CORRECTION_NOT_FOUND, field="correction")
    fitting = [s for s in states if s.correction == 1 and s.stored_at >= dispute.filed_at
               and s.held_reason is None  # part of the file, not quarantined
               and (task.reporting_period is None or s.reporting_period == task.reporting_period)]
    if not fitting:
        raise Unprocessable("the record named is not a correction of the disputed item sent after the dispute was "
                            "filed", code=CORRECTION_NOT_FOR_ACCOUNT, field="correction")
    best = max(fitting, key=lambda s: (s.reporting_period, s.version))
    return best.submission_id, best.reporting_period, best.version


def _submission(session: Session, submission_id: int):
    try:
        return get_submission_by_id(session, submission_id=submission_id)
    except NotFound:
        return None


def add_statement(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None, dispute_id: int,
                  statement: str, now: datetime | None = None) -> Dispute:
    """The person's statement about the item of one of their account disputes (open or answered), shown on
    every later report of it (FCRA §611(b)-(c)); a new statement replaces the dispute's earlier one.

    The person acts for themselves (``/v1/me``), or the operator at the person's request (audited as such).
    A dispute of another person is unknown (404).
    """
    authorize(principal, Action.PROTECT_OWN_FILE, message="a statement is the person's own")
    now = now or datetime.now(UTC)
    text = statement.strip()
    if not 1 <= len(text) <= MAX_CONSUMER_STATEMENT:
        raise Unprocessable(f"a statement is 1 to {MAX_CONSUMER_STATEMENT} characters", code="STATEMENT_TOO_LONG",
                            field="statement")
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    dispute = DisputeRepository(session).get(dispute_id)
    if dispute is None or dispute.person_id not in person_ids(session, person.id) or dispute.kind != DisputeKind.ACCOUNT:
        raise NotFound(f"no account dispute {dispute_id} of this person", code="DISPUTE_NOT_FOUND",
                       field="dispute_id")
    dispute.consumer_statement_enc, dispute.consumer_statement_at = vault.encrypt(text), now
    session.flush()
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.statement",
                 person_id=person.id, purpose="dispute_handling",
                 details={"dispute_id": dispute.id, "for_person": not principal.is_a(Kind.PERSON)})
    notify_person(session, vault=vault, person_id=person.id, milestone=Milestone.STATEMENT_ADDED,
                  details={"dispute_id": dispute.id}, now=now)
    return dispute


def list_own_disputes(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None,
                      limit: int = 100, offset: int = 0) -> list[Dispute]:
    """The person's own disputes, newest first, with their status, outcome and deadline (the person, or the
    operator serving them); audited."""
    authorize(principal, Action.PROTECT_OWN_FILE, message="a person's disputes are shown to the person")
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    found = DisputeRepository(session).of_person(person.id, limit=limit, offset=offset)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.list_own",
                 person_id=person.id, purpose="dispute_handling",
                 details={"for_person": not principal.is_a(Kind.PERSON), "count": len(found)})
    return found


def block_accounts(session: Session, *, person_id: int, accounts: Sequence[tuple[int, str]], source_id: int,
                   principal: Principal, now: datetime) -> None:
    """Keep whole accounts of a person out of every report from ``now`` (an identity-theft block, FCRA §605B);
    the caller checked that they are the person's and audits the step."""
    DisputeRepository(session).add_blocks([ItemBlock(
        person_id=person_id, furnisher_id=f, furnisher_account_id=a, reporting_period=None,
        reason=BlockReason.IDENTITY_THEFT, source_id=source_id, blocked_by=principal.code, blocked_at=now)
        for f, a in accounts])


@dataclass(frozen=True, slots=True)
class FileMarks:
    """What the disputes of a person's file do to a report at one moment."""

    open_disputes: list[tuple]  # rows of DisputeRepository.open_for
    hidden: set[Item] = field(default_factory=set)  # blocked, or disputed and overdue
    overdue: set[int] = field(default_factory=set)  # ids of open disputes past their deadline
    statements: dict[tuple[int, str], list[tuple[str | None, bytes]]] = field(default_factory=dict)

    def disputed(self, furnisher_id: int, account_id: str) -> bool:
        """Whether an open dispute concerns this account (or a month of it)."""
        return any(d[1] == DisputeKind.ACCOUNT and d[2] == furnisher_id and d[3] == account_id
                   for d in self.open_disputes)


def marks_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the person of ``person_id`` (a column or parameter of another domain's statement) has any
    dispute or block: when not, :func:`marks_of` is empty at every moment."""
    return repository.marks_exist(person_id)


def marks_of(session: Session, *, person_id: int, now: datetime) -> FileMarks:
    """The person's open disputes, the items hidden at ``now`` (blocked, or disputed past the deadline and
    not answered) and the person's statements by account ((period, statement_enc), newest first)."""
    disputes, blocks, stated = DisputeRepository(session).marks_of(person_id, now)
    late = {d[0] for d in disputes if d[1] == DisputeKind.ACCOUNT and overdue(d[7], now)}
    hidden = set(blocks) | {(d[2], d[3], d[4]) for d in disputes if d[0] in late}
    statements: dict[tuple[int, str], list[tuple[str | None, bytes]]] = {}
    for furnisher_id, account_id, period, statement_enc, added_at in stated:
        if added_at <= now:
            statements.setdefault((furnisher_id, account_id), []).append((period, statement_enc))
    return FileMarks(disputes, hidden, late, statements)
