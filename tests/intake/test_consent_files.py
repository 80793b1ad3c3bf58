"""A consent file is read a chunk at a time, in two passes: what the whole file's rules need (a reference
repeated far apart, a purpose its sender may not hold on the last line) is still found, and nothing is
stored before the whole file is known."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from openbureau.consent import service as consents
from openbureau.documents import resident_id
from openbureau.intake import consent_files, quarantine
from openbureau.intake.consent_files import ConsentFile
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden
from openbureau.members.models import Role
from openbureau.members.service import get_member
from tests.consent.factories import stored_imports
from tests.members.factories import make_member

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HEADER = "consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash"
LINES = 2 * consents.IMPORT_CHUNK + 500
CHUNK = 700  # lines a read holds: the file is read in seven chunks, not whole


def _line(n: int, *, ref: str | None = None, purpose: str = "furnish") -> str:
    number = resident_id("110101", f"{1950 + n // 1000}0101", f"{n % 1000:03d}")
    return f"{ref or f'K-{n}'},CN_RESIDENT_ID,{number},{purpose},2024-01-01T00:00:00Z,app,{'ab' * 32}"


def _write(tmp_path, lines: list[str]):
    path = tmp_path / "consents.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


@pytest.fixture
def furnisher(runtime):
    make_member(runtime, "BANK_A", Role.FURNISHER)
    with session_scope(runtime.engine) as session:
        return get_member(session, code="BANK_A")


def test_a_file_is_read_a_chunk_at_a_time_and_a_reference_repeated_chunks_apart_is_found(runtime, furnisher,
                                                                                        tmp_path) -> None:
    lines = [_line(n) for n in range(LINES)]
    lines[LINES - 10] = _line(LINES - 10, ref="K-3")  # repeats line 5's reference, six chunks later
    lines[20] = _line(20).replace("furnish", "furnishing")  # a bad line in the first chunk
    path = _write(tmp_path, lines)
    file = ConsentFile(path, chunk_size=CHUNK)
    read = list(file.rows(lambda _: None))
    assert max(chunk.height for chunk in read) == CHUNK and sum(chunk.height for chunk in read) == LINES

    checked = consent_files.check(file, actor=furnisher, now=NOW)
    assert [(f.line, f.code) for f in checked.outcome.findings] == [(22, "INVALID_ENUM"), (LINES - 8, "DUPLICATE_IN_FILE")]
    assert (checked.summary.received, checked.summary.rejected, checked.summary.lines) == (LINES, 2, LINES - 2)
    pieces = list(consent_files.sealed_chunks(file, checked, vault=runtime.vault, actor=furnisher, now=NOW))
    assert [p.height for p in pieces] == [consents.IMPORT_CHUNK, consents.IMPORT_CHUNK, 498]
    refs = pl.concat(pieces)["consent_ref"].to_list()
    assert refs == [f"K-{n}" for n in range(LINES) if n not in (20, LINES - 10)]  # in file order, each once
    assert "id_number" not in pieces[0].columns and pieces[0]["subject_id_enc"].null_count() == 0

    told = []  # what a progress bar learns: the lines to store once the file is checked, then each part stored
    outcome, _ = quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                            actor=furnisher, path=path, checked=lambda n: told.append(("to store", n)),
                                            progress=lambda n: told.append(("stored", n)))
    count, parts = stored_imports(runtime)
    assert told == [("to store", LINES - 2), ("stored", consents.IMPORT_CHUNK), ("stored", consents.IMPORT_CHUNK),
                    ("stored", 498)]
    assert (outcome.received, outcome.created, outcome.rejected) == (LINES, LINES - 2, 2)
    assert count == LINES - 2
    assert [(p["part"], p["parts"], p["lines"]) for p in parts] == [
        (1, 3, consents.IMPORT_CHUNK), (2, 3, consents.IMPORT_CHUNK), (3, 3, 498)]


def test_a_purpose_the_sender_may_not_hold_on_the_last_line_stores_nothing(runtime, furnisher, tmp_path) -> None:
    # The first pass reads to the end before anything is stored: the file is refused whole, not in part.
    lines = [_line(n) for n in range(LINES)]
    lines[-1] = _line(LINES - 1, purpose="loan_origination")  # a furnisher holds no consent to query
    path = _write(tmp_path, lines)
    with pytest.raises(Forbidden):
        quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                   actor=furnisher, path=path)
    assert stored_imports(runtime) == (0, [])


def test_a_file_whose_lines_are_all_bad_is_audited_and_stores_nothing(runtime, furnisher, tmp_path) -> None:
    path = _write(tmp_path, [_line(n).replace("CN_RESIDENT_ID", "PASSPORT_X") for n in range(3)])
    outcome, released = quarantine.import_consents(runtime.engine, vault=runtime.vault,
                                                   profile=runtime.policy.profile, actor=furnisher, path=path)
    assert (outcome.received, outcome.created, outcome.rejected, released) == (3, 0, 3, 0)
    count, parts = stored_imports(runtime)
    assert count == 0 and [(p["parts"], p["rejected"]) for p in parts] == [(0, 3)]


def test_a_file_of_bad_lines_reports_the_first_thousand_and_counts_every_one(runtime, furnisher, tmp_path) -> None:
    # A 2 GiB upload of bad lines would otherwise build a finding object per line and answer them all.
    bad = 2 * consents.FINDINGS_SHOWN  # lines with an unknown channel, each a finding
    repeats = consents.FINDINGS_SHOWN + 200  # lines repeating the first line's reference
    lines = [_line(0)] + [_line(n).replace(",app,", ",fax,") for n in range(1, bad + 1)] + [
        _line(n, ref="K-0") for n in range(bad + 1, bad + 1 + repeats)] + ["not,a,consent"]
    path = _write(tmp_path, lines)
    outcome, _ = quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                            actor=furnisher, path=path)
    assert (outcome.received, outcome.created, outcome.rejected) == (len(lines), 1, len(lines) - 1)
    assert dict(outcome.finding_counts) == {"INVALID_ENUM": bad, "DUPLICATE_IN_FILE": repeats, "MALFORMED_RECORD": 1}
    assert len(outcome.findings) == consents.FINDINGS_SHOWN
    assert [f.line for f in outcome.findings] == list(range(3, 3 + consents.FINDINGS_SHOWN))  # the first, in order


def test_every_repeated_reference_is_found_within_and_across_chunks(runtime, furnisher, tmp_path) -> None:
    # Each line whose reference an earlier line holds, good or bad, is one DUPLICATE_IN_FILE; the first stays.
    lines = [_line(n) for n in range(3 * 1000)]
    lines[9] = lines[9].replace(",app,", ",fax,")  # a bad first holder of K-9
    repeats = {10: "K-5", 700: "K-699", 1500: "K-100", 2900: "K-100", 2500: "K-9"}  # same chunk, next chunk, x3
    for n, ref in repeats.items():
        lines[n] = _line(n, ref=ref)
    lines[2000] = _line(2000, ref="K-7").replace(",app,", ",fax,")  # repeats and is bad: two findings
    checked = consent_files.check(ConsentFile(_write(tmp_path, lines), chunk_size=CHUNK), actor=furnisher, now=NOW)
    duplicates = [n + 2 for n in sorted([*repeats, 2000])]  # a file's line 1 is its header
    assert [(f.line, f.field, f.code) for f in checked.outcome.findings] == sorted(
        [(11, "channel", "INVALID_ENUM"), (2002, "channel", "INVALID_ENUM"),
         *[(line, "consent_ref", "DUPLICATE_IN_FILE") for line in duplicates]])
    assert {f.message for f in checked.outcome.findings if f.code == "DUPLICATE_IN_FILE"} == {
        "the same consent_ref appears earlier in the file"}
    assert checked.outcome.finding_counts["DUPLICATE_IN_FILE"] == len(duplicates) == 6
    assert checked.repeated.to_list() == duplicates
    assert (checked.summary.received, checked.summary.rejected, checked.summary.lines) == (3000, 7, 2993)


def test_a_file_without_repeated_references_has_no_duplicate(runtime, furnisher, tmp_path) -> None:
    path = _write(tmp_path, [_line(n) for n in range(LINES)])
    checked = consent_files.check(ConsentFile(path, chunk_size=CHUNK), actor=furnisher, now=NOW)
    assert checked.outcome.findings == [] and checked.repeated.len() == 0
    assert (checked.summary.received, checked.summary.rejected, checked.summary.lines) == (LINES, 0, LINES)
