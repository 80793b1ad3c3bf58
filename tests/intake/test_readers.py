"""Readers: every format gives the same normalised chunks, with lines, in bounded pieces."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.intake.readers import ChunkReader, FileFormat, count_records, detect_format
from tests.intake.factories import record, write_file


def _read(path, chunk_size=1_000) -> tuple[pl.DataFrame, ChunkReader]:
    reader = ChunkReader(path, detect_format(path.name), chunk_size=chunk_size)
    return pl.concat(list(reader.chunks())), reader


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_formats_give_identical_normalised_frames(tmp_path, suffix) -> None:
    rows = [record(furnisher_account_id=f"A{i}", address="  padded  ", phone="") for i in range(5)]
    frame, _ = _read(write_file(tmp_path / f"f{suffix}", rows))
    assert frame.columns == ["_line", *standard.COLUMNS]
    assert all(frame.schema[c] == pl.String for c in standard.COLUMNS)
    assert frame["furnisher_account_id"].to_list() == [f"A{i}" for i in range(5)]
    assert frame["address"].to_list() == ["padded"] * 5
    assert frame["phone"].null_count() == 5
    first_line = 2 if suffix == ".csv" else 1
    assert frame["_line"].to_list() == list(range(first_line, first_line + 5))


def test_csv_chunks_are_bounded_and_lines_survive_malformed_rows(tmp_path) -> None:
    path = write_file(tmp_path / "f.csv", [record(furnisher_account_id=f"A{i}") for i in range(25)])
    lines = path.read_text().splitlines()
    lines.insert(5, "broken,row")  # becomes physical line 6
    path.write_text("\n".join(lines) + "\n")
    reader = ChunkReader(path, FileFormat.CSV, chunk_size=10)
    chunks = list(reader.chunks())
    assert [c.height for c in chunks] == [10, 10, 5]
    frame = pl.concat(chunks)
    assert [m.line for m in reader.malformed] == [6]
    assert "2 fields" in reader.malformed[0].message
    by_line = dict(zip(frame["_line"].to_list(), frame["furnisher_account_id"].to_list(), strict=True))
    assert by_line[5] == "A3" and by_line[7] == "A4" and 6 not in by_line
    assert count_records(path, FileFormat.CSV) == 26


def test_csv_with_bom_and_gb18030(tmp_path) -> None:
    path = write_file(tmp_path / "f.csv", [record()])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    frame, _ = _read(path)
    assert frame["furnisher_account_id"].to_list() == ["ACC-1"]
    gb = tmp_path / "gb.csv"
    gb.write_bytes(write_file(tmp_path / "u.csv", [record()]).read_text("utf-8").encode("gb18030"))
    with pytest.raises(FileRejected) as err:
        ChunkReader(gb, FileFormat.CSV).open()
    assert err.value.code == "FILE_NOT_UTF8" and "UTF-8" in err.value.message


def test_a_json_lines_file_in_gb18030_is_refused_whole(tmp_path) -> None:
    # No line of it reads as JSON: without the file's refusal every record would be malformed on its own.
    gb = tmp_path / "gb.jsonl"
    gb.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [record(), record()]).encode("gb18030"))
    assert not gb.read_bytes().isascii()
    with pytest.raises(FileRejected) as err:
        ChunkReader(gb, FileFormat.JSONL).open()
    assert err.value.code == "FILE_NOT_UTF8" and "must be UTF-8" in err.value.message


def test_jsonl_bad_lines_are_reported_and_the_rest_kept(tmp_path) -> None:
    path = write_file(tmp_path / "f.jsonl", [record(furnisher_account_id=f"A{i}") for i in range(3)])
    text = path.read_text().splitlines()
    text.insert(1, "{not json")
    text.insert(2, "[1, 2]")
    text.insert(3, "")
    path.write_text("\n".join(text) + "\n")
    frame, reader = _read(path)
    assert frame["furnisher_account_id"].to_list() == ["A0", "A1", "A2"]
    assert frame["_line"].to_list() == [1, 5, 6]
    assert [(m.line, m.message.split(":")[0]) for m in reader.malformed] == [
        (2, "not valid JSON"), (3, "the line is not a JSON object")]


def test_jsonl_numbers_are_read_as_text(tmp_path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"furnisher_account_id": "A", "balance": 100, "credit_limit": 12.5}\n')
    frame, _ = _read(path)
    assert frame.select("balance", "credit_limit").row(0) == ("100", "12.5")


def test_parquet_typed_columns_become_text(tmp_path) -> None:
    path = tmp_path / "f.parquet"
    pl.DataFrame({"furnisher_account_id": ["A"], "balance": [100], "opened_on": [date(2024, 1, 2)]}).write_parquet(path)
    frame, _ = _read(path)
    assert frame.select("balance", "opened_on").row(0) == ("100", "2024-01-02")


def test_unknown_suffix_is_refused() -> None:
    with pytest.raises(FileRejected) as err:
        detect_format("data.xlsx")
    assert err.value.code == "FILE_FORMAT_UNKNOWN"
