"""Intake end to end on both engines: validate everything, store what is valid, lose nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from openbureau.accounts.models import AccountState
from openbureau.accounts.repository import AccountRepository
from openbureau.identity.models import Person
from openbureau.identity.service import open_identity
from openbureau.intake import service
from openbureau.intake.errors import FileRejected
from openbureau.intake.models import Finding, Submission
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.consent.factories import grant_many
from tests.intake.factories import PEOPLE, person, record, write_file
from tests.members.factories import make_member

TODAY = date(2026, 11, 22)


def _submit(runtime, path, furnisher="BANK_A"):
    return service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy,
                          furnisher_code=furnisher, path=path, today=TODAY)


def _count(runtime, model) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def furnisher(runtime):
    """BANK_A, holding consents to furnish the data of every known person."""
    make_member(runtime, "BANK_A", Role.FURNISHER)
    grant_many(runtime, "BANK_A", [p[0] for p in PEOPLE])
    return runtime


def test_valid_invalid_and_warning_records_are_counted_and_only_valid_ones_stored(furnisher, tmp_path) -> None:
    rows = [
        person(0, furnisher_account_id="A1"),
        person(1, furnisher_account_id="A2", id_number="110101199003070012"),  # bad check digit
        person(2, furnisher_account_id="A3", balance="5600000"),  # over the limit: warning
        person(3, furnisher_account_id="A4"),
    ]
    result = _submit(furnisher, write_file(tmp_path / "sep.csv", rows))
    s = result.submission
    assert (s.status, s.records_received, s.records_accepted, s.records_warnings, s.records_rejected) == (
        "loaded", 4, 2, 1, 1)
    with session_scope(furnisher.engine) as session:
        stored = sorted(session.scalars(select(AccountState.furnisher_account_id)))
        findings = session.scalars(select(Finding).order_by(Finding.line)).all()
    assert stored == ["A1", "A3", "A4"]
    codes = {(f.line, f.code, f.severity) for f in findings}
    assert (3, "ID_CHECK_DIGIT", "error") in codes
    assert (4, "BALANCE_OVER_LIMIT", "warning") in codes
    assert _count(furnisher, Person) == 3


def test_a_file_of_rejected_records_only_loads_and_stores_nothing(furnisher, tmp_path) -> None:
    rows = [person(1, furnisher_account_id=f"A{n}", id_number="110101199003070012") for n in range(3)]  # invalid
    s = _submit(furnisher, write_file(tmp_path / "bad.csv", rows)).submission
    assert (s.status, s.records_received, s.records_accepted, s.records_rejected) == ("loaded", 3, 0, 3)
    header = write_file(tmp_path / "h.csv", rows).read_text(encoding="utf-8").splitlines()[0]
    broken = tmp_path / "broken.csv"  # rows that are not even records: too few fields, an unclosed quote
    broken.write_text(f"{header}\nA1,2026-10\n\"A2,2026-10,\n", encoding="utf-8")
    s = _submit(furnisher, broken).submission
    assert s.status == "loaded" and s.records_accepted == 0 and s.records_rejected >= 1
    assert _count(furnisher, AccountState) == 0 and _count(furnisher, Person) == 0


def test_same_bytes_twice_return_the_earlier_result_and_store_nothing(furnisher, tmp_path) -> None:
    path = write_file(tmp_path / "sep.csv", [person(i, furnisher_account_id=f"A{i}") for i in range(4)])
    first = _submit(furnisher, path)
    again = _submit(furnisher, path)
    assert again.repeated and again.submission.id == first.submission.id
    assert again.submission.records_accepted == 4
    assert (_count(furnisher, Submission), _count(furnisher, AccountState), _count(furnisher, Person)) == (1, 4, 4)


def test_next_month_and_another_furnisher_link_to_the_same_person_with_their_own_description(
        furnisher, tmp_path) -> None:
    _submit(furnisher, write_file(tmp_path / "sep.csv", [person(0)]))
    _submit(furnisher, write_file(tmp_path / "oct.csv", [person(0, reporting_period="2026-10",
                                                                 phone="+86 139-0013-9000")]))
    make_member(furnisher, "SUPERAPP", Role.FURNISHER)
    _submit(furnisher, write_file(tmp_path / "other.csv", [person(0, furnisher_account_id="X9")]), "SUPERAPP")
    assert _count(furnisher, Person) == 1
    with session_scope(furnisher.engine) as session:
        tokens = session.scalars(select(AccountState.identity_enc)).all()
        person_ids = set(session.scalars(select(AccountState.person_id)))
    assert len(person_ids) == 1
    identities = [open_identity(furnisher.vault, t) for t in tokens]
    assert sorted(i["phone"] for i in identities) == ["+86 139-0013-9000", "13800138000", "13800138000"]
    assert {i["full_name"] for i in identities} == {PEOPLE[0][2]}


def test_correction_stores_a_new_version_and_keeps_the_old(furnisher, tmp_path) -> None:
    _submit(furnisher, write_file(tmp_path / "a.csv", [person(0, balance="100")]))
    fixed = _submit(furnisher, write_file(tmp_path / "b.csv", [person(0, balance="200", correction="1")]))
    assert fixed.submission.records_accepted == 1
    resent = _submit(furnisher, write_file(tmp_path / "c.csv", [person(0, balance="300")]))
    assert resent.submission.records_rejected == 1
    with session_scope(furnisher.engine) as session:
        versions = session.execute(select(AccountState.version, AccountState.balance)
                                   .order_by(AccountState.version)).all()
        codes = set(session.scalars(select(Finding.code)))
        current = AccountRepository(session).current_states(person_id=1)
    assert [tuple(v) for v in versions] == [(1, 100), (2, 200)]
    assert "ORIGINAL_ALREADY_STORED" in codes
    assert [(s.version, s.balance) for s in current] == [(2, 200)]


def test_correction_without_original_is_stored_with_a_warning(furnisher, tmp_path) -> None:
    result = _submit(furnisher, write_file(tmp_path / "a.csv", [person(0, correction="1")]))
    assert (result.submission.records_warnings, _count(furnisher, AccountState)) == (1, 1)


def test_deleted_account_leaves_reports_and_keeps_history(furnisher, tmp_path) -> None:
    _submit(furnisher, write_file(tmp_path / "a.csv", [person(0), person(0, furnisher_account_id="B")]))
    _submit(furnisher, write_file(tmp_path / "b.csv", [person(0, reporting_period="2026-10",
                                                               account_status="deleted")]))
    with session_scope(furnisher.engine) as session:
        current = AccountRepository(session).current_states(person_id=1)
    assert {s.furnisher_account_id for s in current} == {"B"}
    assert _count(furnisher, AccountState) == 3


def test_banned_attribute_rejects_the_whole_file_before_anything_is_stored(furnisher, tmp_path) -> None:
    columns = [*record().keys(), "blood_type", "Religion"]
    path = write_file(tmp_path / "bad.csv", [record(blood_type="A", Religion="x")], columns=columns)
    with pytest.raises(FileRejected) as err:
        _submit(furnisher, path)
    assert err.value.code == "BANNED_ATTRIBUTE"
    assert err.value.details == {"columns": ["blood_type", "Religion"]}
    assert "blood_type" in err.value.message
    assert (_count(furnisher, Submission), _count(furnisher, AccountState)) == (0, 0)
    assert not (furnisher.settings.submissions_dir).exists()


def test_missing_required_columns_reject_the_file(furnisher, tmp_path) -> None:
    columns = [c for c in record() if c not in ("balance", "full_name")]
    with pytest.raises(FileRejected) as err:
        _submit(furnisher, write_file(tmp_path / "bad.csv", [record()], columns=columns))
    assert err.value.code == "FILE_MISSING_COLUMNS"
    assert err.value.details == {"columns": ["full_name", "balance"]}


def test_malformed_rows_and_unknown_columns_are_reported(furnisher, tmp_path) -> None:
    path = write_file(tmp_path / "a.csv", [person(0), person(1, furnisher_account_id="A2")],
                      columns=[*record().keys(), "branch"])
    text = path.read_text().splitlines()
    text.insert(2, "only,three,fields")
    path.write_text("\n".join(text) + "\n")
    s = _submit(furnisher, path).submission
    assert (s.records_received, s.records_accepted, s.records_rejected) == (3, 2, 1)
    with session_scope(furnisher.engine) as session:
        findings = {(f.line, f.code) for f in session.scalars(select(Finding))}
    assert findings == {(0, "UNKNOWN_COLUMN"), (3, "MALFORMED_RECORD")}


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_every_format_loads_alike(furnisher, tmp_path, suffix) -> None:
    rows = [person(0), person(1, furnisher_account_id="A2", id_number="110101199003070012")]
    s = _submit(furnisher, write_file(tmp_path / f"f{suffix}", rows)).submission
    assert (s.format, s.records_accepted, s.records_rejected) == (suffix[1:], 1, 1)


def test_only_a_furnisher_may_submit(runtime, tmp_path) -> None:
    make_member(runtime, "LENDER", Role.SUBSCRIBER)
    from openbureau.kit.errors import Forbidden

    with pytest.raises(Forbidden):
        _submit(runtime, write_file(tmp_path / "a.csv", [record()]), "LENDER")


def test_the_database_never_holds_identifiers_in_clear(sqlite_runtime, tmp_path) -> None:
    make_member(sqlite_runtime, "BANK_A", Role.FURNISHER)
    rows = [person(i, furnisher_account_id=f"A{i}") for i in range(len(PEOPLE))]
    bad = person(1, furnisher_account_id="BAD", id_number="110101199003070012")  # rejected: lands in findings
    _submit(sqlite_runtime, write_file(tmp_path / "a.csv", [*rows, bad]))
    sqlite_runtime.engine.dispose()
    db = b"".join(p.read_bytes() for p in sqlite_runtime.settings.data_dir.glob("bureau.db*"))
    for id_number, _, name in PEOPLE:
        assert id_number.encode() not in db
        assert name.encode() not in db
    for secret in (b"110101199003070012", b"13800138000", "建国路".encode()):
        assert secret not in db


@pytest.mark.parametrize("keyed_max", [0, 20_000], ids=["month-read", "account-search"])
def test_stored_versions_are_the_same_read_by_month_or_account_by_account(furnisher, tmp_path, monkeypatch,
                                                                          keyed_max) -> None:
    """A large chunk reads the furnisher's month of accounts once; a small one (a daily file) searches its own
    accounts: corrections, resent originals and other accounts come out the same either way."""
    from openbureau.intake import prepare

    monkeypatch.setattr(prepare, "KEYED_VERSIONS_MAX", keyed_max)
    _submit(furnisher, write_file(tmp_path / "a.csv", [person(0, balance="100"),
                                                        person(1, furnisher_account_id="B", balance="5")]))
    second = _submit(furnisher, write_file(tmp_path / "b.csv", [
        person(0, balance="200", correction="1"),  # a new version of ACC-1
        person(1, furnisher_account_id="B", balance="6"),  # B's original again: refused
        person(2, furnisher_account_id="C", balance="7", correction="1"),  # a correction of nothing: a warning
        person(0, furnisher_account_id="D", reporting_period="2026-10", balance="8")]))  # another month
    s = second.submission
    assert (s.records_accepted, s.records_rejected, s.records_warnings) == (2, 1, 1)
    with session_scope(furnisher.engine) as session:
        rows = session.execute(select(AccountState.furnisher_account_id, AccountState.version, AccountState.balance)
                               .order_by(AccountState.furnisher_account_id, AccountState.version)).all()
    assert [tuple(r) for r in rows] == [("ACC-1", 1, 100), ("ACC-1", 2, 200), ("B", 1, 5), ("C", 1, 7), ("D", 1, 8)]


def test_a_small_file_reads_only_its_own_accounts_stored_versions(furnisher, tmp_path) -> None:
    """A daily file does not read the furnisher's whole month: its statements name its accounts."""
    from sqlalchemy import Engine, event

    _submit(furnisher, write_file(tmp_path / "a.csv", [person(i % len(PEOPLE), furnisher_account_id=f"M{i}")
                                                        for i in range(300)]))
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "max(account_states.version)" in statement:
            statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", seen)  # every engine: the preparing opens its own
    try:
        daily = _submit(furnisher, write_file(tmp_path / "b.csv", [person(0, furnisher_account_id="M7", balance="9",
                                                                          correction="1")]))
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert daily.submission.records_accepted == 1
    # one statement, naming the file's one account and none of the 299 others stored for the month
    assert len(statements) == 1 and "furnisher_account_id IN" in statements[0][0]
    bound = str(statements[0][1])
    assert "'M7'" in bound and "'M8'" not in bound and "'M70'" not in bound


@pytest.mark.parametrize("keyed_max", [0, 20_000], ids=["month-read", "account-search"])
def test_another_furnishers_account_of_the_same_reference_is_no_stored_version(furnisher, tmp_path, monkeypatch,
                                                                                keyed_max) -> None:
    """A lender's account references are its own: another lender's account of the same reference and month
    neither refuses an original nor gives a correction its original, whichever way the versions are read."""
    from openbureau.intake import prepare

    monkeypatch.setattr(prepare, "KEYED_VERSIONS_MAX", keyed_max)
    make_member(furnisher, "SUPERAPP", Role.FURNISHER)
    _submit(furnisher, write_file(tmp_path / "other.csv", [person(0, furnisher_account_id="SAME", balance="1"),
                                                            person(0, furnisher_account_id="SAME2", balance="1")]),
            "SUPERAPP")
    mine = _submit(furnisher, write_file(tmp_path / "mine.csv", [
        person(0, furnisher_account_id="SAME", balance="2"),
        person(0, furnisher_account_id="SAME2", balance="3", correction="1")])).submission
    assert (mine.records_accepted, mine.records_rejected, mine.records_warnings) == (1, 0, 1)
