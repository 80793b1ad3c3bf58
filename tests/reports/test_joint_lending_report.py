"""Standard v1.1 in reports: the guarantee on the guarantor's own report and on a lender's, the joint account on
the co-borrower's, facilitator and funders on the account (named like lenders: masked in a lender's view); a held party never shows, and no lender
ever sees a borrower's identity through a party."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.factories import furnish, month

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CN = Policy(profile=get_profile("CN"), reciprocity=False)
AT_COUNTER = Principal.operator("OPERATOR:test")
BORROWER, GUARANTOR, CO_BORROWER, STRANGER = PEOPLE


def party(n: int, who: tuple[str, str, str], role: str, **extra: str) -> dict[str, str]:
    id_number, birth, name = who
    return {f"party_{n}_role": role, f"party_{n}_id_type": "CN_RESIDENT_ID", f"party_{n}_id_number": id_number,
            f"party_{n}_full_name": name, f"party_{n}_birth_date": birth,
            **{f"party_{n}_{k}": v for k, v in extra.items()}}


@pytest.fixture
def market(runtime, tmp_path):
    """BANK_A lends 36,000.00 to the borrower, guaranteed for 10,000.00 by the guarantor, with a co-borrower,
    originated by PLAT and funded 60/40 by BANK_A and FUND; the stranger is named as a second guarantor without
    having consented. LENDER subscribes, with consents of everybody."""
    for code, roles in (("BANK_A", (Role.FURNISHER,)), ("FUND", (Role.FURNISHER,)), ("PLAT", (Role.FURNISHER,)),
                        ("LENDER", (Role.SUBSCRIBER,))):
        make_member(runtime, code, *roles, name=f"{code.title()} Ltd")
    for who in (BORROWER, GUARANTOR, CO_BORROWER):
        grant(runtime, "BANK_A", who[0])
    for n, who in enumerate(PEOPLE):
        grant(runtime, "LENDER", who[0], Purpose.LOAN_ORIGINATION, ref=f"L-{n}")
    folder = tmp_path / "files"
    folder.mkdir()
    record = month(0, "LOAN-1", "2026-10", product="installment", balance="2400000", facilitator_code="PLAT",
                   facilitator_account_id="P-77", funder_1_code="BANK_A", funder_1_share="6000",
                   funder_2_code="FUND", funder_2_share="4000",
                   **party(1, GUARANTOR, "guarantor", liability="1000000"), **party(2, CO_BORROWER, "co_borrower"),
                   **party(3, STRANGER, "guarantor", liability="500000"))
    submission = furnish(runtime, "BANK_A", [record], folder)
    assert (submission.records_accepted, submission.parties_held) == (1, 1)
    return runtime


def ask(runtime, who, code="LENDER"):
    n = PEOPLE.index(who)
    with session_scope(runtime.engine, write=True) as session:
        return service.inquire(session, vault=runtime.vault, principal=Principal.of_member(get_member(session, code=code)),
                               policy=CN, now=NOW, request=InquiryCreate(
                                   subject=Subject(id_type="CN_RESIDENT_ID", id_number=who[0]),
                                   purpose=Purpose.LOAN_ORIGINATION, consent_ref=f"L-{n}")).report


def own(runtime, who):
    with session_scope(runtime.engine, write=True) as session:
        return service.own_report(session, vault=runtime.vault, principal=AT_COUNTER, policy=CN, now=NOW,
                                  subject=Subject(id_type="CN_RESIDENT_ID", id_number=who[0]))


def test_the_guarantor_sees_the_guarantee_given_with_the_borrower_masked(market) -> None:
    report = own(market, GUARANTOR)
    assert report.accounts == [] and report.joint_accounts == []
    (guarantee,) = report.guarantees
    assert (guarantee.role, guarantee.product_type, guarantee.amount_lent, guarantee.balance, guarantee.liability,
            guarantee.account_status, guarantee.account_number) == (
        "guarantor", "installment", 3600000, 2400000, 1000000, "open", "LOAN-1")
    assert guarantee.lender == "Bank_A Ltd (BANK_A)"
    assert guarantee.borrower_name == BORROWER[2][0] + "*" * (len(BORROWER[2]) - 1)


def test_a_lender_sees_the_guarantee_but_never_the_borrower(market) -> None:
    report = ask(market, GUARANTOR)
    (guarantee,) = report.guarantees
    assert (guarantee.lender, guarantee.account_number, guarantee.borrower_name) == ("Lender 1", None, None)
    assert guarantee.liability == 1000000
    dumped = report.model_dump_json()
    assert BORROWER[0] not in dumped and BORROWER[2] not in dumped and BORROWER[0][:6] + BORROWER[0][-4:] not in dumped


def test_the_co_borrower_sees_the_joint_account_as_joint(market) -> None:
    for report in (own(market, CO_BORROWER), ask(market, CO_BORROWER)):
        (joint,) = report.joint_accounts
        assert (joint.role, joint.balance, joint.liability) == ("co_borrower", 2400000, 2400000)
        assert report.guarantees == []


def test_the_borrower_sees_a_joint_account_with_its_facilitator_and_funders_named_like_lenders(market) -> None:
    # The person sees every institution by name and code; a lender sees other lenders masked, as everywhere.
    expected = {"consumer": ("Plat Ltd (PLAT)", [("Bank_A Ltd (BANK_A)", 6000), ("Fund Ltd (FUND)", 4000)]),
                "subscriber": ("Lender 2", [("Lender 1", 6000), ("Lender 3", 4000)])}
    for report in (own(market, BORROWER), ask(market, BORROWER)):
        (account,) = report.accounts
        facilitator, funders = expected[report.view.value]
        assert account.joint is True and account.facilitator == facilitator
        assert [(f.lender, f.share_bp) for f in account.funders] == funders
        assert report.guarantees == [] and report.joint_accounts == []
        # No related person's identity is part of the borrower's report, in any view.
        dumped = report.model_dump_json()
        for who in (GUARANTOR, CO_BORROWER, STRANGER):
            assert who[0] not in dumped and who[2] not in dumped


def test_a_party_held_without_consent_never_shows(market) -> None:
    """The stranger was named as a guarantor without consenting: nothing about it reaches any report."""
    for report in (own(market, STRANGER), ask(market, STRANGER)):
        assert report.guarantees == [] and report.joint_accounts == [] and report.accounts == []
        assert "LOAN-1" not in report.model_dump_json()


def test_a_held_party_shows_once_the_person_consents(market) -> None:
    """Held, not dropped: the consent to furnish, once granted, releases the party like a held record."""
    assert own(market, STRANGER).guarantees == []
    grant(market, "BANK_A", STRANGER[0])
    (guarantee,) = own(market, STRANGER).guarantees
    assert (guarantee.liability, guarantee.account_number) == (500000, "LOAN-1")


def test_the_printable_report_shows_the_guarantee_and_the_joint_account(market) -> None:
    from openbureau.present.report import render_html

    guarantor = render_html(own(market, GUARANTOR))
    assert 'data-testid="guarantees"' in guarantor and "Guarantees you have given" in guarantor
    assert "10,000.00" in guarantor and BORROWER[2] not in guarantor
    borrower = render_html(ask(market, BORROWER))
    # A lender's view: the funders and the facilitator masked like every other lender.
    assert 'data-testid="joint"' in borrower and "funded by Lender 1 60.00%, Lender 3 40.00%" in borrower
    assert "via Lender 2" in borrower and GUARANTOR[2] not in borrower


FILE_TABLES = ("account_states", "account_funders", "account_parties")


@pytest.mark.parametrize("runtime", ["sqlite"], indirect=True)  # SQLite's plans: PostgreSQL's follow its statistics
def test_a_report_read_looks_accounts_up_by_their_key_never_scanning_the_files(market, tmp_path) -> None:
    """Every statement a report makes on the accounts' tables is an index search, for a file of several
    accounts at several lenders. A list of two or more row values (``(furnisher, account, period, version) IN
    (...)``) was planned by SQLite as a scan of the whole of ``account_states`` on every report read: at a
    million accounts, a second an inquiry."""
    from sqlalchemy import event

    (tmp_path / "more").mkdir()
    grant(market, "FUND", GUARANTOR[0])
    for code in ("BANK_A", "FUND"):
        furnish(market, code, [month(1, f"{code}-{n}", "2026-10", product="installment", facilitator_code="PLAT",
                                     funder_1_code=code, funder_1_share="10000") for n in range(3)],
                tmp_path / "more")
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and any(t in statement for t in FILE_TABLES):
            seen.append((statement, parameters))

    event.listen(market.engine, "before_cursor_execute", keep)
    try:
        for who in (BORROWER, GUARANTOR, CO_BORROWER):
            own(market, who)
            ask(market, who)
    finally:
        event.remove(market.engine, "before_cursor_execute", keep)
    assert len(seen) > 6
    scans = []
    with market.engine.connect() as conn:
        for statement, parameters in seen:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            scans += [(statement, row[-1]) for row in plan
                      if any(row[-1].startswith(f"SCAN {t}") for t in FILE_TABLES)]
    assert scans == []
