"""Files of a simulated market: furnishing files, consent files, truth tables and the manifest.

Layout of the output directory::

    furnishers/<CODE>/<YYYY-MM>.<csv|parquet|jsonl>   one furnishing file per furnisher and month
    consents/<CODE>.csv                               the consents to furnish each furnisher holds
    truth/records.parquet                             furnisher, period, account -> person_key
    truth/persons.parquet                             true identities, latent risk, thin file, fraud
    truth/default_12m.parquet                         default in the 12 months after each month
    truth/defects.parquet                             every injected defect
    truth/episodes.parquet                            over-borrowing episodes, one row per loan
    truth/fraud.parquet                               fraudsters: pattern, when it began, first default
    truth/first_credit.parquet                        first credit account opened in the patterns' months
    events/<CODE>/<YYYY-MM-DD>.csv                    one lending-event file per lender and day (event_files)
    manifest.json                                     every file, in simulated submission order

Blocks of persons are appended to files that stay open for the whole run, so memory does not grow with
the number of persons: CSV and JSON Lines by appending bytes, Parquet by one row group per block.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow.parquet as pq

from openbureau.intake.standard import COLUMNS, FIELDS, STANDARD_VERSION, FieldType

EXTENSIONS = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl"}
MANIFEST = "manifest.json"
_OWNED = ("furnishers", "consents", "events", "truth", MANIFEST)

RECORD_SCHEMA: dict[str, pl.DataType] = {
    f.name: pl.Int64() if f.type in (FieldType.AMOUNT, FieldType.INTEGER)
    else pl.Date() if f.type is FieldType.DATE else pl.String()
    for f in FIELDS
}
CONSENT_SCHEMA: dict[str, pl.DataType] = {
    "consent_ref": pl.String(), "id_type": pl.String(), "id_number": pl.String(), "full_name": pl.String(),
    "purpose": pl.String(), "granted_at": pl.String(), "expires_at": pl.String(), "channel": pl.String(),
    "evidence_hash": pl.String(), "status": pl.String(), "revoked_at": pl.String(),
}
TRUTH_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "records": {"furnisher": pl.String(), "period": pl.String(), "furnisher_account_id": pl.String(),
                "person_key": pl.String(), "name_variant": pl.String(), "id_variant": pl.String()},
    "persons": {"person_key": pl.String(), "id_number": pl.String(), "full_name": pl.String(),
                "surname": pl.String(), "given_name": pl.String(), "sex": pl.String(), "birth_date": pl.Date(),
                "region_code": pl.String(), "address": pl.String(), "phone": pl.String(),
                "phone_new": pl.String(), "phone_changed_period": pl.String(), "passport_number": pl.String(),
                "income_monthly": pl.Int64(), "latent_risk": pl.Float64(), "thin_file": pl.Boolean(),
                "synthetic": pl.Boolean(), "ring_id": pl.Int64(), "namesake_of": pl.String(),
                "over_borrower": pl.Boolean()},
    "default_12m": {"person_key": pl.String(), "period": pl.String(), "in_default": pl.Boolean(),
                    "default_12m": pl.Boolean(), "horizon_months": pl.Int64()},
    "defects": {"furnisher": pl.String(), "period": pl.String(), "furnisher_account_id": pl.String(),
                "row": pl.Int64(), "line": pl.Int64(), "defect_type": pl.String(), "field": pl.String(),
                "event_date": pl.Date(), "event_id": pl.String()},
    "episodes": {"episode_id": pl.String(), "person_key": pl.String(), "furnisher": pl.String(),
                 "furnisher_account_id": pl.String(), "opened_at": pl.Datetime("ms", "UTC"), "position": pl.Int64(),
                 "last": pl.Boolean()},
    "fraud": {"person_key": pl.String(), "pattern": pl.String(), "began_at": pl.Datetime("ms", "UTC"),
              "built_since": pl.Date(), "phone_changed_on": pl.Date(), "first_missed_on": pl.Date(),
              "defaulted_on": pl.Date()},
    "first_credit": {"person_key": pl.String(), "opened_at": pl.Datetime("ms", "UTC")},
}


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One furnishing file of a simulated market, as listed in manifest.json."""

    path: Path  # absolute
    furnisher: str
    period: str
    format: str
    rows: int
    submitted_on: date


def prepare_output(out: Path) -> None:
    """Create `out`, removing the files of an earlier simulation there (and nothing else).

    Raises:
        FileExistsError: when `out` holds other files but no earlier simulation's manifest.
    """
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()) and not (out / MANIFEST).exists():
        raise FileExistsError(f"{out} is not empty and holds no earlier simulation (no {MANIFEST})")
    for name in _OWNED:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


