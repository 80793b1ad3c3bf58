"""Batch jobs of the intake: purging kept files at the end of their retention; sealing files kept in clear
by earlier versions of the bureau."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.intake.files import private_dir, seal_file, stored_path
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


# Where earlier versions kept received files, in clear: ``submissions/<first two hex digits>/<sha>.<fmt>``.
# Today's kept files are ``submissions/<furnisher id>/<sha>.<fmt>.sealed``: a furnisher numbered 10 to 99 has a
# directory of two digits too, so a legacy file is told by its name (a digest and a format, never ``.sealed``),
# not by its directory's name alone.
_LEGACY_NAME = re.compile(r"^[0-9a-f]{64}\.(csv|jsonl|parquet|metro2)$")
_LEGACY_DIR = re.compile(r"^[0-9a-f]{2}$")


def _is_legacy(path) -> bool:
    return _LEGACY_NAME.match(path.name) is not None and path.is_file()


def legacy_kept_files(settings: Settings) -> list:
    """Files kept in clear by an earlier version of the bureau (none once :func:`seal_legacy_files` ran)."""
    root = settings.submissions_dir
    if not root.is_dir():
        return []
    return sorted(f for d in root.iterdir() if d.is_dir() and _LEGACY_DIR.match(d.name) for f in d.iterdir()
                  if _is_legacy(f))


def seal_legacy_files(session: Session, *, settings: Settings, actor_code: str) -> int:
    """Seal every file an earlier version kept in clear into the place its submissions look for it now,
    then delete the clear copy (and a clear file no submission names); how many clear files were removed.
    Flushes, never commits."""
    legacy = legacy_kept_files(settings)
    if not legacy:
        return 0
    repo = SubmissionRepository(session)
    for path in legacy:
        sha, _, fmt = path.name.partition(".")
        try:
            for submission in repo.by_sha256(sha):
                kept = stored_path(settings, furnisher_id=submission.furnisher_id, sha=sha, fmt=submission.format)
                if not kept.exists():
                    with path.open("rb") as source:
                        sealed = seal_file(settings, source)
                    private_dir(kept.parent)
                    sealed.path.replace(kept)
            path.unlink()
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
        except FileNotFoundError:  # sealed and removed meanwhile by another process opening the bureau
            continue
    audit.record(session, actor_member_id=None, actor_code=actor_code, action="intake.seal_legacy_files",
                 details={"files": len(legacy)})
    return len(legacy)
