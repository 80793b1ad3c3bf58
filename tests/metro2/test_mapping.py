"""Metro 2 to the furnishing standard's columns and back; the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.metro2 import read_bytes
from openbureau.metro2.mapping import delinquency, from_standard, history_statuses, to_standard
from openbureau.metro2.writer import format_record
from tests.metro2.factories import valid_file


def _rows() -> list[dict[str, str | None]]:
    return [to_standard(r) for r in read_bytes(valid_file()) if r.kind == "base"]


def test_accounts_map_to_standard_columns() -> None:
    current, late, paid, mortgage, charged_off = _rows()
    assert (current["product_type"], current["credit_limit"], current["balance"]) == ("credit_card", "500000", "120000")
    assert (current["account_status"], current["payment_status"], current["days_past_due"]) == ("open", "N", "0")
    assert (late["product_type"], late["original_amount"], late["term_months"]) == ("auto", "2000000", "60")
    assert (late["payment_status"], late["days_past_due"], late["first_delinquency_date"]) == ("1", "30", "2026-08-01")
    assert (paid["account_status"], paid["payment_status"], paid["closed_on"]) == ("closed", "C", "2026-09-20")
    assert paid["metro2_compliance_condition_code"] == "XA" and paid["metro2_disputed"] == "0"
    assert mortgage["product_type"] == "mortgage" and mortgage["metro2_associated_consumers"] == "2"
    assert (charged_off["account_status"], charged_off["payment_status"]) == ("charged_off", "7")
    assert charged_off["metro2_ecoa_code"] == "Z"
    assert current["full_name"] == "JANE Q DOE" and current["birth_date"] == "1980-03-07"
    assert current["reporting_period"] == "2026-09" and current["currency"] == "USD"


def test_codes() -> None:
    assert delinquency("84", "") == (180, "6")
    assert delinquency("13", "3") == (0, "C")
    assert delinquency("95", "3") == (90, "3")
    assert delinquency("88", "L") == (181, "7")
    assert delinquency("97", "") == (181, "7")
    assert delinquency("11", "") == (0, "N")
    assert history_statuses("0123456BDEGHJKL") == ["N", "1", "2", "3", "4", "5", "6", "", "#", "*", "7", "Z", "Z", "Z", "7"]


def test_standard_to_metro2_and_back_keeps_every_standard_column() -> None:
    for row in _rows():
        again = to_standard(read_bytes(format_record(from_standard(row)).encode())[0])
        assert {k: v for k, v in again.items() if k != "metro2_associated_consumers"} == \
               {k: v for k, v in row.items() if k != "metro2_associated_consumers"}


def test_cli_read_and_write(tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.dat"
    good.write_bytes(valid_file())
    result = runner.invoke(app, ["metro2", "read", str(good)])
    assert result.exit_code == 0 and "No errors" in result.output
    bad = tmp_path / "bad.dat"
    bad.write_bytes(valid_file().replace(b"0426HEADER", b"0426HEADEX"))
    result = runner.invoke(app, ["metro2", "read", str(bad), "--json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert "HEADER_MISSING" in {line.get("code") for line in lines} and lines[-1]["summary"]["records"] == 7

    rows = pl.DataFrame(_rows()).drop([c for c in _rows()[0] if c.startswith("metro2_")])
    csv = tmp_path / "standard.csv"
    rows.write_csv(csv)
    out = tmp_path / "out.dat"
    result = runner.invoke(app, ["metro2", "write", "--from", str(csv), "--out", str(out), "--furnisher", "F1"])
    assert result.exit_code == 0, result.output
    records = read_bytes(out.read_bytes())
    assert [r.kind for r in records] == ["header"] + ["base"] * 5 + ["trailer"]
    assert records[0].main["activity_date"] == date(2026, 9, 30).strftime("%m%d%Y")
    assert [to_standard(r)["balance"] for r in records[1:-1]] == rows.get_column("balance").cast(pl.Utf8).to_list()


def test_cli_write_names_the_row_of_a_value_that_does_not_fit(tmp_path: Path) -> None:
    rows = pl.DataFrame(_rows()).drop([c for c in _rows()[0] if c.startswith("metro2_")])
    rows = rows.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("X" * 40))
                             .otherwise(pl.col("furnisher_account_id")).alias("furnisher_account_id"))
    csv = tmp_path / "standard.csv"
    rows.write_csv(csv)
    result = CliRunner().invoke(app, ["metro2", "write", "--from", str(csv), "--out", str(tmp_path / "o.dat")])
    assert result.exit_code == 1
    assert "METRO2_VALUE_INVALID" in result.output and "row 3" in result.output


def test_records_with_errors_still_map_or_say_why() -> None:
    import pytest

    data = bytearray(valid_file())
    start = data.index(b"\n") + 1 + 125  # payment rating of the first account
    data[start:start + 1] = b"7"
    record = read_bytes(bytes(data))[1]
    assert "INVALID_CODE" in [e.code for e in record.errors]
    assert to_standard(record)["payment_status"] == "N"
    with pytest.raises(ValueError, match="no whole base segment"):
        to_standard(read_bytes(valid_file()[:300])[0])