class OutputWriter:
    """Appends blocks of records to the output files and writes the manifest at the end."""

    def __init__(self, out: Path, furnishers: list[tuple[str, str]], periods: list[str]) -> None:
        self.out = out
        self.formats = dict(furnishers)
        self.rows: dict[tuple[str, str], int] = {}
        self._text: dict[tuple[str, str], BinaryIO] = {}
        self._parquet: dict[tuple[str, str], pq.ParquetWriter] = {}
        header = pl.DataFrame(schema=RECORD_SCHEMA)
        for code, fmt in furnishers:
            (out / "furnishers" / code).mkdir(parents=True)
            for period in periods:
                key = (code, period)
                path = self.path(code, period)
                self.rows[key] = 0
                if fmt == "parquet":
                    self._parquet[key] = pq.ParquetWriter(path, header.to_arrow().schema)
                else:
                    handle = path.open("wb")
                    if fmt == "csv":
                        header.write_csv(handle, include_header=True)
                    self._text[key] = handle
        (out / "consents").mkdir()
        self.consent_rows: dict[str, int] = {}
        self._consents: dict[str, BinaryIO] = {}
        for code, _ in furnishers:
            handle = (out / "consents" / f"{code}.csv").open("wb")
            pl.DataFrame(schema=CONSENT_SCHEMA).write_csv(handle, include_header=True)
            self._consents[code] = handle
            self.consent_rows[code] = 0
        (out / "truth").mkdir()
        self.truth_rows = dict.fromkeys(TRUTH_SCHEMAS, 0)
        self._truth = {
            name: pq.ParquetWriter(out / "truth" / f"{name}.parquet", pl.DataFrame(schema=schema).to_arrow().schema)
            for name, schema in TRUTH_SCHEMAS.items()
        }

    def path(self, code: str, period: str) -> Path:
        """Path of a furnisher's file for a period."""
        return self.out / "furnishers" / code / f"{period}.{EXTENSIONS[self.formats[code]]}"

    def append_records(self, code: str, period: str, frame: pl.DataFrame) -> int:
        """Append records to a furnishing file; returns the number of rows it held before."""
        key = (code, period)
        before = self.rows[key]
        if frame.height:
            # The market's records are persons' loans: optional columns it does not make are written empty.
            frame = frame.select(pl.col(c) if c in frame.columns else pl.lit(None).alias(c) for c in COLUMNS
                                 ).cast(RECORD_SCHEMA)  # type: ignore[arg-type]
            fmt = self.formats[code]
            if fmt == "parquet":
                self._parquet[key].write_table(frame.to_arrow())
            elif fmt == "csv":
                frame.write_csv(self._text[key], include_header=False)
            else:
                frame.write_ndjson(self._text[key])
            self.rows[key] = before + frame.height
        return before

    def append_consents(self, code: str, frame: pl.DataFrame) -> None:
        """Append consents to a furnisher's consent file."""
        if frame.height:
            frame.select(list(CONSENT_SCHEMA)).write_csv(self._consents[code], include_header=False)
            self.consent_rows[code] += frame.height

    def append_truth(self, name: str, frame: pl.DataFrame) -> None:
        """Append rows to one of the truth tables (columns it lacks are empty)."""
        if frame.height:
            schema = TRUTH_SCHEMAS[name]
            frame = frame.with_columns(pl.lit(None, dtype).alias(column) for column, dtype in schema.items()
                                       if column not in frame.columns)
            self._truth[name].write_table(frame.select(list(schema)).cast(schema).to_arrow())  # type: ignore[arg-type]
            self.truth_rows[name] += frame.height

    def close(self) -> None:
        """Flush and close every file."""
        for handle in [*self._text.values(), *self._consents.values()]:
            handle.close()
        for writer in [*self._parquet.values(), *self._truth.values()]:
            writer.close()

    def write_manifest(self, *, submitted: dict[tuple[str, str], date], meta: dict[str, object],
                       events: list[dict[str, object]] | None = None) -> list[dict]:
        """Write manifest.json: furnishing files in submission order, daily event files in time order,
        consent files and truth tables."""
        files = [
            {"path": self.path(code, period).relative_to(self.out).as_posix(), "furnisher": code, "period": period,
             "format": self.formats[code], "rows": rows, "submitted_on": submitted[(code, period)].isoformat()}
            for (code, period), rows in self.rows.items()
        ]
        files.sort(key=lambda e: (e["submitted_on"], e["furnisher"], e["period"]))
        manifest = {
            **meta,
            "standard_version": STANDARD_VERSION,
            "files": files,
            "events": events or [],
            "consents": [{"path": f"consents/{code}.csv", "furnisher": code, "format": "csv", "rows": rows}
                         for code, rows in self.consent_rows.items()],
            "truth": [{"path": f"truth/{name}.parquet", "rows": rows} for name, rows in self.truth_rows.items()],
        }
        (self.out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return files


def read_manifest(out: Path | str) -> list[ManifestEntry]:
    """The furnishing files of a simulated market, in simulated submission order.

    Example: ``for entry in read_manifest("data/sim"): submit(entry.furnisher, entry.path)``.
    """
    root = Path(out)
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    return [
        ManifestEntry(path=(root / e["path"]).resolve(), furnisher=e["furnisher"], period=e["period"],
                      format=e["format"], rows=int(e["rows"]), submitted_on=date.fromisoformat(e["submitted_on"]))
        for e in manifest["files"]
    ]
