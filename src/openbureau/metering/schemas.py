"""API schemas of the metering domain: a member's monthly statement."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class StatementLine(BaseModel):
    """One measure of the month: what was used, and how much."""

    product: str = Field(description="report, batch, monitoring or furnishing")
    measure: str = Field(description="inquiries, rows, webhook_deliveries, webhook_attempts, files or records")
    purpose: str | None = Field(default=None, description="An inquiry's purpose.")
    kind: str | None = Field(default=None, description="hard or soft (inquiries); delivered or all (attempts).")
    quantity: int


class Statement(BaseModel):
    """What a member used in one calendar month (UTC), counted from the bureau's own logs."""

    member_code: str
    member_name: str
    month: str = Field(description="YYYY-MM")
    period_start: datetime
    period_end: datetime = Field(description="Exclusive: the first moment of the next month.")
    complete: bool = Field(description="False while the month is still running: the counts are so far.")
    generated_at: datetime
    inquiries: int = Field(description="Inquiries logged, online and batch rows alike.")
    hard_inquiries: int
    soft_inquiries: int
    batch_rows: int = Field(description="Rows of batch jobs in chunks committed this month (answered, refused "
                                        "or invalid).")
    webhook_deliveries: int = Field(description="Webhook attempts that delivered.")
    webhook_attempts: int = Field(description="Every webhook attempt, delivered or not.")
    files_furnished: int = Field(description="Files furnished whose load ended this month.")
    records_furnished: int = Field(description="Records accepted from those files.")
    lines: list[StatementLine]
