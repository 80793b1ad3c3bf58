"""Metro 2 files at intake, on both engines: loaded through the codec and the one mapping, every error a
finding on its record, nothing valid lost, the furnisher's own accounts only."""

from __future__ import annotations

import tracemalloc
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.accounts.models import AccountState
from openbureau.api.app import create_app
from openbureau.cli.main import app as cli
from openbureau.identity.models import Person
from openbureau.intake import service
from openbureau.intake.errors import FileRejected
from openbureau.intake.models import Finding
from openbureau.intake.readers import ChunkReader, FileFormat
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.metro2 import base
from tests.members.factories import make_member
from tests.metro2.factories import CONSUMERS, consumer_file, consumer_values
from tests.security.factories import cli_env

TODAY = date(2026, 11, 22)
LINE = 427  # a 426-character record and its line end
SSN_START = 297  # 0-based position of the social security number in the base segment


def _submit(bureau, path, furnisher="BANK_US", **kwargs):
    return service.submit(bureau.engine, settings=bureau.settings, policy=bureau.policy, furnisher_code=furnisher,
                          path=path, today=TODAY, **kwargs).submission


def _findings(bureau, submission_id) -> list[Finding]:
    with session_scope(bureau.engine) as session:
        return list(session.scalars(select(Finding).where(Finding.submission_id == submission_id)
                                    .order_by(Finding.line, Finding.id)))


def _states(bureau, furnisher_code) -> dict[str, tuple]:
    """The furnisher's stored accounts: (version, balance, days past due, payment status, account status)."""
    with session_scope(bureau.engine) as session:
        member_id = get_member(session, code=furnisher_code).id
        rows = session.scalars(select(AccountState).where(AccountState.furnisher_id == member_id)).all()
        return {s.furnisher_account_id: (s.version, s.balance, s.days_past_due, s.payment_status, s.account_status)
                for s in rows}


def test_a_metro2_file_loads_its_accounts_in_the_standard(us_bureau, tmp_path) -> None:
    path = tmp_path / "september.m2"
    path.write_bytes(consumer_file(4))
    s = _submit(us_bureau, path)
    assert (s.format, s.status, s.records_received, s.records_rejected, s.records_quarantined) == (
        "metro2", "loaded", 4, 0, 0)
    with session_scope(us_bureau.engine) as session:
        states = session.scalars(select(AccountState).order_by(AccountState.line)).all()
        persons = session.scalars(select(Person)).all()
    assert [(st.line, st.furnisher_account_id, st.product_type, st.currency, st.balance, st.credit_limit)
            for st in states] == [(n + 2, f"M2-{n:04d}", "credit_card", "USD", 120000, 500000) for n in range(4)]
    assert {p.id_type for p in persons} == {"OTHER"} and len(persons) == 4
    assert _findings(us_bureau, s.id) == []  # US numbers are checked against the North American plan


def test_a_late_account_in_a_metro2_file_is_published_under_the_us_notice_rule(us_bureau, tmp_path) -> None:
    """FCRA §623(a)(7): the furnisher tells the person within 30 days after furnishing, so a record without a
    notice date is neither a finding nor held back; a phone of the North American plan is no finding either."""
    late = base(consumer_values(0, "CAR-1", portfolio_type="I", account_type="00", credit_limit=0,
                                highest_credit=20000, terms_duration="060", account_status="71", amount_past_due=400,
                                current_balance=15000, date_of_first_delinquency=date(2026, 8, 1)))
    path = tmp_path / "late.m2"
    path.write_bytes(consumer_file(1, records=[late]))
    s = _submit(us_bureau, path)
    assert (s.status, s.records_received, s.records_rejected) == ("loaded", 2, 0)
    assert _findings(us_bureau, s.id) == []
    with session_scope(us_bureau.engine) as session:
        state = session.scalars(select(AccountState).where(AccountState.furnisher_account_id == "CAR-1")).one()
    assert (state.days_past_due > 0, state.negative_notice_date, state.negative_held) == (True, None, 0)


