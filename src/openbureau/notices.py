"""The person's notices of milestones: the hook a notification outbox implements.

The rights services (disputes and their investigation, fraud alerts, security freezes, identity-theft
blocks) call :func:`notify_person` at each milestone a person is owed a notice of (FCRA §611(a)(6): the
results of a reinvestigation within 5 business days; §611(a)(5)(B)(ii): an item put back after it was
deleted; CN Credit Reporting Regulation Art. 25: the answer to an objection). The bureau has no outbox yet:
a listener registered with :func:`register` receives every notice, in the caller's transaction, so an
outbox that writes a row on the session it is handed is committed or rolled back with the step itself.
With no listener, a notice goes nowhere (the step is still audited by its own service).

Example:
    >>> seen = []
    >>> register(lambda session, notice: seen.append(notice.milestone))
    >>> notify_person(None, person_id=1, milestone=Milestone.DISPUTE_ANSWERED, details={"dispute_id": 7})
    >>> seen
    [<Milestone.DISPUTE_ANSWERED: 'dispute.answered'>]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Milestone(StrEnum):
    """What the person is told about."""

    DISPUTE_FILED = "dispute.filed"  # with the deadline the furnisher must answer by
    DISPUTE_ANSWERED = "dispute.answered"  # the furnisher's outcome (verified, corrected, deleted)
    ITEM_REINSERTED = "dispute.reinserted"  # answered late as verified or corrected: the item is shown again
    STATEMENT_ADDED = "dispute.statement"
    FRAUD_ALERT_PLACED = "alert.placed"
    FRAUD_ALERT_REMOVED = "alert.removed"
    FREEZE_PLACED = "freeze.placed"
    FREEZE_LIFTED = "freeze.lifted"  # permanently, or for a window
    ITEMS_BLOCKED = "identity_theft.blocked"


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice owed to a person: never their identifiers, only the bureau's ids and dates."""

    person_id: int
    milestone: Milestone
    details: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Any, Notice], None]  # (session, notice)
_listeners: list[Listener] = []


def register(listener: Listener) -> Callable[[], None]:
    """Send every later notice to ``listener`` (an outbox); returns a function that unregisters it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def notify_person(session: Any, *, person_id: int, milestone: Milestone, details: dict[str, Any] | None = None
                  ) -> None:
    """Owe ``person_id`` a notice of ``milestone``: handed to every registered listener in the caller's
    transaction (``session``)."""
    notice = Notice(person_id, milestone, dict(details or {}))
    for listener in list(_listeners):
        listener(session, notice)
