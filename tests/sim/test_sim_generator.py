"""Determinism, output layout and manifest of the market generator."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from tests.sim.conftest import END, SEED
from typer.testing import CliRunner

from openbureau.cli.sim import app
from openbureau.intake.standard import V1_COLUMNS as COLUMNS  # the simulated market furnishes v1 files
from openbureau.sim import FURNISHERS, SUBSCRIBERS, generate, read_manifest
from openbureau.sim.timeline import last_complete_period, month_end, parse_period, to_date


def _digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(persons=1_500, months=4, seed=seed, out=tmp_path / name, end_period=END)
        runs[name] = _digests(tmp_path / name)
    assert runs["a"] == runs["b"]
    assert runs["a"].keys() == runs["c"].keys()
    differing = [path for path in runs["a"] if runs["a"][path] != runs["c"][path]]
    assert len(differing) > len(runs["a"]) * 0.9


def test_layout_has_one_file_per_furnisher_and_month(market: Path) -> None:
    periods = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    extension = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl"}
    for furnisher in FURNISHERS:
        for period in periods:
            path = market / "furnishers" / furnisher.code / f"{period}.{extension[furnisher.format]}"
            assert path.is_file(), path
        assert (market / "consents" / f"{furnisher.code}.csv").is_file()
    for name in ("records", "persons", "default_12m", "defects"):
        assert (market / "truth" / f"{name}.parquet").is_file()
    assert {f.code: f.format for f in FURNISHERS}["DIGIBANK"] == "parquet"
    assert {f.code: f.format for f in FURNISHERS}["ECOMM"] == "jsonl"


def test_every_file_has_the_standard_columns_in_order(market: Path) -> None:
    header = (market / "furnishers" / "SUPERAPP" / "2025-03.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == COLUMNS
    assert tuple(pl.read_parquet(market / "furnishers" / "DIGIBANK" / "2025-03.parquet").columns) == COLUMNS
    first = json.loads((market / "furnishers" / "ECOMM" / "2025-03.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert tuple(first) == COLUMNS


def test_manifest_lists_every_file_in_submission_order(market: Path, read_file) -> None:
    entries = read_manifest(market)
    assert len(entries) == len(FURNISHERS) * 6
    assert [e.submitted_on for e in entries] == sorted(e.submitted_on for e in entries)
    for entry in entries:
        assert entry.path.is_absolute() and entry.path.is_file()
        assert read_file(entry.path, entry.format).height == entry.rows
        period_end = to_date(month_end(parse_period(entry.period)))
        assert entry.submitted_on > period_end
    manifest = json.loads((market / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == SEED and manifest["persons"] == 2_000 and manifest["end_period"] == END
    assert manifest["subscribers"] == [s.code for s in SUBSCRIBERS]
    consents = {c["furnisher"]: c["rows"] for c in manifest["consents"]}
    for code, rows in consents.items():
        assert pl.read_csv(market / "consents" / f"{code}.csv").height == rows


def test_late_files_arrive_after_the_next_months_file(market: Path) -> None:
    defects = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("defect_type") == "late_file")
    submitted = {(e.furnisher, e.period): e.submitted_on for e in read_manifest(market)}
    for code, period in defects.select("furnisher", "period").iter_rows():
        period_end = to_date(month_end(parse_period(period)))
        assert (submitted[(code, period)] - period_end).days >= 15


def test_consent_file_columns_and_refs_match_records(market: Path, records: pl.DataFrame) -> None:
    consents = pl.read_csv(market / "consents" / "SUPERAPP.csv", infer_schema=False)
    assert consents.columns == ["consent_ref", "id_type", "id_number", "full_name", "purpose", "granted_at",
                                "expires_at", "channel", "evidence_hash", "status", "revoked_at"]
    assert set(consents["purpose"]) == {"furnish"}
    assert set(consents["status"]) <= {"active", "revoked"}
    assert consents["evidence_hash"].str.contains(r"^[0-9a-f]{64}$").all()
    assert consents.filter(pl.col("status") == "revoked")["revoked_at"].is_not_null().all()
    refs = set(records.filter(pl.col("furnisher") == "SUPERAPP")["consent_ref"].drop_nulls())
    assert refs <= set(consents["consent_ref"])


def test_default_end_period_is_last_complete_month(tmp_path: Path) -> None:
    summary = generate(persons=60, months=2, seed=1, out=tmp_path / "m")
    assert summary.end_period == last_complete_period()
    assert parse_period(summary.end_period) == (date.today().year - 1970) * 12 + date.today().month - 2


def test_rerun_replaces_previous_output_but_never_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "m"
    generate(persons=60, months=3, seed=1, out=out, end_period=END)
    generate(persons=60, months=1, seed=1, out=out, end_period=END)
    assert len(list((out / "furnishers" / "BANK_A").iterdir())) == 1
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(persons=60, months=1, seed=1, out=foreign, end_period=END)


def test_cli_generates_a_market(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--persons", "300", "--months", "2", "--seed", "9",
                                      "--out", str(tmp_path / "cli"), "--end-period", END])
    assert result.exit_code == 0, result.output
    assert "records" in result.output
    assert [e.period for e in read_manifest(tmp_path / "cli")].count(END) == len(FURNISHERS)
    bad = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "x"), "--end-period", "2025-13"])
    assert bad.exit_code != 0