def test_good_records_load_and_every_error_of_a_bad_one_is_a_finding_located_to_the_byte(us_bureau, tmp_path) -> None:
    records = [
        base(consumer_values(0, "GOOD-1")),
        base(consumer_values(1, "BAD-SSN", social_security_number="60291473X")),  # record 3
        base(consumer_values(2, "BAD-MEANING", amount_past_due=100)),  # record 4: past due while current
        base(consumer_values(3, "WARNED", date_of_first_delinquency=date(2025, 1, 5))),  # record 5: warning
        base(consumer_values(0, "GOOD-2")),
    ]
    path = tmp_path / "mixed.metro2"
    path.write_bytes(consumer_file(0, records=records))
    s = _submit(us_bureau, path)
    assert (s.records_received, s.records_rejected, s.records_accepted + s.records_warnings) == (5, 2, 3)
    assert sorted(_states(us_bureau, "BANK_US")) == ["GOOD-1", "GOOD-2", "WARNED"]
    findings = _findings(us_bureau, s.id)
    [bad_ssn] = [f for f in findings if f.line == 3]
    assert (bad_ssn.code, bad_ssn.severity, bad_ssn.field, bad_ssn.furnisher_account_id) == (
        "INVALID_NUMERIC", "error", "base.social_security_number", "BAD-SSN")
    assert f"record 3, base.social_security_number at byte {2 * LINE + SSN_START:,}" in bad_ssn.message
    assert "60291473" not in (bad_ssn.value or "") and "*" in bad_ssn.value  # masked, never in clear
    assert [(f.code, f.field) for f in findings if f.line == 4] == [("PAST_DUE_WHILE_CURRENT", "base.amount_past_due")]
    warned = {(f.code, f.severity) for f in findings if f.line == 5}
    assert ("DOFD_WHILE_CURRENT", "warning") in warned
    assert s.finding_counts["INVALID_NUMERIC"] == 1 and s.finding_counts["PAST_DUE_WHILE_CURRENT"] == 1


def test_a_truncated_file_loads_its_whole_records_and_says_what_is_missing(us_bureau, tmp_path) -> None:
    data = consumer_file(3)
    cut = 3 * LINE + 200  # header, two accounts, 200 characters of the third; no trailer
    path = tmp_path / "cut.m2"
    path.write_bytes(data[:cut])
    s = _submit(us_bureau, path)
    assert (s.status, s.records_received, s.records_accepted + s.records_warnings, s.records_rejected) == (
        "loaded", 3, 2, 1)
    codes = {(f.line, f.code) for f in _findings(us_bureau, s.id)}
    assert {(4, "RECORD_TOO_SHORT"), (4, "TRAILER_MISSING")} <= codes


def test_a_wrong_trailer_total_is_a_finding_of_the_file_that_rejects_no_record(us_bureau, tmp_path) -> None:
    data = bytearray(consumer_file(3))
    trailer = 4 * LINE  # header and three accounts before it
    data[trailer + 11:trailer + 20] = b"000000007"  # total base records, positions 12-20
    path = tmp_path / "totals.m2"
    path.write_bytes(bytes(data))
    s = _submit(us_bureau, path)
    assert (s.records_received, s.records_rejected) == (3, 0)
    [mismatch] = [f for f in _findings(us_bureau, s.id) if f.code == "TRAILER_TOTAL_MISMATCH"]
    assert (mismatch.line, mismatch.field, mismatch.value) == (5, "trailer.total_base_records", "000000007")
    assert f"at byte {trailer + 11:,}" in mismatch.message


def test_a_file_that_is_not_metro2_is_refused_and_nothing_is_kept(us_bureau, tmp_path) -> None:
    path = tmp_path / "not.m2"
    path.write_text("furnisher_account_id,reporting_period\nA,2026-09\n")
    with pytest.raises(FileRejected) as refused:
        _submit(us_bureau, path)
    assert refused.value.code == "FILE_UNREADABLE"
    folder = us_bureau.settings.submissions_dir
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]


