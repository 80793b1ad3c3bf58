"""The transparency report of requests by authorities: counts per calendar quarter, legal basis and
authority, with small cells suppressed so that no count points at a few persons.

Suppression has two steps (the statistical offices' primary and secondary cell suppression):

1. **Primary:** a count of 1 to ``threshold - 1`` (4) is published as :data:`SUPPRESSED`. Zero is published:
   it says nothing about anyone.
2. **Secondary:** the report publishes totals, and a total less its published parts gives back a single
   suppressed part (a quarter of 12 requests, 10 of them court orders and 2 tax assessments: hiding the 2
   alone leaves 12 - 10). So wherever exactly one cell of an additive group (a total and its parts) is
   suppressed, the smallest other part is suppressed too (the total itself when it has no other part), until
   no group holds exactly one suppressed cell.

All suppressed cells carry the same marker, so that a reader cannot tell a small count from one suppressed to
protect it. This stops derivation from any one total; it does not solve the whole system of equations the
report forms (a linear-programming audit, as statistical offices run on large tables, is not done).

Example:
    >>> hidden = suppress({"all": 12, "a": 10, "b": 2}, [("all", ["a", "b"])], threshold=5)
    >>> sorted(hidden)
    ['a', 'b']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from openbureau.authorities.models import LegalBasis
from openbureau.authorities.schemas import AuthorityFigures, Cell, QuarterFigures, TransparencyReport

SMALL_CELL = 5  # counts below this (and above zero) are suppressed
SUPPRESSED = "suppressed"
QUARTERS = (1, 2, 3, 4)
NOTE = ("Counts of 1 to {low} are published as 'suppressed', and so is, wherever a total would give one away by "
        "subtraction, the smallest other count of that total. Zero is published. Requests are counted in the "
        "quarter they were made (UTC); 'still under non-disclosure' is counted at the moment the report was made.")

Group = tuple[Hashable, Sequence[Hashable]]  # (total, its parts): total = sum(parts)


class RequestRow(Protocol):
    """What the report reads of a request."""

    authority_id: int
    person_id: int
    basis: str
    created_at: datetime
    nondisclosure_until: datetime | None


def suppress(values: Mapping[Hashable, int], groups: Iterable[Group], *, threshold: int) -> set[Hashable]:
    """The cells to suppress: every count in [1, ``threshold``), and as few others as it takes so that no
    group (a total and its parts) has exactly one suppressed cell, which subtraction would reveal.

    Args:
        values: Every cell's count.
        groups: Additive relations the report shows: (total, parts) with ``values[total] == sum(parts)``.
        threshold: The smallest count published.
    """
    groups = list(groups)
    hidden = {key for key, count in values.items() if 0 < count < threshold}
    changed = True
    while changed:  # each pass hides more or stops: it ends
        changed = False
        for total, parts in groups:
            if sum(1 for key in (total, *parts) if key in hidden) != 1:
                continue
            known = [key for key in parts if key not in hidden]
            # The smallest count that is not zero first (hiding a zero protects little), else the total.
            hidden.add(min(known, key=lambda key: (values[key] == 0, values[key])) if known else total)
            changed = True
    return hidden


def quarter_of(moment: datetime) -> int:
    """The calendar quarter (1-4) of ``moment`` in UTC."""
    return (moment.astimezone(UTC).month - 1) // 3 + 1


def build(rows: Sequence[RequestRow], *, year: int, authorities: Mapping[int, tuple[str, str]], now: datetime,
          threshold: int = SMALL_CELL) -> TransparencyReport:
    """The report of ``year`` from its requests (``authorities``: member id -> (code, name)), as at ``now``."""
    values: Counter = Counter()
    persons: dict[Hashable, set[int]] = defaultdict(set)
    bases = [b.value for b in LegalBasis]
    codes = sorted({authorities.get(r.authority_id, (f"member {r.authority_id}", ""))[0] for r in rows})
    for row in rows:
        q = quarter_of(row.created_at)
        code = authorities.get(row.authority_id, (f"member {row.authority_id}", ""))[0]
        under = row.nondisclosure_until is not None and row.nondisclosure_until > now
        for key in (("requests",), ("q", q), ("basis", row.basis), ("qbasis", q, row.basis), ("auth", code)):
            values[key] += 1
        if row.nondisclosure_until is not None:
            values[("nd",)] += 1
            values[("qnd", q)] += 1
        if under:
            values[("under",)] += 1
            values[("qunder", q)] += 1
        persons[("persons",)].add(row.person_id)
        persons[("qpersons", q)].add(row.person_id)
    for key, ids in persons.items():  # distinct persons: not additive over quarters, so in no group
        values[key] = len(ids)
    keys = [("requests",), ("persons",), ("nd",), ("under",), *(("basis", b) for b in bases),
            *(("auth", c) for c in codes),
            *(k for q in QUARTERS for k in (("q", q), ("qpersons", q), ("qnd", q), ("qunder", q),
                                            *(("qbasis", q, b) for b in bases)))]
    values = {key: values.get(key, 0) for key in keys}
    groups: list[Group] = [
        (("requests",), [("q", q) for q in QUARTERS]),
        (("requests",), [("basis", b) for b in bases]),
        (("requests",), [("auth", c) for c in codes]),
        (("nd",), [("qnd", q) for q in QUARTERS]),
        (("under",), [("qunder", q) for q in QUARTERS]),
        *((("q", q), [("qbasis", q, b) for b in bases]) for q in QUARTERS),
        *((("basis", b), [("qbasis", q, b) for q in QUARTERS]) for b in bases),
    ]
    hidden = suppress(values, [g for g in groups if g[1]], threshold=threshold)

    def cell(*key) -> Cell:
        return SUPPRESSED if key in hidden else values[key]

    names = {code: name for code, name in authorities.values()}
    return TransparencyReport(
        year=year, generated_at=now, threshold=threshold, note=NOTE.format(low=threshold - 1),
        requests=cell("requests"), persons_affected=cell("persons"), with_nondisclosure=cell("nd"),
        still_under_nondisclosure=cell("under"), by_basis={b: cell("basis", b) for b in bases},
        quarters=[QuarterFigures(quarter=f"{year}-Q{q}", requests=cell("q", q), persons_affected=cell("qpersons", q),
                                 with_nondisclosure=cell("qnd", q), still_under_nondisclosure=cell("qunder", q),
                                 by_basis={b: cell("qbasis", q, b) for b in bases}) for q in QUARTERS],
        by_authority=[AuthorityFigures(authority=c, authority_name=names.get(c, c), requests=cell("auth", c))
                      for c in codes])
