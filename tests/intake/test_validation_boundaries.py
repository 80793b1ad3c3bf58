"""Every record rule at its boundaries: a record that just fails and one that just passes, as the furnishing
standard (docs/furnishing-format.md) defines the rule.

The rule examples in the catalogue sit well inside or outside each rule; these records sit on its edge (a
closing date on the period's last day, a borrower born on the opening day, one fen over the limit, the
first and last day of each status bucket), so a rule that moved by a day, a fen or an operator is caught.
All records of a table are validated in one chunk (one line each), and one test judges them all.

Dates: validation on 2026-11-22, reporting period 2026-09 (its end: 2026-09-30), account opened 2024-05-15.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from openbureau.intake import standard
from openbureau.intake.validation import example_record, validate_chunk
from openbureau.intake.validation.catalogue import CARD, CHARGED_OFF, CLOSED, LATE, PASSPORT

TODAY = date(2026, 11, 22)
UTILITY = {"product_type": "utility", "original_amount": None, "term_months": None, "balance": "0",
           "amount_due": "5000", "amount_paid": "5000"}  # fmt: skip


def _late(status: str, days: int, **patch: str | None) -> dict[str, str | None]:
    """A late, notified record with ``status`` and ``days`` past due."""
    return LATE | {"payment_status": status, "days_past_due": str(days)} | patch


# (case, patch over BASE_RECORD, code or "code@field", fires)
CASES: list[tuple[str, dict[str, str | None], str, bool]] = [
    # Field rules: amounts up to 10^15 minor units; a number beyond Int64 is too large, not malformed.
    ("amount at the maximum", {"balance": str(10**15), "original_amount": str(10**15)}, "AMOUNT_TOO_LARGE", False),
    ("amount one over the maximum", {"balance": str(10**15 + 1)}, "AMOUNT_TOO_LARGE", True),
    ("amount beyond Int64 is too large", {"balance": "9" * 20}, "AMOUNT_TOO_LARGE", True),
    ("amount beyond Int64 is a whole number", {"balance": "9" * 20}, "INVALID_INTEGER", False),
    ("large negative amount is negative", {"balance": "-" + "9" * 20}, "NEGATIVE_AMOUNT", True),
    ("large negative amount is not too large", {"balance": "-" + "9" * 20}, "AMOUNT_TOO_LARGE", False),
    ("large negative amount is a whole number", {"balance": "-" + "9" * 20}, "INVALID_INTEGER", False),
    ("minus zero is not negative", {"amount_paid": "-0"}, "NEGATIVE_AMOUNT", False),
    ("minus zero is a whole number", {"amount_paid": "-0"}, "INVALID_INTEGER", False),
    ("negative decimal is malformed", {"amount_paid": "-12.50"}, "INVALID_INTEGER", True),
    ("negative decimal is reported once", {"amount_paid": "-12.50"}, "NEGATIVE_AMOUNT", False),
    ("count beyond Int64 is out of range", _late("7", 0, days_past_due="9" * 20), "INVALID_INTEGER", True),
    ("count beyond Int64 is not negative", _late("7", 0, days_past_due="9" * 20), "NEGATIVE_AMOUNT", False),
    ("large negative count is negative", {"term_months": "-" + "9" * 20}, "NEGATIVE_AMOUNT", True),
    ("large negative count is reported once", {"term_months": "-" + "9" * 20}, "INVALID_INTEGER", False),
    ("decimal count is malformed", {"term_months": "1.5"}, "INVALID_INTEGER", True),
    # Dates.
    ("period of the current month", {"reporting_period": "2026-11"}, "PERIOD_IN_FUTURE", False),
    ("period of the next month", {"reporting_period": "2026-12"}, "PERIOD_IN_FUTURE", True),
    ("opened on the period's last day", {"opened_on": "2026-09-30"}, "OPENED_AFTER_PERIOD", False),
    ("opened the day after the period", {"opened_on": "2026-10-01"}, "OPENED_AFTER_PERIOD", True),
    ("born on the opening day", PASSPORT | {"birth_date": "2024-05-15"}, "BIRTH_AFTER_OPENED", False),
    ("born the day after opening", PASSPORT | {"birth_date": "2024-05-16"}, "BIRTH_AFTER_OPENED", True),
    ("born today", PASSPORT | {"birth_date": "2026-11-22"}, "BIRTH_DATE_IN_FUTURE", False),
    ("born tomorrow", PASSPORT | {"birth_date": "2026-11-23"}, "BIRTH_DATE_IN_FUTURE", True),
    ("120 years old today", PASSPORT | {"birth_date": "1906-11-22"}, "BIRTH_DATE_TOO_OLD", False),
    ("120 years and a day old", PASSPORT | {"birth_date": "1906-11-21"}, "BIRTH_DATE_TOO_OLD", True),
    ("18 on the opening day", PASSPORT | {"birth_date": "2006-05-15"}, "BORROWER_UNDER_18", False),
    ("18 the day after opening", PASSPORT | {"birth_date": "2006-05-16"}, "BORROWER_UNDER_18", True),
    ("born on the opening day is under 18", PASSPORT | {"birth_date": "2024-05-15"}, "BORROWER_UNDER_18", True),
    ("born after opening is not also under 18", PASSPORT | {"birth_date": "2024-05-16"}, "BORROWER_UNDER_18",
     False),
    # Delinquency: the status buckets (N, C, G and * need 0; 1 = 1-30 ... 6 = 151-180; 7 = over 180; D, Z and
    # # take any value), each at its first and last day and one day outside.
    *[(f"status {s}, {d} days", _late(s, d), "STATUS_DPD_MISMATCH", fires)
      for s in ("N", "C", "G", "*") for d, fires in ((0, False), (1, True))],
    *[(f"status {b}, {d} days", _late(str(b), d), "STATUS_DPD_MISMATCH", fires)
      for b in range(1, 7)
      for d, fires in ((30 * b - 30, True), (30 * b - 29, False), (30 * b, False), (30 * b + 1, True))],
    *[(f"status 7, {d} days", _late("7", d), "STATUS_DPD_MISMATCH", fires)
      for d, fires in ((180, True), (181, False), (100_000, False))],
    *[(f"status {s}, {d} days", _late(s, d), "STATUS_DPD_MISMATCH", False)
      for s in ("D", "Z", "#") for d in (0, 1, 400)],
    ("one fen past due, not late", {"past_due_amount": "1"}, "PAST_DUE_AMOUNT_WITHOUT_DPD", True),
    ("one day late, nothing past due", _late("1", 1, past_due_amount="0"), "DPD_WITHOUT_PAST_DUE_AMOUNT", True),
    ("one day late, one fen past due", _late("1", 1, past_due_amount="1"), "DPD_WITHOUT_PAST_DUE_AMOUNT", False),
    ("late every day since opening", _late("1", 29, opened_on="2026-09-01", first_delinquency_date="2026-09-01"),
     "DPD_EXCEEDS_ACCOUNT_AGE", False),
    ("late a day longer than open", _late("1", 30, opened_on="2026-09-01", first_delinquency_date="2026-09-01"),
     "DPD_EXCEEDS_ACCOUNT_AGE", True),
    ("opened on the period's last day, a day late",
     _late("1", 1, opened_on="2026-09-30", first_delinquency_date="2026-09-30"), "DPD_EXCEEDS_ACCOUNT_AGE", True),
    ("one day late without a delinquency date", _late("1", 1, first_delinquency_date=None),
     "DELINQUENCY_DATE_MISSING", True),
    ("delinquent from the period's last day", _late("1", 1, first_delinquency_date="2026-09-30"),
     "DELINQUENCY_AFTER_PERIOD", False),
    ("delinquent from the day after the period", _late("1", 1, first_delinquency_date="2026-10-01"),
     "DELINQUENCY_AFTER_PERIOD", True),
    ("delinquent from the opening day", _late("2", 45, first_delinquency_date="2024-05-15"),
     "DELINQUENCY_BEFORE_OPENED", False),
    ("delinquent from the day before opening", _late("2", 45, first_delinquency_date="2024-05-14"),
     "DELINQUENCY_BEFORE_OPENED", True),
    ("late 11 days from the 20th, both counted", _late("1", 11, first_delinquency_date="2026-09-20"),
     "DELINQUENCY_TOO_RECENT", False),
    ("late 12 days from the 20th", _late("1", 12, first_delinquency_date="2026-09-20"),
     "DELINQUENCY_TOO_RECENT", True),
    ("late 1 day from the period's last day", _late("1", 1, first_delinquency_date="2026-09-30"),
     "DELINQUENCY_TOO_RECENT", False),
    ("late 2 days from the period's last day", _late("1", 2, first_delinquency_date="2026-09-30"),
     "DELINQUENCY_TOO_RECENT", True),
    ("closed account keeps its delinquency date", CLOSED | {"first_delinquency_date": "2026-08-17"},
     "DELINQUENCY_DATE_WHILE_CURRENT", False),
    ("status unknown with a delinquency date", {"payment_status": "#", "first_delinquency_date": "2026-08-17"},
     "DELINQUENCY_DATE_WHILE_CURRENT", False),
    ("past due equal to the balance", _late("2", 45, past_due_amount="2400000"), "PAST_DUE_OVER_BALANCE", False),
    ("past due one fen over the balance", _late("2", 45, past_due_amount="2400001"), "PAST_DUE_OVER_BALANCE", True),
    # Account status.
    ("closed with one fen", CLOSED | {"balance": "1"}, "CLOSED_WITH_BALANCE", True),
    ("closed on the period's last day", CLOSED | {"closed_on": "2026-09-30"}, "CLOSED_AFTER_PERIOD", False),
    ("closed the day after the period", CLOSED | {"closed_on": "2026-10-01"}, "CLOSED_AFTER_PERIOD", True),
    ("closed on the opening day", CLOSED | {"closed_on": "2024-05-15"}, "CLOSED_BEFORE_OPENED", False),
    ("closed the day before opening", CLOSED | {"closed_on": "2024-05-14"}, "CLOSED_BEFORE_OPENED", True),
    ("charged off with a closing date", CHARGED_OFF | {"closed_on": "2026-09-10"}, "CLOSED_ON_WHILE_OPEN", False),
    ("charged off, late, no delinquency date",
     CHARGED_OFF | {"payment_status": "1", "days_past_due": "1", "first_delinquency_date": None},
     "CHARGED_OFF_WITHOUT_DELINQUENCY", False),  # DELINQUENCY_DATE_MISSING says it
    ("charged off, unreadable days, no delinquency date",
     CHARGED_OFF | {"days_past_due": "many", "first_delinquency_date": None},
     "CHARGED_OFF_WITHOUT_DELINQUENCY", True),
    ("nothing due but one fen due", {"payment_status": "*", "amount_due": "1", "amount_paid": "0"},
     "NOTHING_DUE_WITH_AMOUNT_DUE", True),
    ("transferred with one fen", {"account_status": "transferred", "balance": "1"}, "TRANSFERRED_WITH_BALANCE", True),
    ("one fen paid without debt", {"balance": "0", "amount_due": "0", "amount_paid": "1"},
     "PAYMENT_WITHOUT_DEBT", True),
    ("paid what was due on nothing owed", {"balance": "0", "amount_due": "1", "amount_paid": "1"},
     "PAYMENT_WITHOUT_DEBT", False),
    ("paid with one fen owed", {"balance": "1", "amount_due": "0", "amount_paid": "1"}, "PAYMENT_WITHOUT_DEBT",
     False),
    ("paid with one fen past due", {"balance": "0", "amount_due": "0", "amount_paid": "1", "past_due_amount": "1"},
     "PAYMENT_WITHOUT_DEBT", False),
    # Products.
    ("instalment with original amount 0", {"original_amount": "0"}, "ORIGINAL_AMOUNT_MISSING", True),
    ("instalment with original amount 1", {"original_amount": "1", "balance": "1"}, "ORIGINAL_AMOUNT_MISSING",
     False),
    ("term of 0 months", {"term_months": "0"}, "TERM_MONTHS_OUT_OF_RANGE", True),
    ("term of 1 month", {"term_months": "1"}, "TERM_MONTHS_OUT_OF_RANGE", False),
    ("limit of one fen, two owed", CARD | {"credit_limit": "1", "balance": "2"}, "BALANCE_OVER_LIMIT", True),
    ("limit of 0, one fen owed", CARD | {"credit_limit": "0", "balance": "1"}, "BALANCE_OVER_LIMIT", False),
    ("original of one fen, two owed", {"original_amount": "1", "balance": "2"}, "BALANCE_OVER_ORIGINAL", True),
    ("original of 0, one fen owed", {"original_amount": "0", "balance": "1"}, "BALANCE_OVER_ORIGINAL", False),
    ("card with an original amount", CARD | {"credit_limit": "5000000", "original_amount": "1000"},
     "BALANCE_OVER_ORIGINAL", False),  # only instalments are held to their original amount
    ("card with a limit", CARD | {"credit_limit": "5000000"}, "NON_CREDIT_WITH_CREDIT_TERMS", False),
    ("utility with original amount 1", UTILITY | {"original_amount": "1"},
     "NON_CREDIT_WITH_CREDIT_TERMS@original_amount", True),
    ("utility with original amount 0", UTILITY | {"original_amount": "0"},
     "NON_CREDIT_WITH_CREDIT_TERMS@original_amount", False),
    # Notices: negative is a negative status, or any day late, or a charge-off.
    ("one day late under an unknown status", _late("#", 1, negative_notice_date=None), "NEGATIVE_NOTICE_MISSING",
     True),
    ("charged off under an unknown status", CHARGED_OFF | {"payment_status": "#", "days_past_due": "0",
                                                           "negative_notice_date": None},
     "NEGATIVE_NOTICE_MISSING", True),
    ("current under an unknown status", {"payment_status": "#"}, "NEGATIVE_NOTICE_MISSING", False),
    ("notice on the period's last day", _late("2", 45, negative_notice_date="2026-09-30"), "NOTICE_AFTER_PERIOD",
     False),
    ("notice the day after the period", _late("2", 45, negative_notice_date="2026-10-01"), "NOTICE_AFTER_PERIOD",
     True),
]  # fmt: skip

# With no tolerance the limit and the original amount themselves are the boundary (a product 1.0 * limit is
# exact; with 10 % it is a float no integer balance sits on).
STRICT_CASES: list[tuple[str, dict[str, str | None], str, bool]] = [
    ("balance equal to the limit", CARD | {"credit_limit": "2000000", "balance": "2000000"}, "BALANCE_OVER_LIMIT",
     False),
    ("balance one fen over the limit", CARD | {"credit_limit": "2000000", "balance": "2000001"},
     "BALANCE_OVER_LIMIT", True),
    ("balance equal to the original", {"balance": "3600000"}, "BALANCE_OVER_ORIGINAL", False),
    ("balance one fen over the original", {"balance": "3600001"}, "BALANCE_OVER_ORIGINAL", True),
]  # fmt: skip

# The finding's words where the rule examples do not show them: (case, patch, code, message).
MESSAGES: list[tuple[str, dict[str, str | None], str, str]] = [
    ("current status, late", _late("N", 5), "STATUS_DPD_MISMATCH",
     "payment_status 'N' needs days_past_due 0, but days_past_due is 5."),
    ("bucket 3, early", _late("3", 10), "STATUS_DPD_MISMATCH",
     "payment_status '3' needs days_past_due 61-90, but days_past_due is 10."),
    ("bucket 7, early", _late("7", 100), "STATUS_DPD_MISMATCH",
     "payment_status '7' needs days_past_due over 180, but days_past_due is 100."),
    ("a utility with a credit limit", UTILITY | {"credit_limit": "1"}, "NON_CREDIT_WITH_CREDIT_TERMS",
     "product_type 'utility' is not credit but has credit_limit 1."),
    ("a count that is no whole number", {"term_months": "1.5"}, "INVALID_INTEGER",
     "term_months '1.5' is not a whole number in range."),
    ("a count out of range", {"term_months": "9" * 20}, "INVALID_INTEGER",
     f"term_months '{'9' * 20}' is not a whole number in range."),
]  # fmt: skip


def _findings(cases: list[tuple], tolerance: float) -> dict[str, pl.DataFrame]:
    """Each case's findings, from one chunk holding every case's record (one line each)."""
    records = [example_record(case[1]) for case in cases]
    chunk = pl.DataFrame(records, schema={name: pl.String for name in standard.COLUMNS})
    chunk = chunk.insert_column(0, pl.Series("_line", range(len(records)), dtype=pl.Int64))
    findings = validate_chunk(chunk, today=TODAY, balance_tolerance=tolerance).findings
    return {case[0]: findings.filter(pl.col("line") == line) for line, case in enumerate(cases)}


def _wrong(findings: dict[str, pl.DataFrame], cases: list[tuple]) -> list[str]:
    return [f"{case}: {code} {'did not fire' if fires else 'fired'}" for case, _, code, fires in cases
            if _fires(findings[case], code) is not fires]


def _fires(findings: pl.DataFrame, code: str) -> bool:
    code, _, field = code.partition("@")
    hits = findings.filter(pl.col("code") == code)
    return (hits.filter(pl.col("field") == field) if field else hits).height > 0


# One test per table, each validating its records in one chunk: every case is judged in every run (a
# mutation tester that runs only the tests calling a rule sees each test call every rule).
def test_cases_are_named_once() -> None:
    names = [case[0] for case in (*CASES, *STRICT_CASES, *MESSAGES)]
    assert len(names) == len(set(names))


def test_every_rule_at_its_boundaries() -> None:
    assert _wrong(_findings(CASES, 0.10), CASES) == []


def test_balance_rules_at_a_tolerance_of_zero() -> None:
    assert _wrong(_findings(STRICT_CASES, 0.0), STRICT_CASES) == []


def test_findings_say_what_is_wrong() -> None:
    found = _findings(MESSAGES, 0.10)
    said = {case: found[case].filter(pl.col("code") == code)["message"].to_list() for case, _, code, _ in MESSAGES}
    assert said == {case: [message] for case, _, _, message in MESSAGES}
