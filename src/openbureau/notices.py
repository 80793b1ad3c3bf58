"""The person's notices of milestones of their rights, written to the notification outbox.

The rights services (disputes and their investigation, fraud alerts, security freezes, identity-theft
blocks) call :func:`notify_person` at each milestone a person is owed a notice of (FCRA §611(a)(6): the
results of a reinvestigation within 5 business days; §611(a)(5)(B)(ii): an item put back after it was
deleted; CN Credit Reporting Regulation Art. 25: the answer to an objection). The notice is a sealed outbox
message (``notifications.compose``) written on the caller's session, so it is committed or rolled back with
the step itself; ``openbureau notifications dispatch`` delivers it to the newest contact on file.

A notice names the bureau's ids, dates and outcomes, never the person's identifiers. Listeners registered
with :func:`register` also receive every notice in the caller's transaction (tests, and a webhook a bureau
may add).

Example:
    >>> text = notice_text(Notice(1, Milestone.DISPUTE_ANSWERED, {"dispute_id": 7, "outcome": "corrected"}))
    >>> text[0], text[1].split(".")[0]
    ('Your dispute has been answered', 'Your dispute 7 was answered: corrected')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from openbureau.kit.crypto import PiiVault
from openbureau.notifications import service as notifications


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

OUTCOMES = {"verified": "the lender checked the item and found it correct; it stays as reported",
            "corrected": "the lender corrected the item; the corrected data is in your file now",
            "deleted": "the item is deleted from your file"}
UNSURE = "If you did not ask for this, tell the bureau at once."


def _day(value: Any) -> str:
    """An ISO time of the details as the notice shows it (a date and an hour, UTC)."""
    return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Subject and body of each milestone's notice, from its details.
TEXTS: dict[Milestone, Callable[[dict[str, Any]], tuple[str, str]]] = {
    Milestone.DISPUTE_FILED: lambda d: (
        "Your dispute has been filed",
        f"The bureau recorded your dispute {d['dispute_id']}. The lender must answer it by {_day(d['due_at'])}; "
        "if it does not, the item is left out of your reports until it does. You will be told the outcome."),
    Milestone.DISPUTE_ANSWERED: lambda d: (
        "Your dispute has been answered",
        f"Your dispute {d['dispute_id']} was answered: {d['outcome']}. "
        f"{OUTCOMES.get(d['outcome'], d['outcome']).capitalize()}. You may add a statement of up to 200 "
        "characters to the item; it is shown on every later report of it."),
    Milestone.ITEM_REINSERTED: lambda d: (
        "A disputed item is back in your file",
        f"The lender answered your dispute {d['dispute_id']} after its deadline ({d['outcome']}): the item left "
        "out of your reports meanwhile is shown again. You may dispute it again or add a statement."),
    Milestone.STATEMENT_ADDED: lambda d: (
        "Your statement was added",
        f"Your statement on dispute {d['dispute_id']} is shown on every later report of the item. " + UNSURE),
    Milestone.FRAUD_ALERT_PLACED: lambda d: (
        "A fraud alert is on your file",
        f"A {d['kind']} fraud alert is on your file until {_day(d['expires_at'])}: lenders must confirm your "
        "identity before they grant credit. " + UNSURE),
    Milestone.FRAUD_ALERT_REMOVED: lambda d: (
        "A fraud alert was removed", f"Fraud alert {d['alert_id']} was removed from your file. " + UNSURE),
    Milestone.FREEZE_PLACED: lambda d: (
        "Your file is frozen",
        "Your credit file is frozen: lenders cannot read it to grant new credit until you lift the freeze. "
        "Your current lenders' account reviews go on. " + UNSURE),
    Milestone.FREEZE_LIFTED: lambda d: (
        "Your freeze was lifted",
        (f"Your freeze is lifted from {_day(d['starts_at'])} until {_day(d['ends_at'])}: lenders may read your "
         "file for new credit during that time only. " if "ends_at" in d else
         "Your freeze is removed: lenders may read your file for new credit again, with your consent. ") + UNSURE),
    Milestone.ITEMS_BLOCKED: lambda d: (
        "Items blocked after your identity-theft report",
        f"{d['accounts']} account(s) named in your identity-theft report are kept out of every report of your "
        "file. The lenders are told. " + UNSURE),
}


def notice_text(notice: Notice) -> tuple[str, str]:
    """The subject and body a notice is sent with."""
    return TEXTS[notice.milestone](notice.details)


def register(listener: Listener) -> Callable[[], None]:
    """Send every later notice to ``listener`` too; returns a function that unregisters it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def notify_person(session: Any, *, vault: PiiVault, person_id: int, milestone: Milestone,
                  details: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Owe ``person_id`` a notice of ``milestone``: a sealed outbox message written on ``session`` (the
    caller's transaction), and handed to every registered listener."""
    notice = Notice(person_id, milestone, dict(details or {}))
    subject, body = notice_text(notice)
    notifications.enqueue(session, [notifications.compose(
        vault, kind=milestone.value, subject=subject, body=body, now=now or datetime.now(UTC),
        person_id=person_id)])
    for listener in list(_listeners):
        listener(session, notice)
