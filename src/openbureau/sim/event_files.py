"""Daily event files: ``events/<CODE>/<YYYY-MM-DD>.csv``, one per lender and day of the event feed.

Blocks of persons produce events month by month, so a day's events arrive from every block. Each
block-month's events are staged per furnisher and month (Arrow IPC under ``events/.staging``); when every
block is done, each furnisher-month is sorted by the moment its events happened and split into daily CSV
files (UTF-8, header row, empty for absent; a day without events has a file with the header only), the
staged files are removed, and the injected defects get their file's date and row for the truth.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from openbureau.intake.events.standard import EVENT_COLUMNS, EVENTS
from openbureau.intake.standard import FieldType
from openbureau.sim.event_defects import EVENT_DEFECT_TYPES, MISSING
from openbureau.sim.timeline import month_end, month_start, period_label, to_date

# The columns of an event file are the furnishing standard's events section, in its order
# (docs/furnishing-format.md); amounts and integers are written as integers, dates as YYYY-MM-DD.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    f.name: pl.Int64() if f.type in (FieldType.AMOUNT, FieldType.INTEGER)
    else pl.Date() if f.type is FieldType.DATE else pl.String()
    for f in EVENTS.fields
}
_STAGED_SCHEMA: dict[str, pl.DataType] = {
    **EVENT_SCHEMA, "_f": pl.Int64(), "_day": pl.Int64(), "_sec": pl.Int64(), "_month": pl.Int64(),
    "_etype": pl.Int64(), "_account": pl.String(), "_person_key": pl.String(), "_defect": pl.Int64(),
    "_field": pl.String(),
}
EVENTS_DIR = "events"
_STAGING = ".staging"


@dataclass(frozen=True, slots=True)
class EventFileEntry:
    """One daily event file of a simulated market, as listed in manifest.json."""

    path: Path  # absolute
    furnisher: str
    date: date
    rows: int


class EventWriter:
    """Stages a run's events per furnisher and month, then writes the daily files."""

    def __init__(self, out: Path, codes: list[str], lenders: list[int], first_day: int, last_day: int) -> None:
        self.out, self.codes, self.lenders = out, codes, lenders
        self.first_day, self.last_day = first_day, last_day
        self.staging = out / EVENTS_DIR / _STAGING
        self.staging.mkdir(parents=True)
        self._writers: dict[tuple[int, int], pa.ipc.RecordBatchStreamWriter] = {}
        self.events = 0

    def append(self, frame: pl.DataFrame) -> None:
        """Stage a block-month's events (an `events.frame` with `_defect` and `_field`)."""
        if frame.height == 0:
            return
        frame = frame.select(list(_STAGED_SCHEMA)).cast(_STAGED_SCHEMA)  # type: ignore[arg-type]
        for (f, month), part in frame.partition_by("_f", "_month", as_dict=True, maintain_order=True).items():
            key = (int(f), int(month))  # type: ignore[call-overload]
            table = part.to_arrow()
            if key not in self._writers:
                path = self.staging / f"{self.codes[key[0]]}-{period_label(key[1])}.arrows"
                self._writers[key] = pa.ipc.new_stream(str(path), table.schema)
            self._writers[key].write_table(table)

    def finish(self) -> tuple[list[dict[str, object]], pl.DataFrame]:
        """Write the daily files; return their manifest entries (in time order) and the events' defects."""
        for writer in self._writers.values():
            writer.close()
        entries: list[dict[str, object]] = []
        defects: list[pl.DataFrame] = []
        months = sorted({int(m) for m in np.arange(self.first_day, self.last_day + 1).astype("datetime64[D]")
                         .astype("datetime64[M]").astype(np.int64)})
        empty = pl.DataFrame(schema=_STAGED_SCHEMA)
        for f, month in ((f, m) for f in self.lenders for m in months):
            code = self.codes[f]
            path = self.staging / f"{code}-{period_label(month)}.arrows"
            staged = empty
            if (f, month) in self._writers:
                with pa.memory_map(str(path)) as source:
                    staged = pl.from_arrow(pa.ipc.open_stream(source).read_all())  # type: ignore[assignment]
            staged = staged.sort("_day", "_sec", "_etype", "event_id")
            sent = staged.filter(pl.col("_defect") != MISSING).with_columns(
                _row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_day"))
            by_day = sent.partition_by("_day", as_dict=True)
            (self.out / EVENTS_DIR / code).mkdir(exist_ok=True)
            first, last = max(int(month_start(month)), self.first_day), min(int(month_end(month)), self.last_day)
            for day in range(first, last + 1):
                part = by_day.get((day,), sent.clear())
                when = to_date(day)
                relative = f"{EVENTS_DIR}/{code}/{when.isoformat()}.csv"
                part.select(EVENT_COLUMNS).write_csv(self.out / relative)
                entries.append({"path": relative, "furnisher": code, "date": when.isoformat(), "rows": part.height})
                self.events += part.height
            marked = pl.concat([sent.filter(pl.col("_defect") >= 0),
                                staged.filter(pl.col("_defect") == MISSING).with_columns(_row=pl.lit(None, pl.Int64))])
            defects.append(marked.select(
                furnisher=pl.lit(code),
                period=pl.lit(period_label(month)),
                furnisher_account_id=pl.col("_account"),  # the true account, whatever the event says
                row=pl.col("_row"),
                line=pl.col("_row") + 1,  # the header is line 1
                defect_type=pl.col("_defect").replace_strict(list(range(len(EVENT_DEFECT_TYPES))),
                                                             list(EVENT_DEFECT_TYPES), return_dtype=pl.String),
                field=pl.col("_field"),
                event_date=pl.col("_day").cast(pl.Int32).cast(pl.Date),
                event_id=pl.when(pl.col("_defect") != MISSING).then(pl.col("event_id")),
            ))
        shutil.rmtree(self.staging)
        entries.sort(key=lambda e: (e["date"], e["furnisher"]))
        return entries, pl.concat(defects) if defects else pl.DataFrame()

    def abort(self) -> None:
        """Close the staged files (after a failure) and remove them."""
        for writer in self._writers.values():
            writer.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def read_event_manifest(out: Path | str) -> list[EventFileEntry]:
    """The daily event files of a simulated market, in time order (empty when it has none).

    Example: ``for entry in read_event_manifest("data/sim"): submit_events(entry.furnisher, entry.path)``.
    """
    root = Path(out)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return [EventFileEntry(path=(root / e["path"]).resolve(), furnisher=e["furnisher"],
                           date=date.fromisoformat(e["date"]), rows=int(e["rows"]))
            for e in manifest.get("events", [])]
