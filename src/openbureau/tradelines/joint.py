"""Joint lending on a person's tradelines (standard v1.1): the funders and shares of each account's newest record.

Which records are one loan is decided where the tradelines are built (``tradelines.history``, rule 5); this
module only reads, for the tradelines a report shows, who funds each and in what share.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.tradelines.history import Tradeline


def with_funders(session: Session, lines: Sequence[Tradeline]) -> Sequence[Tradeline]:
    """Fill each tradeline's ``funders`` from its newest record (one indexed read for the whole file)."""
    keys = {(t.furnisher_id, t.account_id, t.latest.period, t.latest.row.version): t for t in lines}
    if keys:
        for key, funders in accounts.funders_of(session, list(keys)).items():
            keys[key].funders = funders
    return lines
