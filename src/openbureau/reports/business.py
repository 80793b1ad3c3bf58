"""A sole trader's business accounts in the person's report (standard v1.1): which of the person's
tradelines were furnished for a business, and the section that shows them with its name and code.

The tradelines stay the person's own (PRC Civil Code Art. 56: an individual business's debts are the
individual's), so the summary, the signals and the score count them as before; the report lists them in
``business_accounts`` instead of ``accounts``, each with the business it was furnished for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from openbureau.enterprises.service import Business, businesses_of
from openbureau.kit.crypto import PiiVault, mask
from openbureau.reports.schemas import AccountView, BusinessAccountView
from openbureau.tradelines.history import Tradeline

if TYPE_CHECKING:
    from openbureau.reports.assembly import PersonFile


def business_accounts(session: Session, *, vault: PiiVault, tradelines: Sequence[Tradeline]
                      ) -> dict[tuple[int, str], Business]:
    """(furnisher, account) -> the business of each tradeline whose newest state a sole trader's record
    furnished (one indexed read by the states' keys; none for a person without business accounts)."""
    keys = {(t.furnisher_id, t.account_id, t.latest.period, t.latest.row.version): (t.furnisher_id, t.account_id)
            for t in tradelines if t.credit}
    if not keys:
        return {}
    found = businesses_of(session.connection(), vault=vault, keys=list(keys))
    return {keys[key]: business for key, business in found.items()}


def business_section(views: list[AccountView], *, file: PersonFile, consumer: bool) -> list[BusinessAccountView]:
    """The business accounts' views with the business's name and code (masked for a lender, as the person's
    identity number is)."""
    shown = []
    for view, line in zip(views, (t for t in file.tradelines if t.credit
                                  and (t.furnisher_id, t.account_id) in file.businesses), strict=True):
        business = file.businesses[(line.furnisher_id, line.account_id)]
        shown.append(BusinessAccountView(**view.model_dump(), business_name=business.name,
                                         enterprise_uscc=business.uscc if consumer else mask(business.uscc)))
    return shown
