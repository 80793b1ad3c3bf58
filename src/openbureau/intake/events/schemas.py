"""API schemas of the event intake: a batch of events in, each event's outcome and every finding out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from openbureau.intake.events.standard import EVENTS, MAX_BATCH_EVENTS
from openbureau.intake.limits import ReadLimits
from openbureau.intake.schemas import FindingRead
from openbureau.intake.standard import FieldType

_NUMBERS = (FieldType.AMOUNT, FieldType.INTEGER)
_Text = Annotated[str, StringConstraints(max_length=ReadLimits().max_value_chars)]

# One event as JSON: every column of the events' field table, as text (numbers may also be sent as JSON
# integers). Values are checked by the event rules, which report a finding per problem, so the schema
# only bounds sizes; an unknown key is refused (a misspelt column would otherwise go unnoticed).
EventIn = create_model(  # type: ignore[call-overload]
    "EventIn",
    __config__=ConfigDict(extra="forbid"),
    __doc__="One lending event (docs/furnishing-format.md, Events).",
    **{f.name: (_Text | int | None if f.type in _NUMBERS else _Text | None,
                Field(default=None, description=f.description))
       for f in EVENTS.fields},
)


class EventBatch(BaseModel):
    """Up to 10,000 events of the calling furnisher."""

    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)  # type: ignore[valid-type]

    def frame(self) -> pl.DataFrame:
        """The batch as the validator takes it: ``_line`` (1 = the first event) and every column as text."""
        columns = {name: [None if (value := getattr(e, name)) is None else str(value) for e in self.events]
                   for name in EVENTS.columns}  # column by column: a third of the time of a dict per event
        return pl.DataFrame(columns, schema={c: pl.String for c in EVENTS.columns}).with_columns(
            pl.int_range(1, len(self.events) + 1, dtype=pl.Int64).alias("_line"))


class EventOutcome(BaseModel):
    """What became of one event: ``line`` is its position in the batch, from 1."""

    line: int
    event_id: str | None
    outcome: str = Field(description="accepted, warning (stored with warnings), held (stored, awaiting consent), "
                                     "duplicate (stored before: acknowledged) or rejected (see the findings)")


class EventBatchRead(BaseModel):
    """A batch's figures, each event's outcome and every finding (line = the event's position)."""

    received: int
    stored: int
    warnings: int
    duplicates: int
    rejected: int
    held: int
    unlinked: int = Field(description="stored under no person yet (a file was loading); counted for the subject "
                                      "already, filed under a person shortly")
    received_at: datetime
    outcomes: list[EventOutcome]
    findings: list[FindingRead]


class DiscrepancyRead(BaseModel):
    """An event the furnisher's monthly file contradicts or leaves out (reconciliation)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    furnisher_account_id: str
    reporting_period: str
    code: str
    message: str
    detected_at: datetime
