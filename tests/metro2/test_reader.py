"""Reading: round trip byte for byte, every error located, never a crash (fuzzed)."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbureau.metro2 import read, read_bytes, read_frames, write
from openbureau.metro2.layout import BASE, TRAILER
from tests.metro2.factories import valid_file

VALID = valid_file()
STREAM = valid_file(newline=b"")
CRLF = valid_file(newline=b"\r\n")


def _rewrite(data: bytes) -> bytes:
    out = io.BytesIO()
    write(read(io.BytesIO(data)), out)
    return out.getvalue()


def _codes(data: bytes) -> list[tuple[int, str, str | None, int]]:
    return [(e.record_number, e.code, e.field, e.offset) for r in read_bytes(data) for e in r.errors]


def test_valid_files_read_without_errors_and_write_back_byte_for_byte() -> None:
    for data in (VALID, STREAM, CRLF):
        records = read_bytes(data)
        assert [r.kind for r in records] == ["header", "base", "base", "base", "base", "base", "trailer"]
        assert not [e for r in records for e in r.errors]
        assert _rewrite(data) == data
    segments = [s.name for r in read_bytes(VALID) for s in r.segments[1:]]
    assert sorted(set(segments)) == ["J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1"]


def test_fixed_length_file_of_base_segments_only() -> None:
    from tests.metro2.factories import base, base_values

    data = valid_file([base(base_values(f"A{i}")) for i in range(3)])
    assert {r.size for r in read_bytes(data)} == {426}
    assert not _codes(data) and _rewrite(data) == data


def test_every_error_of_every_record_is_reported_with_its_offset() -> None:
    data = bytearray(VALID)
    second = VALID.index(b"\n") + 1  # the first base record
    status = second + BASE.field("account_status").start
    data[status:status + 2] = b"XX"
    dob = second + BASE.field("date_of_birth").start
    data[dob:dob + 8] = b"13452020"
    fourth = second + VALID[second:].index(b"\n") + 1
    fourth += VALID[fourth:].index(b"\n") + 1
    balance = fourth + BASE.field("current_balance").start
    data[balance:balance + 9] = b"00000012A"
    found = _codes(bytes(data))
    assert (2, "INVALID_CODE", "account_status", status) in found
    assert (2, "INVALID_DATE", "date_of_birth", dob) in found
    assert (4, "INVALID_NUMERIC", "current_balance", balance) in found


def test_structure_errors() -> None:
    lines = VALID.split(b"\n")
    no_header = b"\n".join(lines[1:])
    assert ("HEADER_MISSING" in {c for _, c, _, _ in _codes(no_header)})
    no_trailer = b"\n".join(lines[:-2]) + b"\n"
    codes = _codes(no_trailer)
    assert codes[-1][1] == "TRAILER_MISSING" and codes[-1][3] == len(no_trailer) - 1
    wrong_total = bytearray(VALID)
    start = VALID.rindex(b"0426TRAILER") + TRAILER.field("total_base_records").start
    wrong_total[start:start + 9] = b"000000009"
    assert (7, "TRAILER_TOTAL_MISMATCH", "total_base_records", start) in _codes(bytes(wrong_total))
    unknown = VALID.replace(b"N1ACME", b"Q9ACME")
    assert "SEGMENT_UNKNOWN" in {c for _, c, _, _ in _codes(unknown)}
    assert _rewrite(unknown) == unknown  # what could not be read is kept and written back


def test_frames_in_chunks() -> None:
    frames = list(read_frames(io.BytesIO(VALID), chunk_size=2))
    assert [len(f) for f, _ in frames] == [2, 2, 1]
    assert frames[0][0].get_column("consumer_account_number").str.strip_chars().to_list() == ["ACC0001", "ACC0002"]


def _check_accounted(data: bytes) -> None:
    records = read_bytes(data)
    position = 0
    for record in records:  # the records tile the file: every byte belongs to exactly one record
        assert record.offset == position
        position += record.size + len(record.terminator)
        for error in record.errors:
            assert 0 <= error.offset < len(data)
            assert record.offset <= error.offset < position
    assert position == len(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes_never_crash_and_every_byte_is_accounted_for(data: bytes) -> None:
    _check_accounted(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([VALID, STREAM, CRLF]),
       st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255), st.sampled_from(["set", "delete", "insert"])),
                min_size=1, max_size=8))
def test_fuzz_mutated_valid_files(base: bytes, mutations: list[tuple[int, int, str]]) -> None:
    data = bytearray(base)
    for at, byte, how in mutations:
        at %= len(data) + 1
        if how == "set" and at < len(data):
            data[at] = byte
        elif how == "delete" and at < len(data):
            del data[at]
        else:
            data[at:at] = bytes([byte])
    _check_accounted(bytes(data))
    if bytes(data) != base and not [e for r in read_bytes(bytes(data)) for e in r.errors]:
        assert _rewrite(bytes(data)) == bytes(data)


def test_framing_errors_in_both_framings() -> None:
    truncated = _codes(STREAM[:-100])
    assert truncated[0] == (7, "RECORD_TRUNCATED", "record_descriptor_word", len(STREAM) - 426)
    assert {c for _, c, _, _ in truncated} == {"RECORD_TRUNCATED"}  # the fields cut off are not reported again
    garbage = STREAM[:426] + b"ZZZZ" + STREAM[430:]
    assert _codes(garbage)[0] == (2, "RDW_INVALID", None, 426)
    assert [r.kind for r in read_bytes(garbage)][1] == "unreadable"
    long_line = VALID.replace(b"\n", b"\n" + b"9" * 12000 + b"\n", 1)
    kinds = [(r.kind, [e.code for e in r.errors]) for r in read_bytes(long_line)]
    assert kinds[1] == ("unreadable", ["RECORD_TOO_LONG"])
    wrong_rdw = VALID.replace(b"\n0672", b"\n0999", 1)
    codes = [c for _, c, f, _ in _codes(wrong_rdw) if f == "record_descriptor_word"]
    assert codes == ["RDW_LENGTH_MISMATCH"]  # reported once, and the next record is still read
    assert [r.kind for r in read_bytes(wrong_rdw)] == [r.kind for r in read_bytes(VALID)]


def test_written_trailer_counts_what_the_file_holds() -> None:
    trailer = read_bytes(VALID)[-1].main
    expected = {"total_base_records": 5, "total_j1_segments": 3, "total_j2_segments": 1,
                "total_employment_segments": 1, "total_original_creditor_segments": 1,
                "total_purchased_to_segments": 1, "total_mortgage_information_segments": 1,
                "total_specialized_payment_segments": 1, "total_change_segments": 1, "total_status_code_11": 2,
                "total_status_code_71": 1, "total_status_code_13": 1, "total_status_code_97": 1,
                "total_ecoa_code_z": 1, "total_ssn_all_segments": 9, "total_ssn_base_segments": 5,
                "total_ssn_j1_segments": 3, "total_ssn_j2_segments": 1, "total_birth_dates_all_segments": 9,
                "total_telephone_numbers_all_segments": 5, "total_status_code_df": 0}
    assert {k: int(trailer[k]) for k in expected} == expected
