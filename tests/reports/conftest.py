"""A small market for report tests: one person known to three lenders and a telecom, and a lender asking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openbureau.consent.profiles import Purpose
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.factories import furnish, history, month

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # reports are computed at this moment; as of period 2026-10
ID = PEOPLE[0][0]


@pytest.fixture
def market(runtime, tmp_path):
    """Person 0: BANK_A revolving line (late 1 then 2 in 2026, 24 months), OTHER instalment loan opened
    2026-11-10 with another phone, TELCO telecom account; person 1 at BANK_A only. LENDER subscribes."""
    keys = {code: make_member(runtime, code, *roles, name=f"{code.title()} Ltd") for code, roles in (
        ("BANK_A", (Role.FURNISHER, Role.SUBSCRIBER)), ("OTHER", (Role.FURNISHER,)), ("TELCO", (Role.FURNISHER,)),
        ("LENDER", (Role.SUBSCRIBER,)), ("OPS", (Role.OPERATOR,)))}
    for code in ("BANK_A", "OTHER", "TELCO"):
        grant(runtime, code, ID)
    grant(runtime, "BANK_A", PEOPLE[1][0])
    grant(runtime, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-1")
    folder = tmp_path / "files"
    folder.mkdir()
    bank = history(0, "A-1", "2024-11", "N" * 20 + "12NN", balance="2500000")  # 2024-11 .. 2026-10
    bank += history(1, "A-2", "2026-09", "NN")
    furnish(runtime, "BANK_A", bank, folder)
    furnish(runtime, "OTHER", [month(0, "O-1", "2026-10", product="installment", opened_on="2026-10-03",
                                     phone="13912345678", balance="3600000", amount_due="110000")], folder)
    furnish(runtime, "TELCO", history(0, "T-1", "2026-05", "NN1NNN", product="telecom", balance="8000",
                                      amount_due="8000"), folder)
    return runtime, keys
