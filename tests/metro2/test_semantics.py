"""Metro 2 meaning: account status, payment rating, amounts, dates of first delinquency, disputes."""

from __future__ import annotations

from datetime import date

import pytest

from openbureau.metro2 import read_bytes
from tests.metro2.factories import base, base_values, valid_file

DELINQUENT = {"account_status": "78", "amount_past_due": 300, "date_of_first_delinquency": date(2026, 7, 1),
              "payment_history_profile": "1" + "0" * 23}

CASES = [
    # (code, fields of a failing record, fields of a passing one)
    ("RATING_REQUIRED", {"account_status": "13", "current_balance": 0}, {"account_status": "13", "payment_rating": "0", "current_balance": 0}),
    ("RATING_NOT_ALLOWED", {"payment_rating": "0"}, {}),
    ("PAST_DUE_WHILE_CURRENT", {"amount_past_due": 10}, {}),
    ("DELINQUENT_WITHOUT_PAST_DUE", {**DELINQUENT, "amount_past_due": 0}, DELINQUENT),
    ("PAID_WITH_BALANCE", {"account_status": "13", "payment_rating": "0"}, {"account_status": "13", "payment_rating": "0", "current_balance": 0}),
    ("PAST_DUE_OVER_BALANCE", {**DELINQUENT, "amount_past_due": 5000}, DELINQUENT),
    ("HISTORY_STATUS_MISMATCH", {**DELINQUENT, "payment_history_profile": "0" * 24}, DELINQUENT),
    ("INVALID_HISTORY_CODE", {"payment_history_profile": "00000X" + "0" * 18}, {}),
    ("DOFD_REQUIRED", {**DELINQUENT, "date_of_first_delinquency": None}, DELINQUENT),
    ("DOFD_REQUIRED", {"account_status": "13", "payment_rating": "2", "current_balance": 0},
     {"account_status": "13", "payment_rating": "2", "current_balance": 0, "date_of_first_delinquency": date(2026, 5, 1)}),
    ("DOFD_WHILE_CURRENT", {"date_of_first_delinquency": date(2026, 1, 1)}, {}),
    ("DOFD_AFTER_ACCOUNT_INFORMATION", {**DELINQUENT, "date_of_first_delinquency": date(2026, 10, 5)}, DELINQUENT),
    ("DOFD_BEFORE_OPENED", {**DELINQUENT, "date_of_first_delinquency": date(2021, 1, 1)}, DELINQUENT),
    ("OPENED_AFTER_ACCOUNT_INFORMATION", {"date_opened": date(2026, 10, 2)}, {}),
    ("CLOSED_AFTER_ACCOUNT_INFORMATION", {"date_closed": date(2026, 10, 2)}, {"date_closed": date(2026, 9, 2)}),
    ("CCC_CLOSED_WITHOUT_DATE", {"compliance_condition_code": "XA"}, {"compliance_condition_code": "XA", "date_closed": date(2026, 9, 1)}),
    ("CCC_DISPUTE_ON_DELETION", {"compliance_condition_code": "XB", "account_status": "DA"}, {"compliance_condition_code": "XB"}),
    ("CHARGE_OFF_AMOUNT_MISSING", {"account_status": "97", "amount_past_due": 1200, "date_of_first_delinquency": date(2025, 1, 1),
                                   "payment_history_profile": "L" * 24},
     {"account_status": "97", "amount_past_due": 1200, "original_charge_off_amount": 1200,
      "date_of_first_delinquency": date(2025, 1, 1), "payment_history_profile": "L" * 24}),
    ("TRANSFERRED_WITH_BALANCE", {"account_status": "05"}, {"account_status": "05", "current_balance": 0}),
    ("CHARGE_OFF_PAST_DUE_MISMATCH", {"account_status": "97", "amount_past_due": 200, "original_charge_off_amount": 1200,
                                      "date_of_first_delinquency": date(2025, 1, 1), "payment_history_profile": "L" * 24},
     {"account_status": "97", "amount_past_due": 1200, "original_charge_off_amount": 1200,
      "date_of_first_delinquency": date(2025, 1, 1), "payment_history_profile": "L" * 24}),
]


def _codes(**fields: object) -> list[str]:
    records = read_bytes(valid_file([base(base_values(**fields))]))
    return [e.code for r in records for e in r.errors]


@pytest.mark.parametrize(("code", "failing", "passing"), CASES, ids=[c[0] for c in CASES])
def test_rule_fails_and_passes(code: str, failing: dict[str, object], passing: dict[str, object]) -> None:
    assert code in _codes(**failing)
    assert _codes(**passing) == []


def test_semantic_errors_name_the_field_and_its_offset() -> None:
    data = valid_file([base(base_values(amount_past_due=10))])
    error = next(e for r in read_bytes(data) for e in r.errors)
    assert (error.code, error.segment, error.field) == ("PAST_DUE_WHILE_CURRENT", "base", "amount_past_due")
    assert data[error.offset:error.offset + 9] == b"000000010"


def test_all_problems_of_one_record_are_reported() -> None:
    codes = _codes(amount_past_due=10, payment_rating="0", date_opened=date(2026, 10, 2))
    assert {"PAST_DUE_WHILE_CURRENT", "RATING_NOT_ALLOWED", "OPENED_AFTER_ACCOUNT_INFORMATION"} <= set(codes)


def test_transferred_account_may_carry_a_rating_or_not() -> None:
    assert _codes(account_status="05", payment_rating="0", current_balance=0) == []
    assert _codes(account_status="05", current_balance=0) == []
    assert "DOFD_REQUIRED" in _codes(account_status="05", payment_rating="3", current_balance=0)
