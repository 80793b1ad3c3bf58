"""Point-in-time features, rate-shopping de-duplication, thin files and the minimum scoring criteria."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from openbureau.scoring.features import (
    FEATURE_NAMES,
    FEATURES,
    deduplicated,
    is_thin,
    point_in_time,
    unscorable_reason,
)
from openbureau.tradelines.history import build_tradelines
from tests.tradelines.factories import row

OBSERVED = date(2026, 10, 31)


def lines(*rows):
    return build_tradelines(rows, as_of=OBSERVED, retention_years=5)


def test_features_describe_the_file_as_it_stood() -> None:
    card = [row(p, s, account="CARD", balance=400_000, credit_limit=500_000, amount_due=20_000)
            for p, s in [("2026-05", "N"), ("2026-06", "2"), ("2026-07", "3"), ("2026-08", "N"), ("2026-09", "N"),
                         ("2026-10", "N")]]
    loan = [row("2026-10", account="LOAN", furnisher=2, product="bnpl", opened_on="2026-09-01", credit_limit=None)]
    bill = [row("2026-09", "1", account="TEL", furnisher=3, product="telecom", opened_on="2020-01-01"),
            row("2026-10", account="TEL", furnisher=3, product="telecom", opened_on="2020-01-01")]
    values = point_in_time(lines(*card, *loan, *bill), hard_inquiries=[], observed=OBSERVED)
    assert set(values) == set(FEATURE_NAMES) == {f.name for f in FEATURES}
    assert (values["worst_status_6m"], values["late_30_24m"], values["late_60_24m"], values["late_90_24m"]) == (5, 2, 1, 0)
    assert values["months_since_delinquency"] == 3 and values["revolving_utilisation"] == 0.8
    assert (values["open_credit_accounts"], values["product_types"], values["bnpl_share"]) == (2, 2, 0.5)
    assert (values["accounts_opened_6m"], values["lenders_new_6m"], values["newest_account_months"]) == (1, 1, 1)
    assert (values["noncredit_accounts"], values["noncredit_late_24m"], values["noncredit_history_months"]) == (1, 1, 81)
    assert values["monthly_obligations"] == 20_100 and values["instalment_remaining"] is None


def test_inquiries_close_together_count_once_and_later_ones_are_not_seen() -> None:
    at = datetime(2026, 10, 1, tzinfo=UTC)
    shopping = [at, at + timedelta(days=3), at + timedelta(days=13), at + timedelta(days=20)]
    assert deduplicated(shopping) == [at, at + timedelta(days=20)]
    values = point_in_time(lines(row("2026-10")), observed=OBSERVED,
                           hard_inquiries=[*shopping, datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC)])
    assert (values["hard_inquiries_6m"], values["hard_inquiries_12m"]) == (2, 3)  # November's is after the date


def test_thin_files_and_files_that_cannot_be_scored() -> None:
    bills_only = lines(row("2026-08", product="telecom"), row("2026-09", product="telecom"),
                       row("2026-10", product="telecom"))
    values = point_in_time(bills_only, hard_inquiries=[], observed=OBSERVED)
    assert is_thin(values, 0) and values["oldest_account_months"] is None
    seasoned = point_in_time(lines(row("2026-10", opened_on="2019-01-01")), hard_inquiries=[], observed=OBSERVED)
    assert not is_thin(seasoned, 1)
    assert unscorable_reason([], observed=OBSERVED) == "NO_FILE"
    assert unscorable_reason(lines(row("2025-12"), row("2026-01"), row("2026-02")), observed=OBSERVED) == \
        "NO_RECENT_ACTIVITY"
    assert unscorable_reason(lines(row("2026-09"), row("2026-10")), observed=OBSERVED) == "TOO_LITTLE_HISTORY"
    assert unscorable_reason(bills_only, observed=OBSERVED) is None
