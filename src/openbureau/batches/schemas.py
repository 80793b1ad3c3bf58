"""API schemas of batch inquiries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class BatchRead(BaseModel):
    """A batch job as its lender sees it: where it stands and how far it got (never a row's values)."""

    id: int
    status: Literal["queued", "running", "done", "cancelled", "failed"]
    file_format: Literal["csv", "jsonl"]
    input_bytes: int
    input_sha256: str = Field(description="SHA-256 of the file as received.")
    rows_total: int
    rows_done: int = Field(description="Rows answered, refused or found invalid, in committed chunks.")
    rows_answered: int
    rows_refused: int = Field(description="Rows without a lawful basis (their code is in the results).")
    rows_invalid: int = Field(description="Rows whose fields could not be asked (row, field, code in the results).")
    rows_failed: int = Field(description="rows_refused + rows_invalid.")
    progress: float = Field(description="rows_done / rows_total.")
    last_error: str | None = Field(description="Why the last chunk failed, when one did (retried).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    results_ready: bool = Field(description="Finished (done, cancelled or failed): the results of every "
                                            "committed row can be downloaded.")

    @classmethod
    def of(cls, row) -> BatchRead:
        """The view of a job's row."""
        return cls(id=row.id, status=row.status, file_format=row.file_format, input_bytes=row.input_bytes,
                   input_sha256=row.input_sha256, rows_total=row.rows_total, rows_done=row.rows_done,
                   rows_answered=row.rows_answered, rows_refused=row.rows_refused, rows_invalid=row.rows_invalid,
                   rows_failed=row.rows_refused + row.rows_invalid,
                   progress=round(row.rows_done / row.rows_total, 4) if row.rows_total else 0.0,
                   last_error=row.last_error, created_at=row.created_at, started_at=row.started_at,
                   finished_at=row.finished_at, results_ready=row.status in ("done", "cancelled", "failed"))
