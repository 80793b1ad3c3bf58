"""The ring finder on its own: caps, lenders, chains, first-seen periods, delinquency."""

from __future__ import annotations

import polars as pl

from openbureau.fraud.rings import ATTRIBUTE_SCHEMA, find_rings


def _frame(rows):
    return pl.DataFrame(rows, schema=ATTRIBUTE_SCHEMA, orient="row")


def test_a_chain_of_shared_phone_and_address_makes_one_ring_with_its_figures() -> None:
    rows = [(7, 1, "phone", b"p1", "2025-01"), (8, 2, "phone", b"p1", "2025-02"),
            (8, 2, "address", b"a1", "2025-02"), (9, 3, "address", b"a1", "2025-03"),
            (10, 1, "phone", b"solo", "2025-01")]
    rings = find_rings(_frame(rows), delinquent={7, 9, 10}, cap=10, min_lenders=2)
    assert rings.members.select("person_id", "ring_size", "linked_by", "lenders", "delinquent").rows() == [
        (7, 3, "address,phone", 3, 2), (8, 3, "address,phone", 3, 2), (9, 3, "address,phone", 3, 2)]
    assert rings.members["first_seen"].unique().to_list() == ["2025-02"]  # p1's link appeared in 2025-02
    assert dict(rings.members.select("person_id", "shared_attributes").rows()) == {7: 1, 8: 2, 9: 1}


def test_attributes_over_the_cap_or_from_one_lender_link_nobody() -> None:
    hotline = [(100 + i, i % 3, "phone", b"hotline", "2025-01") for i in range(11)]
    one_lender = [(1, 5, "address", b"a", "2025-01"), (2, 5, "address", b"a", "2025-01")]
    rings = find_rings(_frame(hotline + one_lender), delinquent=set(), cap=10, min_lenders=2)
    assert rings.members.height == 0 and (rings.over_cap, rings.single_lender, rings.linking) == (1, 1, 0)
    at_cap = find_rings(_frame(hotline[:10]), delinquent=set(), cap=10, min_lenders=2)
    assert at_cap.members["ring_size"].unique().to_list() == [10]


def test_no_attributes_no_rings() -> None:
    assert find_rings(_frame([]), delinquent=set(), cap=10, min_lenders=2).members.height == 0
