"""Factories of the reports domain: consistent monthly histories of accounts, furnished through intake."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from openbureau.intake import service as intake
from openbureau.kit.periods import period_end, shift_period
from openbureau.runtime import Runtime
from tests.intake.factories import person, write_file

# Days past due in the middle of each PBoC bucket.
DPD = {"1": 15, "2": 45, "3": 75, "4": 105, "5": 135, "6": 165, "7": 200}
CREDIT_TERMS = {"revolving": {"credit_limit": "5000000"}, "credit_card": {"credit_limit": "2000000"},
                "installment": {"original_amount": "3600000", "term_months": "36", "credit_limit": None},
                "bnpl": {"original_amount": "120000", "term_months": "6", "credit_limit": None},
                "telecom": {"credit_limit": None}, "utility": {"credit_limit": None}, "rent": {"credit_limit": None}}


def month(index: int, account: str, period: str, status: str = "N", *, product: str = "revolving",
          opened_on: str = "2015-01-10", notice: bool = True, **overrides: str | None) -> dict[str, str | None]:
    """One valid monthly record of person ``index``'s account with payment ``status`` (N, 1-7 or C)."""
    end = period_end(period)
    values: dict[str, str | None] = {"furnisher_account_id": account, "reporting_period": period,
                                     "product_type": product, "opened_on": opened_on, **CREDIT_TERMS[product]}
    if status in DPD:
        dpd = DPD[status]
        values |= {"days_past_due": str(dpd), "payment_status": status, "past_due_amount": "1200",
                   "first_delinquency_date": str(end - timedelta(days=dpd)),
                   "negative_notice_date": str(end - timedelta(days=dpd - 1)) if notice else None}
    elif status == "C":
        values |= {"payment_status": "C", "balance": "0", "amount_due": "0", "amount_paid": "0",
                   "account_status": "closed", "closed_on": str(end)}
    return person(index, **{**values, **overrides})


def history(index: int, account: str, start: str, statuses: str, **kwargs) -> list[dict[str, str | None]]:
    """Consecutive monthly records from ``start``, one per status character."""
    return [month(index, account, shift_period(start, k), s, **kwargs) for k, s in enumerate(statuses)]


def furnish(runtime: Runtime, code: str, records: list[dict], folder: Path, name: str | None = None,
            today: date | None = None):
    """Submit ``records`` as one CSV file of furnisher ``code``; the submission."""
    path = write_file(folder / (name or f"{code}-{len(list(folder.iterdir()))}.csv"), records)
    return intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code=code, path=path,
                         today=today).submission
