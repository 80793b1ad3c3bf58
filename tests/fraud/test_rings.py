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


def test_two_files_of_one_person_are_no_ring_and_unrelated_persons_are() -> None:
    # A person known by a resident ID at one lender and by a passport at another: two files with the same phone,
    # address and birth date. Another person at that address, born on another day, makes a link.
    same = [(1, 1, "phone", b"p", "2025-01"), (1, 1, "address", b"a", "2025-01"), (1, 1, "birth", b"d1", "2025-01"),
            (2, 2, "phone", b"p", "2025-02"), (2, 2, "address", b"a", "2025-02"), (2, 2, "birth", b"d1", "2025-02")]
    alone = find_rings(_frame(same), delinquent=set(), cap=10, min_lenders=2)
    assert alone.members.height == 0 and alone.linking == 0
    other = [(3, 3, "address", b"a", "2025-03"), (3, 3, "birth", b"d2", "2025-03")]
    rings = find_rings(_frame(same + other), delinquent=set(), cap=10, min_lenders=2)
    assert rings.members.select("person_id", "ring_size", "linked_by", "first_seen").rows() == [
        (1, 2, "address", "2025-03"), (2, 2, "address", "2025-03"), (3, 2, "address", "2025-03")]  # two holders
    # A file with no birth date on record is a holder of its own.
    undated = [r for r in same if r[2] != "birth" or r[0] == 1]
    assert find_rings(_frame(undated), delinquent=set(), cap=10, min_lenders=2).members["ring_size"].to_list() == [2, 2]
