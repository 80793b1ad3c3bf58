"""The inquiry log: every inquiry is committed before its answer leaves the bureau.

Two writers share one batch function (:func:`write_entries`): :class:`SessionLog` writes into the caller's
transaction (the command line, tests, batch jobs), and :class:`GroupCommitLog` hands the entry to the
serving process's group committer and waits until the transaction holding it has committed (the API).
Either way the inquiry row, its audit entry and the person's notice (a hard inquiry's, through the
notifications outbox) are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.groupcommit import GroupCommitter
from openbureau.notifications import service as notifications


@dataclass(frozen=True, slots=True)
class LogEntry:
    """An inquiry to log: its row's values, when personal data was read its audit note (whose details get the
    inquiry's id), and the outbox rows that tell the person (``notifications.service.compose``)."""

    values: dict[str, Any]
    audit: audit.AuditNote | None = None
    notices: tuple[dict[str, Any], ...] = ()


def write_entries(session: Session, entries: Sequence[LogEntry]) -> list[int]:
    """Write inquiries and their audit entries in ``session``; their ids, in order. Flushes, never commits."""
    ids = InquiryRepository(session).add_many([e.values for e in entries])
    notes = []
    for entry, inquiry_id in zip(entries, ids, strict=True):
        if entry.audit is not None:
            note = entry.audit
            notes.append(audit.AuditNote(note.actor_member_id, note.actor_code, note.action, note.person_id,
                                         note.purpose, {**(note.details or {}), "inquiry_id": inquiry_id}))
    if notes:
        audit.record_many(session, notes)
    notices = [notice for entry in entries for notice in entry.notices]
    if notices:
        notifications.enqueue(session, notices)
    return ids


class InquiryLog(Protocol):
    """Where inquiries are logged."""

    def write(self, entry: LogEntry) -> int:
        """Log one inquiry; its id once it is written (durably, for a committing log)."""
        ...


class SessionLog:
    """Logs into the caller's own transaction, which commits it with everything else."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write(self, entry: LogEntry) -> int:
        """Write the inquiry in the caller's session."""
        return write_entries(self.session, [entry])[0]


class GroupCommitLog:
    """Logs through the event loop's group committer: ``write_async`` returns once the inquiry is committed."""

    def __init__(self, engine: Engine, *, max_batch: int = 256) -> None:
        self.committer: GroupCommitter[LogEntry, int] = GroupCommitter(engine, write_entries, max_batch=max_batch)

    async def stop(self) -> None:
        """Commit what is waiting and stop."""
        await self.committer.stop()

    async def write_async(self, entry: LogEntry) -> int:
        """Log one inquiry; the event loop goes on preparing other requests until the commit is made."""
        return await self.committer.submit(entry)
