"""Factories of the tradelines domain: stored-state rows as the repository returns them."""

from __future__ import annotations

from collections import namedtuple
from datetime import date

from openbureau.accounts.repository import STATE_COLUMNS

Row = namedtuple("Row", [c.name for c in STATE_COLUMNS])
TODAY = date(2026, 12, 1)


def row(period: str, status: str = "N", *, account: str = "A", furnisher: int = 1, version: int = 1,
        account_status: str = "open", closed_on: str | None = None, held: int = 0, notice: str | None = None,
        opened_on: str = "2015-01-10", product: str = "revolving", balance: int | None = None,
        amount_due: int = 100, credit_limit: int | None = 500000, profile: str | None = None,
        facilitator: int | None = None, facilitator_account: str | None = None) -> Row:
    """A stored state of account ``account`` for ``period`` with payment ``status`` (and a Metro 2 payment
    history ``profile``)."""
    dpd = {"1": 15, "2": 45, "3": 75, "4": 105, "5": 135, "6": 165, "7": 200}.get(status, 0)
    return Row(furnisher_id=furnisher, furnisher_account_id=account, reporting_period=period, version=version,
               product_type=product, opened_on=opened_on, currency="CNY", credit_limit=credit_limit, original_amount=None,
               term_months=None, balance=(0 if status == "C" else 1000) if balance is None else balance,
               amount_due=amount_due, amount_paid=100,
               past_due_amount=120 if dpd else 0, days_past_due=dpd, payment_status=status,
               account_status=account_status, first_delinquency_date=None, closed_on=closed_on,
               negative_notice_date=notice, negative_held=held, history_profile=profile,
               facilitator_id=facilitator, facilitator_account_id=facilitator_account)
