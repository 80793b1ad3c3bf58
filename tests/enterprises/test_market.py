"""Standard v1.1 in the regulator's market statistics: counts and balances of persons', sole traders' and
enterprises' lending, small rows suppressed, on both engines."""

from __future__ import annotations

import pytest

from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.quality import figures
from openbureau.quality.service import to_market_report
from openbureau.uscc import uscc_check_character
from tests.consent.factories import grant
from tests.enterprises.factories import enterprise, sole_trader
from tests.intake.factories import PEOPLE, person
from tests.members.factories import make_member
from tests.reports.factories import furnish

SECOND_FIRM = "91440300MA5DC0QA1" + uscc_check_character("91440300MA5DC0QA1")
CHARGED_OFF = dict(account_status="charged_off", payment_status="7", days_past_due="200", past_due_amount="120000",
                   first_delinquency_date="2026-02-10")


@pytest.fixture
def market(runtime, tmp_path):
    make_member(runtime, "BANK_A", Role.FURNISHER)
    for id_number, _, _ in PEOPLE[:2]:
        grant(runtime, "BANK_A", id_number)
    furnish(runtime, "BANK_A", [person(0, furnisher_account_id="P-0"), person(1, furnisher_account_id="P-1"),
                                sole_trader(0, "S-0", balance="300000", credit_limit="5000000"),
                                enterprise("E-1", balance="700000"), enterprise("E-2", balance="100000"),
                                enterprise("E-3", enterprise_uscc=SECOND_FIRM, **CHARGED_OFF)], tmp_path)
    return runtime


def by_type(runtime, *, k: int) -> dict[str, dict]:
    with session_scope(runtime.engine) as session:
        run = figures.run_market(session.connection(), period="2026-09", k=k)
    report = to_market_report(run, k=k, include_held=False)
    return {cell.borrower_type: cell.model_dump(exclude={"borrower_type"}) for cell in report.by_borrower_type}


def test_lending_is_counted_by_borrower_type(market) -> None:
    cells = by_type(market, k=1)
    assert cells["person"] | {"delinquent_90_rate": None} == {
        "accounts": 2, "borrowers": 2, "balance": 240000, "delinquent_90_rate": None, "suppressed": False}
    assert cells["sole_trader"] == {"accounts": 1, "borrowers": 1, "balance": 300000, "delinquent_90_rate": 0.0,
                                    "suppressed": False}
    firms = cells["enterprise"]
    assert (firms["accounts"], firms["borrowers"], firms["balance"]) == (3, 2, 920000)
    assert firms["delinquent_90_rate"] == pytest.approx(1 / 3)


def test_rows_about_few_borrowers_are_suppressed(market) -> None:
    cells = by_type(market, k=2)
    assert cells["sole_trader"] == {"accounts": None, "borrowers": None, "balance": None, "delinquent_90_rate": None,
                                    "suppressed": True}
    assert cells["person"]["suppressed"] is False and cells["enterprise"]["borrowers"] == 2