def test_under_the_cn_profile_metro2_records_load_held_until_consent(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_US", Role.FURNISHER)
    path = tmp_path / "sep.m2"
    path.write_bytes(consumer_file(4))
    s = _submit(runtime, path)
    assert (s.status, s.records_rejected, s.records_quarantined) == ("loaded", 0, 4)


def test_the_command_line_takes_metro2_by_suffix_or_by_name(us_bureau, tmp_path, monkeypatch) -> None:
    by_suffix, named = tmp_path / "sep.txt", tmp_path / "sep.dat"
    by_suffix.write_bytes(consumer_file(2))
    named.write_bytes(consumer_file(3))
    runner = CliRunner()
    with cli_env(us_bureau, monkeypatch):
        first = runner.invoke(cli, ["intake", "submit", str(by_suffix), "--furnisher", "BANK_US", "--json"])
        unknown = runner.invoke(cli, ["intake", "submit", str(named), "--furnisher", "BANK_US"])
        second = runner.invoke(cli, ["intake", "submit", str(named), "--furnisher", "BANK_US", "--format",
                                     "metro2", "--json"])
    assert first.exit_code == 0, first.output
    assert '"format": "metro2"' in first.output and '"records_received": 2' in first.output
    assert unknown.exit_code == 1 and "FILE_FORMAT_UNKNOWN" in unknown.output
    assert second.exit_code == 0, second.output
    assert '"records_received": 3' in second.output
    assert not [s for s in (c[0] for c in CONSUMERS) if s in first.output + second.output]


def test_the_api_takes_a_metro2_upload(us_bureau, tmp_path) -> None:
    key = make_member(us_bureau, "BANK_API", Role.FURNISHER)
    with TestClient(create_app(us_bureau)) as client:
        loaded = client.post("/v1/submissions", headers={"X-API-Key": key},
                             files={"file": ("sep.metro2", consumer_file(3), "application/octet-stream")})
        named = client.post("/v1/submissions?format=metro2", headers={"X-API-Key": key},
                            files={"file": ("oct.bin", consumer_file(2, account_status="13", payment_rating="0",
                                                                     current_balance=0,
                                                                     date_of_account_information=date(2026, 10, 31),
                                                                     date_closed=date(2026, 10, 20)),
                                            "application/octet-stream")})
    assert loaded.status_code == 201, loaded.text
    assert (loaded.json()["format"], loaded.json()["records_received"]) == ("metro2", 3)
    assert named.status_code == 201, named.text
    assert named.json()["records_received"] == 2 and named.json()["records_rejected"] == 0


def test_a_file_from_one_furnisher_naming_anothers_accounts_never_touches_them(us_bureau, tmp_path) -> None:
    make_member(us_bureau, "BANK_B", Role.FURNISHER)
    own = tmp_path / "b.m2"
    own.write_bytes(consumer_file(3, identification_number="BANK_B"))
    _submit(us_bureau, own, "BANK_B")
    before = _states(us_bureau, "BANK_B")
    # BANK_US sends B's account numbers, B's identification number, as corrections with other balances
    attack = tmp_path / "attack.m2"
    attack.write_bytes(consumer_file(3, identification_number="BANK_B", correction_indicator=1,
                                     current_balance=9))
    s = _submit(us_bureau, attack, "BANK_US")
    assert _states(us_bureau, "BANK_B") == before
    assert sorted(_states(us_bureau, "BANK_US")) == sorted(before)  # filed as BANK_US's own accounts
    assert {v[1] for v in _states(us_bureau, "BANK_US").values()} == {900}
    assert s.records_rejected == 0


def _long_line_file(path, megabytes: int) -> bytes:
    """A header, a line of ``megabytes`` MiB with a record descriptor word of 9999 and no end for far too long,
    one good account and a trailer."""
    good = consumer_file(1).split(b"\n")
    with path.open("wb") as out:
        out.write(good[0] + b"\n9999")
        for _ in range(megabytes):
            out.write(b"A" * 2**20)
        out.write(b"\n" + b"\n".join(good[1:]))
    return path


def test_a_huge_record_is_read_in_bounded_memory_and_the_rest_of_the_file_loads(us_bureau, tmp_path) -> None:
    path = _long_line_file(tmp_path / "long.m2", 12)
    reader = ChunkReader(path, FileFormat.METRO2, chunk_size=1_000)
    tracemalloc.start()
    try:
        loaded, codes = 0, set()
        for chunk in reader.chunks():
            loaded += chunk.height
            codes |= {m.code for m in reader.take_malformed()}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded == 1 and "RECORD_TOO_LONG" in codes
    assert peak < 6 * 2**20, f"{peak:,} bytes held reading a 12 MiB line"  # a few blocks, never the line
    s = _submit(us_bureau, path)
    assert s.status == "loaded" and s.records_accepted + s.records_warnings == 1
    assert s.finding_counts["RECORD_TOO_LONG"] == s.records_rejected - 1  # the line's last piece: RDW_INVALID


def test_a_metro2_file_past_the_size_limit_is_refused(us_bureau, tmp_path) -> None:
    path = tmp_path / "big.m2"
    path.write_bytes(consumer_file(8))
    small = us_bureau.settings.model_copy(update={"max_file_bytes": 4 * LINE})
    with pytest.raises(FileRejected) as refused:
        service.submit(us_bureau.engine, settings=small, policy=us_bureau.policy, furnisher_code="BANK_US", path=path)
    assert (refused.value.code, refused.value.status_code) == ("FILE_TOO_LARGE", 413)
