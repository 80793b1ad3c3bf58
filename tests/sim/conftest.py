"""Shared small markets for the simulator tests (generated once per session)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from openbureau.intake.standard import INTEGER_COLUMNS
from openbureau.sim import generate

END = "2025-06"
SEED = 12  # a seed whose 2,000 persons show every rare identity variant (transposed birth dates: about one)


def read_furnishing_file(path: Path, fmt: str) -> pl.DataFrame:
    """A furnishing file as text columns (integers cast back), whatever its format."""
    if fmt == "csv":
        frame = pl.read_csv(path, infer_schema=False)
    elif fmt == "jsonl":
        frame = pl.read_ndjson(path, infer_schema_length=None).cast(pl.String)
    else:
        frame = pl.read_parquet(path).cast(pl.String)
    return frame.with_columns([pl.col(c).cast(pl.Int64) for c in INTEGER_COLUMNS if c in frame.columns])


@pytest.fixture(scope="session")
def read_file():
    """The reader of furnishing files, whatever their format."""
    return read_furnishing_file


@pytest.fixture(scope="session")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 persons over 6 months."""
    out = tmp_path_factory.mktemp("sim") / "market"
    generate(persons=2_000, months=6, seed=SEED, out=out, end_period=END)
    return out


@pytest.fixture(scope="session")
def records(market: Path) -> pl.DataFrame:
    """Every furnished record with its furnisher, row number, true person and injected defect (if any)."""
    return furnished_records(market)


def furnished_records(market: Path) -> pl.DataFrame:
    """Every furnished record of ``market`` with its furnisher, row number, true person and injected defect."""
    manifest = json.loads((market / "manifest.json").read_text(encoding="utf-8"))
    frames = []
    for entry in manifest["files"]:
        frame = read_furnishing_file(market / entry["path"], entry["format"])
        if frame.height:
            frames.append(frame.with_columns(furnisher=pl.lit(entry["furnisher"]),
                                             row=pl.int_range(1, frame.height + 1, dtype=pl.Int64)))
    found = pl.concat(frames, how="vertical_relaxed")
    truth = pl.read_parquet(market / "truth" / "records.parquet")
    defects = pl.read_parquet(market / "truth" / "defects.parquet").filter(
        pl.col("row").is_not_null() & pl.col("event_date").is_null())  # the monthly files' defects
    return (
        found.join(truth.select("furnisher", reporting_period="period", furnisher_account_id="furnisher_account_id",
                                person_key="person_key"),
                   on=["furnisher", "reporting_period", "furnisher_account_id"], how="left")
        .join(defects.select("furnisher", "row", "defect_type", "field", reporting_period="period"),
              on=["furnisher", "reporting_period", "row"], how="left")
    )


@pytest.fixture(scope="session")
def persons(market: Path) -> pl.DataFrame:
    """The true persons of the small market."""
    return pl.read_parquet(market / "truth" / "persons.parquet")
