"""Standard v1.1 storage: enterprises in a table of their own, their accounts without a person or a consent,
sole traders' accounts under the owner (consent gate as before) naming the business; v1 files unchanged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from openbureau.accounts.models import AccountState
from openbureau.enterprises.models import AccountEnterprise, Enterprise, EnterpriseState
from openbureau.intake import service
from openbureau.intake.models import Finding
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.enterprises.factories import FIRM_USCC, SHOP_USCC, V1_COLUMNS, enterprise, sole_trader
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

TODAY = date(2026, 11, 22)


def submit(runtime, path, furnisher="BANK_A", **work):
    settings = runtime.settings.model_copy(update=work) if work else runtime.settings
    return service.submit(runtime.engine, settings=settings, policy=runtime.policy, furnisher_code=furnisher,
                          path=path, today=TODAY).submission


def count(runtime, table) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


@pytest.fixture
def bank(runtime):
    make_member(runtime, "BANK_A", Role.FURNISHER)
    make_member(runtime, "BANK_B", Role.FURNISHER)
    return runtime


def test_a_v1_file_loads_exactly_as_before(bank, tmp_path) -> None:
    """A file without the v1.1 columns: persons' accounts, consent gate as before, nothing for businesses."""
    grant(bank, "BANK_A", PEOPLE[0][0])
    rows = [person(0, furnisher_account_id="A0"), person(1, furnisher_account_id="A1")]
    s = submit(bank, write_file(tmp_path / "v1.csv", rows, columns=V1_COLUMNS))
    assert (s.records_received, s.records_accepted, s.records_rejected, s.records_quarantined) == (2, 2, 0, 1)
    assert count(bank, AccountState) == 2
    assert (count(bank, Enterprise), count(bank, EnterpriseState), count(bank, AccountEnterprise)) == (0, 0, 0)


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_an_enterprise_borrows_without_a_person_or_a_consent(bank, tmp_path, in_process) -> None:
    """No consent was granted to anybody: the enterprise's accounts load all the same (not personal data),
    in enterprise_states, with one enterprise for one code however it is spaced or cased."""
    rows = [enterprise("E1"), enterprise("E2", enterprise_uscc="9135 0100 m000 100y43", product_type="installment",
                                         credit_limit=None, original_amount="9000000", term_months="24")]
    s = submit(bank, write_file(tmp_path / "firm.csv", rows), parallel_load_min_bytes=0 if in_process else 2**40)
    assert (s.records_accepted, s.records_rejected, s.records_quarantined) == (2, 0, 0)
    assert count(bank, AccountState) == 0
    with session_scope(bank.engine) as session:
        firms = session.execute(select(Enterprise)).scalars().all()
        states = session.execute(select(EnterpriseState)).scalars().all()
        assert len(firms) == 1 and {st.enterprise_id for st in states} == {firms[0].id}
        assert bank.vault.decrypt(firms[0].uscc_enc) == FIRM_USCC
        assert FIRM_USCC.encode() not in firms[0].uscc_enc  # sealed, found by its blind index
        assert sorted(st.furnisher_account_id for st in states) == ["E1", "E2"]
        assert {bank.vault.decrypt(st.name_enc) for st in states} == {"福州示例贸易有限公司"}
    # Another lender's file names the same firm: the same enterprise.
    submit(bank, write_file(tmp_path / "b.csv", [enterprise("X9")]), furnisher="BANK_B")
    assert count(bank, Enterprise) == 1 and count(bank, EnterpriseState) == 3


def test_a_sole_traders_account_is_the_owners_and_names_the_business(bank, tmp_path) -> None:
    grant(bank, "BANK_A", PEOPLE[0][0])
    rows = [sole_trader(0, "S0"), sole_trader(1, "S1"), person(0, furnisher_account_id="P0")]
    s = submit(bank, write_file(tmp_path / "shop.csv", rows))
    assert (s.records_accepted, s.records_quarantined) == (3, 1)  # person 1 gave no consent: held, as before
    assert count(bank, AccountState) == 3 and count(bank, EnterpriseState) == 0
    with session_scope(bank.engine) as session:
        links = session.execute(select(AccountEnterprise)).scalars().all()
        assert sorted(link.furnisher_account_id for link in links) == ["S0", "S1"]
        code = session.execute(select(Enterprise.uscc_enc)).scalar_one()
        assert bank.vault.decrypt(code) == SHOP_USCC


def test_corrections_of_enterprise_accounts_follow_the_stored_versions(bank, tmp_path) -> None:
    submit(bank, write_file(tmp_path / "1.csv", [enterprise("E1")]))
    again = submit(bank, write_file(tmp_path / "2.csv", [enterprise("E1", balance="130000")]))
    assert again.records_rejected == 1  # ORIGINAL_ALREADY_STORED
    fixed = submit(bank, write_file(tmp_path / "3.csv", [enterprise("E1", balance="130000", correction="1")]))
    assert fixed.records_accepted == 1
    with session_scope(bank.engine) as session:
        assert sorted(session.execute(select(EnterpriseState.version)).scalars()) == [1, 2]


@pytest.mark.parametrize(("uscc", "code"), [
    ("91350100M000100Y44", "USCC_CHECK_CHARACTER"),
    ("91350100M000100Y4", "USCC_FORMAT"),
    ("9" * 500, "TOO_LONG"),
    ("91350100M000100I43", "USCC_FORMAT"),
])
def test_malformed_and_oversized_codes_are_rejected_and_store_nothing(bank, tmp_path, uscc, code) -> None:
    s = submit(bank, write_file(tmp_path / "bad.csv", [enterprise("E1", enterprise_uscc=uscc)]))
    assert (s.records_accepted, s.records_rejected) == (0, 1)
    with session_scope(bank.engine) as session:
        found = session.execute(select(Finding.code, Finding.field, Finding.value)).all()
    assert (code, "enterprise_uscc") in {(c, f) for c, f, _ in found}
    assert all(uscc not in (v or "") for _, _, v in found)  # masked: a sole trader's code identifies a person
    assert count(bank, Enterprise) == 0 and count(bank, EnterpriseState) == 0
