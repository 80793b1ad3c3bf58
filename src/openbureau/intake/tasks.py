"""Batch jobs of the intake: purging kept files at the end of their retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.intake.files import stored_path
from openbureau.intake.repository import SubmissionRepository
from openbureau.kit.settings import Settings


@dataclass(slots=True)
class KeptFilePurge:
    """What a purge of kept files did (or, dry, would do)."""

    kept_file_days: int
    submissions: int = 0
    bytes_freed: int = 0


def purge_kept_files(session: Session, *, settings: Settings, now: datetime, actor_code: str,
                     dry_run: bool = False) -> KeptFilePurge:
    """Delete the kept files of submissions loaded (or failed) more than ``settings.kept_file_days`` ago.

    The submission's record and findings stay; it is marked purged. A submission not yet loaded keeps its
    file: a load cut short is completed from it. Flushes, never commits.
    """
    run = KeptFilePurge(kept_file_days=settings.kept_file_days)
    repo = SubmissionRepository(session)
    for submission in repo.kept_files_due(before=now - timedelta(days=settings.kept_file_days)):
        path = stored_path(settings, furnisher_id=submission.furnisher_id, sha=submission.sha256,
                           fmt=submission.format)
        run.submissions += 1
        if dry_run:
            continue
        if path.exists():
            run.bytes_freed += path.stat().st_size
            path.unlink()
        submission.file_purged_at = now
    if not dry_run and run.submissions:
        session.flush()
        audit.record(session, actor_member_id=None, actor_code=actor_code, action="retention.kept_files",
                     details={"kept_file_days": settings.kept_file_days, "submissions": run.submissions})
    return run
