"""A lender's prescreen criteria: checked whole before a run (every finding with its field and code), then
applied to one person's published file at a time.

The file is the one every report shows (``tradelines.history``: newest versions, retention, the items the
person's disputes and blocks hide), and the score is the released scorecard's, as an inquiry would carry it.

Example:
    >>> c = PrescreenCriteria(no_delinquency_days=60, max_open_accounts=5)
    >>> findings(c, scale=None)
    []
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from openbureau.intake.standard import PAST_DUE_STATUSES
from openbureau.kit.errors import Unprocessable
from openbureau.kit.periods import shift_period
from openbureau.prescreen import errors
from openbureau.prescreen.schemas import REGION_PATTERN, PrescreenCriteria
from openbureau.scoring.scorecard import Scale
from openbureau.tradelines.history import Tradeline

# "30 days late" and worse: PBoC statuses 2 (31-60 days) to 7, as the scorecard's late_30/60/90 features count
# them; a charged-off month is delinquent at every threshold.
DELINQUENT_STATUSES = {30: frozenset(PAST_DUE_STATUSES[1:]), 60: frozenset(PAST_DUE_STATUSES[2:]),
                       90: frozenset(PAST_DUE_STATUSES[3:])}
_REGION = re.compile(REGION_PATTERN)
# The end of a US mailing address: the state's code and the ZIP code (ZIP+4 allowed).
_US_TAIL = re.compile(r"\b([A-Z]{2})[\s,]+([0-9]{5})(?:-[0-9]{4})?\s*$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with the criteria."""

    field: str
    code: str
    message: str


def findings(criteria: PrescreenCriteria, *, scale: Scale | None) -> list[Finding]:
    """Everything wrong with ``criteria`` (empty: they can be run). ``scale``: the released scorecard's,
    None when no scorecard is released."""
    out: list[Finding] = []
    c = criteria
    if all(v is None for v in (c.score_min, c.score_max, c.no_delinquency_days, c.max_open_accounts,
                               c.max_total_balance, c.regions)):
        out.append(Finding("criteria", errors.NO_CRITERIA, "say whom the offer is for: at least one criterion"))
    if c.score_min is not None or c.score_max is not None:
        if scale is None:
            out.append(Finding("criteria.score_min" if c.score_min is not None else "criteria.score_max",
                               errors.NO_RELEASED_MODEL, "no scorecard is released: a score range cannot be applied"))
        else:
            for name in ("score_min", "score_max"):
                value = getattr(c, name)
                if value is not None and not scale.minimum <= value <= scale.maximum:
                    out.append(Finding(f"criteria.{name}", errors.SCORE_OUT_OF_SCALE,
                                       f"{name} must be on the released scale {scale.minimum}-{scale.maximum}"))
        if c.score_min is not None and c.score_max is not None and c.score_min > c.score_max:
            out.append(Finding("criteria.score_min", errors.INVALID_SCORE_RANGE, "score_min is above score_max"))
    for k, region in enumerate(c.regions or ()):
        if not isinstance(region, str) or not _REGION.match(region):
            out.append(Finding(f"criteria.regions.{k}", errors.INVALID_REGION,
                               "a region is a US state code (2 capital letters) or a ZIP prefix of 3-5 digits"))
    return out


def check(criteria: PrescreenCriteria, *, scale: Scale | None) -> None:
    """422 naming the first finding's field and code, every finding in ``details``, when the criteria are wrong."""
    found = findings(criteria, scale=scale)
    if found:
        first = found[0]
        raise Unprocessable(f"{first.field}: {first.message}", code=first.code, field=first.field,
                            details=[{"field": f.field, "code": f.code, "message": f.message} for f in found])


def delinquent(lines: Sequence[Tradeline], *, days: int, since_period: str) -> bool:
    """Whether a credit account was ``days`` or more past due (or charged off) in ``since_period`` or later."""
    bad = DELINQUENT_STATUSES[days]
    return any(m.status in bad or m.row.account_status == "charged_off"
               for t in lines if t.credit for m in t.months if m.period >= since_period)


def file_qualifies(criteria: PrescreenCriteria, lines: Sequence[Tradeline], *, as_of_period: str,
                   currency: str) -> bool:
    """Whether a file meets the criteria that need no score and no address."""
    c = criteria
    if c.no_delinquency_days is not None and delinquent(
            lines, days=c.no_delinquency_days, since_period=shift_period(as_of_period, 1 - c.delinquency_months)):
        return False
    open_credit = [t for t in lines if t.credit and t.is_open]
    if c.max_open_accounts is not None and len(open_credit) > c.max_open_accounts:
        return False
    if c.max_total_balance is not None and sum(
            t.latest.balance for t in open_credit if t.currency == currency) > c.max_total_balance:
        return False
    return True


def score_qualifies(criteria: PrescreenCriteria, score: int | None) -> bool:
    """Whether a score is in the range (an unscorable file, ``None``, never is when a range is asked)."""
    if criteria.score_min is None and criteria.score_max is None:
        return True
    if score is None:
        return False
    return ((criteria.score_min is None or score >= criteria.score_min)
            and (criteria.score_max is None or score <= criteria.score_max))


def in_regions(criteria: PrescreenCriteria, address: str) -> bool:
    """Whether a US mailing address lies in one of the regions (no regions asked: every address does)."""
    if not criteria.regions:
        return True
    found = _US_TAIL.search(address.upper())
    if found is None:
        return False
    state, zip_code = found.groups()
    return any(state == r if r.isalpha() else zip_code.startswith(r) for r in criteria.regions)
