"""Intake's Metro 2 reader without a database: every record either loads or is counted rejected, fuzzed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.intake.metro2_in import FILE_LEVEL_CODES
from openbureau.intake.readers import ChunkReader, FileFormat, detect_format
from openbureau.metro2 import base, read_bytes
from tests.metro2.factories import consumer_file, consumer_values


def _read(path: Path, chunk_size: int = 3) -> tuple[list[int], list]:
    reader = ChunkReader(path, FileFormat.METRO2, chunk_size=chunk_size)
    reader.open()
    lines, findings = [], []
    for chunk in reader.chunks():
        assert chunk.columns == ["_line", *standard.COLUMNS, "_history_profile"]  # the profile, handed on
        lines += chunk["_line"].to_list()
        findings += reader.take_malformed()
    return lines, findings


def test_suffixes_and_named_formats() -> None:
    assert {detect_format(n) for n in ("a.m2", "a.METRO2", "a.txt")} == {FileFormat.METRO2}
    assert detect_format("a.dat", "metro2") is FileFormat.METRO2 and detect_format("a.m2", "csv") is FileFormat.CSV
    with pytest.raises(FileRejected) as unknown:
        detect_format("a.m2", "xlsx")
    assert (unknown.value.code, unknown.value.field) == ("FILE_FORMAT_UNKNOWN", "format")


def test_records_come_in_chunks_in_the_standards_columns(tmp_path) -> None:
    path = tmp_path / "f.m2"
    path.write_bytes(consumer_file(7))
    lines, findings = _read(path)
    assert lines == list(range(2, 9)) and findings == []
    reader = ChunkReader(path, FileFormat.METRO2, chunk_size=3)
    assert [c.height for c in reader.chunks()] == [3, 3, 1]
    row = next(iter(reader.chunks())).row(0, named=True)
    assert (row["id_type"], row["id_number"], row["reporting_period"], row["consent_ref"]) == (
        "OTHER", "518273946", "2026-09", None)


def test_a_record_with_many_errors_is_rejected_once(tmp_path) -> None:
    bad = base(consumer_values(1, "BAD", social_security_number="ABCDEFGHI", date_opened="13452020",
                               amount_past_due=5))
    path = tmp_path / "f.m2"
    path.write_bytes(consumer_file(1, records=[bad]))
    lines, findings = _read(path)
    assert lines == [2]
    on_bad = [f for f in findings if f.line == 3]
    assert len(on_bad) >= 3 and sum(f.rejects for f in on_bad) == 1
    assert {f.furnisher_account_id for f in on_bad} == {"BAD"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=0, max_size=3)), max_size=6),
       cut=st.integers(0, 600))
def test_every_record_loads_or_is_counted_rejected_whatever_the_bytes(tmp_path, edits, cut) -> None:
    data = bytearray(consumer_file(4))
    for at, replacement in edits:
        at %= len(data)
        data[at:at + len(replacement)] = replacement
    data = bytes(data[:len(data) - cut])
    path = tmp_path / "fuzz.m2"
    path.write_bytes(data)
    try:
        lines, findings = _read(path)
    except FileRejected as refused:  # only a file that does not start as Metro 2
        assert refused.code == "FILE_UNREADABLE" and not (data[:4].isascii() and data[:4].isdigit())
        return
    records = read_bytes(data)
    candidates = {r.number for r in records if r.kind in ("base", "unreadable")}
    rejected = {f.line for f in findings if f.rejects}
    assert sum(f.rejects for f in findings) == len(rejected)  # one per rejected record
    assert set(lines) | rejected == candidates and not set(lines) & rejected
    for record in records:
        if record.number in lines:  # loaded: no error of its own
            assert all(e.severity == "warning" or e.code in FILE_LEVEL_CODES for e in record.errors)
