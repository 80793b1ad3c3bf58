"""Balances over time: each account carries the balance of every month of its repayment record, and the
printable report charts the credit accounts' balances (and their total) month by month, with the figures in a
table for screen readers; a lender's view names no other lender's account."""

from __future__ import annotations

import re

from openbureau.present.report import balance_chart, render_html
from tests.reports.test_report import ask, own


def test_each_account_carries_its_balance_by_month_and_the_report_charts_them(market) -> None:
    runtime, _ = market
    report = own(runtime)
    line = next(a for a in report.accounts if a.account_number == "A-1")
    loan = next(a for a in report.accounts if a.account_number == "O-1")
    assert line.balance_history == [2_500_000] * 24 and len(line.payment_history) == 24
    assert loan.balance_history == [None] * 23 + [3_600_000]  # opened in the last month: no earlier record
    telecom = report.obligations[0]
    assert len(telecom.balance_history) == len(telecom.payment_history) == 24
    assert telecom.balance_history[-6:] == [8_000] * 6 and telecom.balance_history[0] is None

    svg, periods, series = balance_chart(report)
    assert periods[0] == "2024-11" and periods[-1] == "2026-10" and len(periods) == 24
    totals = dict(zip(periods, series[0][1], strict=True))
    assert series[0][0] == "All credit accounts"
    assert totals["2026-09"] == 25_000 and totals["2026-10"] == 25_000 + 36_000
    page = render_html(report)
    figure = page.split('data-testid="balances"', 1)[1].split("</figure>", 1)[0]
    assert "<svg" in figure and "<script" not in figure and " style=" not in figure
    assert "<td>61,000</td>" in figure and "<td>25,000</td>" in figure
    assert re.search(r"<th>[^<]*A-1</th>", figure)  # the person sees their own account numbers


def test_a_lenders_view_charts_balances_without_other_lenders_account_numbers(market) -> None:
    runtime, _ = market
    report = ask(runtime, "LENDER", consent_ref="L-1").report
    assert all(a.account_number is None for a in report.accounts)
    figure = render_html(report).split('data-testid="balances"', 1)[1].split("</figure>", 1)[0]
    assert "A-1" not in figure and "O-1" not in figure and "Lender 1" in figure
