"""Market statistics on hand-made frames: shares, short-term credit, delinquency, multi-lending, HHI, k."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.quality.market import hhi, market_statistics, suppress
from tests.quality.factories import state, states

MEMBERS = pl.DataFrame({"furnisher_id": [1, 2, 3, 4], "furnisher": ["BANK", "APP", "SHOP", "POWER"]})


def test_hhi() -> None:
    assert hhi(pl.Series([50, 50])) == 5000
    assert hhi(pl.Series([7])) == 10_000
    assert hhi(pl.Series([25, 25, 25, 25])) == 2500
    assert hhi(pl.Series([], dtype=pl.Int64)) is None


def test_cells_under_k_persons_are_suppressed() -> None:
    frame = pl.DataFrame({"furnisher": ["A", "B"], "accounts": [30, 4], "persons": [25, 4], "balance": [9, 1]})
    out = suppress(frame, k=10, columns=("accounts", "persons", "balance"))
    assert out["suppressed"].to_list() == [False, True]
    assert out.row(1, named=True) == {"furnisher": "B", "accounts": None, "persons": None, "balance": None,
                                      "suppressed": True}
    assert suppress(frame, k=4, columns=("persons",))["suppressed"].to_list() == [False, False]


def test_a_lone_suppressed_cell_takes_the_smallest_other_with_it() -> None:
    frame = pl.DataFrame({"furnisher": ["A", "A", "A", "B"], "product_type": ["x", "y", "z", "x"],
                          "persons": [3, 50, 20, 40], "balance": [1, 2, 3, 4]})
    out = suppress(frame, k=10, columns=("persons", "balance"), groups=("furnisher",))
    # A's total is published: with only x hidden it could be recovered, so z (the smallest other) goes too.
    assert out["suppressed"].to_list() == [True, False, True, False]


def _market(k: int = 1, include_held: bool = False) -> dict:
    rows = [
        # person 1: BANK card, APP revolving, SHOP bnpl -> three lenders
        state(1, "C1", "2026-03", person_id=1, product_type="credit_card", balance=600, term_months=None),
        state(2, "R1", "2026-03", person_id=1, product_type="revolving", balance=200, term_months=None),
        state(3, "B1", "2026-03", person_id=1, product_type="bnpl", balance=100, term_months=3,
              days_past_due=95, payment_status="4"),
        # person 2: BANK mortgage (long) and APP 24-month instalment (not short-term), a utility bill
        state(1, "M1", "2026-03", person_id=2, product_type="mortgage", balance=10_000, term_months=240),
        state(2, "I1", "2026-03", person_id=2, product_type="installment", balance=400, term_months=24),
        state(4, "U1", "2026-03", person_id=2, product_type="utility", balance=50, term_months=None),
        # a closed account, an account held for want of consent, and another period: all left out
        state(2, "X1", "2026-03", person_id=3, account_status="closed", balance=0),
        state(2, "H1", "2026-03", person_id=4, product_type="revolving", balance=300, held=1, term_months=None),
        state(1, "C1", "2026-02", person_id=1, product_type="credit_card", balance=999, term_months=None),
    ]
    return market_statistics(states(rows), MEMBERS, period="2026-03", k=k, include_held=include_held)


def test_balances_shares_and_short_term_credit() -> None:
    t = _market()
    by = {r["furnisher"]: r for r in t["by_furnisher"].iter_rows(named=True)}
    assert by["BANK"]["balance"] == 10_600 and by["BANK"]["accounts"] == 2
    assert by["APP"]["balance"] == 600  # the closed and the held accounts are not in the figures
    assert by["POWER"]["credit_balance"] == 0  # a utility bill is not credit
    assert by["BANK"]["credit_share"] == pytest.approx(10_600 / 11_300)
    # short-term consumer credit: card 600, revolving 200, bnpl 100; the 24-month loan and the mortgage are not
    assert by["BANK"]["short_term_share"] == pytest.approx(600 / 900)
    assert by["SHOP"]["short_term_share"] == pytest.approx(100 / 900)
    assert t["hhi_short_term"] == pytest.approx(round((600 / 9) ** 2 + (200 / 9) ** 2 + (100 / 9) ** 2, 1))
    assert t["accounts"] == 6


def test_held_records_can_be_included() -> None:
    by = {r["furnisher"]: r for r in _market(include_held=True)["by_furnisher"].iter_rows(named=True)}
    assert by["APP"]["balance"] == 900


def test_delinquency_by_product() -> None:
    by = {r["product_type"]: r for r in _market()["by_product"].iter_rows(named=True)}
    assert by["bnpl"]["delinquent_30_rate"] == 1.0 and by["bnpl"]["delinquent_90_rate"] == 1.0
    assert by["credit_card"]["delinquent_90_rate"] == 0.0
    assert by["credit_card"]["hhi"] == 10_000


def test_people_with_several_lenders_and_their_suppression() -> None:
    t = _market(k=1)
    multi = {r["min_lenders"]: r for r in t["multi_lending"].iter_rows(named=True)}
    assert multi[3]["persons"] == 1 and multi[3]["share_of_borrowers"] == 0.5 and multi[5]["persons"] == 0
    hidden = _market(k=10)
    assert hidden["multi_lending"]["suppressed"].to_list() == [True, False, False]  # 0 persons: nobody described
    assert hidden["borrowers"] is None
    assert hidden["by_furnisher_product"]["balance"].is_null().all()
