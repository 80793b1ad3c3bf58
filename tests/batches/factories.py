"""Factories of the batch tests: files of subjects, jobs submitted and answered, what they logged."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from openbureau.audit.models import AuditEntry
from openbureau.batches import service
from openbureau.batches.models import InquiryBatch
from openbureau.batches.worker import Worker
from openbureau.inquiries.models import Inquiry
from openbureau.intake.files import seal_file
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.principals import Principal
from openbureau.runtime import Runtime
from tests.intake.factories import PEOPLE

COLUMNS = ("reference", "id_type", "id_number", "purpose", "consent_ref", "declared_monthly_income")


def subject(index: int, reference: str, purpose: str = "loan_origination", consent_ref: str | None = None,
            **extra) -> dict:
    """A row about one of the known people."""
    return {"reference": reference, "id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[index][0], "purpose": purpose,
            "consent_ref": consent_ref, **extra}


def write_batch(path: Path, rows: list[dict], columns: tuple[str, ...] = COLUMNS) -> Path:
    """A batch file: CSV with a header, or JSON Lines, by the name's suffix."""
    if path.suffix == ".csv":
        lines = [",".join(columns)] + [",".join(str(r.get(c) or "") for c in columns) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows),
                        encoding="utf-8")
    return path


def principal(runtime: Runtime, code: str) -> Principal:
    """The principal of a member."""
    with session_scope(runtime.engine) as session:
        return Principal.of_member(get_member(session, code=code))


def submit(runtime: Runtime, code: str, path: Path, fmt: str | None = None):
    """Submit a file as ``code``, as the command line does."""
    with path.open("rb") as source:
        sealed = seal_file(runtime.settings, source, max_bytes=runtime.settings.batch_max_bytes)
    return service.submit(runtime.engine, settings=runtime.settings, principal=principal(runtime, code),
                          sealed=sealed, file_format=fmt or path.suffix.lstrip("."))


def worker(runtime: Runtime, **kwargs) -> Worker:
    """A batch worker of the test's bureau."""
    return Worker(runtime.engine, settings=runtime.settings, vault=runtime.vault, policy=runtime.policy, **kwargs)


def results(runtime: Runtime, code: str, batch_id: int, fmt: str = "jsonl") -> bytes:
    """The bytes of a job's results file, downloaded by ``code``."""
    with session_scope(runtime.engine, write=True) as session:
        stream, _, _ = service.results_of(session, settings=runtime.settings, principal=principal(runtime, code),
                                          batch_id=batch_id, fmt=fmt)
    return b"".join(stream)


def result_lines(runtime: Runtime, code: str, batch_id: int) -> list[dict]:
    """The results as dicts."""
    return [json.loads(line) for line in results(runtime, code, batch_id).splitlines()]


def logged(runtime: Runtime) -> tuple[list[Inquiry], int]:
    """Every inquiry logged, and the number of ``inquiry.read`` audit entries."""
    with session_scope(runtime.engine) as session:
        inquiries = list(session.scalars(select(Inquiry).order_by(Inquiry.id)))
        session.expunge_all()
        audits = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "inquiry.read"))
    return inquiries, audits


def batch_count(runtime: Runtime) -> int:
    """How many jobs are recorded."""
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(InquiryBatch))


def sealed_files(runtime: Runtime) -> list[Path]:
    """Every sealed file the bureau keeps for batches and in its scratch area."""
    data = runtime.settings.data_dir
    return [p for folder in (data / "batches", data / "tmp") if folder.exists() for p in folder.rglob("*") if p.is_file()]
