"""What the person's rights change in a report: items kept out (blocked, or disputed and not answered by
the deadline), items marked as disputed, the person's statements, fraud alerts and a freeze.

Decided at read time from the report's own ``now`` (``disputes.investigation.marks_of``,
``rights.service.protections_at``), so every report is right at every instant; see docs/disputes.md.
"""

from __future__ import annotations

from dataclasses import replace

from openbureau.disputes.investigation import FileMarks, Item
from openbureau.kit.crypto import PiiVault
from openbureau.reports.schemas import FraudAlertView
from openbureau.rights.service import Protections
from openbureau.tradelines.events import EventFacts
from openbureau.tradelines.history import Tradeline

IDENTITY_CONFIRMATION = ("A fraud alert is on this file: before granting credit, the lender must confirm the "
                         "applicant's identity by a reasonable method (FCRA §605A(h)).")


def shown_tradelines(lines: list[Tradeline], hidden: set[Item]) -> list[Tradeline]:
    """``lines`` without the hidden accounts and months (an account none of whose months is left goes too)."""
    if not hidden:
        return lines
    whole = {(f, a) for f, a, p in hidden if p is None}
    months = {(f, a, p) for f, a, p in hidden if p is not None}
    out = []
    for line in lines:
        if (line.furnisher_id, line.account_id) in whole:
            continue
        kept = [m for m in line.months if (line.furnisher_id, line.account_id, m.period) not in months]
        if len(kept) == len(line.months):
            out.append(line)
        elif kept:
            out.append(replace(line, months=kept))
    return out


def shown_events(events: EventFacts, hidden: set[Item]) -> EventFacts:
    """Lending events without those of hidden accounts."""
    whole = {(f, a) for f, a, p in hidden if p is None}
    if not whole:
        return events
    return EventFacts([c for c in events.new_credit if (c.furnisher_id, c.account_id) not in whole],
                      [r for r in events.recent_loans if (r.furnisher_id, r.account_id) not in whole],
                      [u for u in events.contact_updates if (u.furnisher_id, u.account_id) not in whole])


def statements(marks: FileMarks, vault: PiiVault, furnisher_id: int, account_id: str) -> list[str]:
    """The person's statements about an account (or a month of it), newest first, decrypted in memory."""
    return [f"{period}: {vault.decrypt(enc)}" if period else vault.decrypt(enc)
            for period, enc in marks.statements.get((furnisher_id, account_id), [])]


def alert_views(protections: Protections) -> list[FraudAlertView]:
    """The fraud alerts in force, as every report shows them."""
    return [FraudAlertView(kind=kind, placed_at=placed, expires_at=expires, instruction=IDENTITY_CONFIRMATION)
            for _, kind, placed, expires in protections.alerts]
