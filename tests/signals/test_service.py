"""Risk signals: each triggers at its threshold and not below, explains itself, and reads its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openbureau.policy import SignalSettings
from openbureau.signals.schemas import CREDIT_SIGNALS, Severity
from openbureau.signals.service import (
    evaluate,
    identity_conflict,
    multi_lending,
    over_indebtedness,
    recent_delinquency,
)
from openbureau.tradelines.history import build_tradelines
from tests.tradelines.factories import row

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SETTINGS = SignalSettings()


def lines(*rows):
    return build_tradelines(rows, as_of=NOW.date(), retention_years=5)


def opened(days_ago: int, furnisher: int, product: str = "bnpl"):
    return row("2026-10", account=f"N{furnisher}", furnisher=furnisher, product=product,
               opened_on=str((NOW - timedelta(days=days_ago)).date()))


def test_multi_lending_counts_distinct_lenders_with_new_accounts_or_hard_inquiries_per_window() -> None:
    tradelines = lines(opened(2, 1), opened(3, 1), opened(5, 2), opened(40, 4), opened(3, 5, product="telecom"))
    inquiries = [(3, NOW - timedelta(days=1)), (3, NOW - timedelta(days=2)), (6, NOW - timedelta(days=100))]
    signal = multi_lending(tradelines=tradelines, hard_inquiries=inquiries, now=NOW, settings=SETTINGS)
    # Lenders 1, 2 (accounts) and 3 (two inquiries) in 7 days; 4 by 90 days; 6 by 180; telecom is not credit.
    assert signal.values == {"lenders_1d": 1, "lenders_7d": 3, "lenders_30d": 3, "lenders_90d": 4, "lenders_180d": 5,
                             "new_accounts_1d": 0, "new_accounts_7d": 2, "new_accounts_30d": 2,
                             "new_accounts_90d": 3, "new_accounts_180d": 3}
    assert signal.triggered and signal.severity is Severity.HIGH and "3 different lenders" in signal.explanation
    calm = multi_lending(tradelines=tradelines, hard_inquiries=inquiries, now=NOW,
                         settings=SignalSettings(multi_lending_7d=4))
    assert not calm.triggered and calm.severity is Severity.NONE and calm.thresholds["lenders_7d"] == 4
    # Below the thresholds the sentence still counts inquiries as inquiries, not as lenders with new credit.
    assert calm.explanation.startswith("3 lender(s) opened credit or made a hard inquiry in the last 30 days")
    assert "New credit came from" not in calm.explanation


def test_over_indebtedness_uses_the_declared_income_when_there_is_one() -> None:
    tradelines = lines(row("2026-10", account="L", amount_due=300_000), row("2026-10", account="M", amount_due=100_000))
    high = over_indebtedness(tradelines=tradelines, declared_income=800_000, currency="CNY", settings=SETTINGS)
    assert high.values["monthly_obligations"] == 400_000 and high.values["debt_to_income"] == 0.5
    assert high.triggered and high.severity is Severity.HIGH and "50% of the declared income" in high.explanation
    watch = over_indebtedness(tradelines=tradelines, declared_income=900_000, currency="CNY", settings=SETTINGS)
    assert watch.severity is Severity.MEDIUM
    fine = over_indebtedness(tradelines=tradelines, declared_income=2_000_000, currency="CNY", settings=SETTINGS)
    assert not fine.triggered and fine.values["debt_to_income"] == 0.2


def test_without_income_over_indebtedness_looks_at_utilisation_and_open_accounts() -> None:
    full = lines(row("2026-10", balance=460_000, credit_limit=500_000))
    signal = over_indebtedness(tradelines=full, declared_income=None, currency="CNY", settings=SETTINGS)
    assert signal.triggered and signal.values["revolving_utilisation"] == 0.92 and "92% used" in signal.explanation
    many = lines(*[row("2026-10", account=f"A{i}", balance=1_000) for i in range(10)])
    signal = over_indebtedness(tradelines=many, declared_income=None, currency="CNY", settings=SETTINGS)
    assert signal.triggered and "10 credit accounts are open" in signal.explanation
    closed = lines(row("2026-10", "C", account_status="closed", closed_on="2026-10-20"))
    assert not over_indebtedness(tradelines=closed, declared_income=None, currency="CNY", settings=SETTINGS).triggered


@pytest.mark.parametrize(("status", "severity"), [("1", Severity.LOW), ("3", Severity.MEDIUM), ("4", Severity.HIGH)])
def test_recent_delinquency_reports_the_worst_status_anywhere(status, severity) -> None:
    tradelines = lines(row("2026-08", status, furnisher=1), row("2026-09", furnisher=1),
                       row("2026-10", "1", furnisher=2, account="B"), row("2026-10", "2", furnisher=3, account="U",
                                                                         product="utility"))
    signal = recent_delinquency(tradelines=tradelines, now=NOW, settings=SETTINGS)
    worst = max(status, "1")
    assert signal.values["worst_status"] == worst and signal.values["lenders"] == 2  # the utility is not credit
    assert signal.severity is (severity if status != "1" else Severity.LOW) and signal.triggered


def test_a_delinquency_older_than_the_window_is_not_recent() -> None:
    tradelines = lines(row("2026-01", "3"), row("2026-02"))
    assert not recent_delinquency(tradelines=tradelines, now=NOW, settings=SETTINGS).triggered
    assert recent_delinquency(tradelines=tradelines, now=NOW,
                              settings=SignalSettings(delinquency_months=12)).triggered


def test_identity_conflicts_explain_what_disagrees() -> None:
    assert not identity_conflict(conflicts=[]).triggered
    signal = identity_conflict(conflicts=["name_mismatch", "name_mismatch"])
    assert signal.severity is Severity.MEDIUM and "different name" in signal.explanation
    assert identity_conflict(conflicts=["shared_phone"]).severity is Severity.HIGH


def test_every_report_carries_all_four_signals_and_thresholds_come_from_the_environment(monkeypatch) -> None:
    signals = evaluate(tradelines=[], hard_inquiries=[], declared_income=None, conflicts=[], now=NOW,
                       currency="CNY", settings=SETTINGS)
    assert [s.code for s in signals] == list(CREDIT_SIGNALS) and not any(s.triggered for s in signals)
    monkeypatch.setenv("OPENBUREAU_SIGNAL_MULTI_LENDING_30D", "2")
    assert SignalSettings().multi_lending()[30] == 2
