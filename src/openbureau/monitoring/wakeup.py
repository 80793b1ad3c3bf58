"""Waking the webhook workers when a trigger is committed, so a delivery starts at once rather than at the
worker's next look.

The database stays the queue and the record of truth: a wake carries nothing, and a lost one costs only the
wait until the worker's next look (``poll``). In one process (``openbureau serve`` on the embedded default,
whose thread delivers) a wake is an ``threading.Event`` set when the transaction that wrote the triggers
commits. Across processes, with ``OPENBUREAU_REDIS_URL``, the committing process also pushes a wake through
Redis (:mod:`openbureau.monitoring.wakequeue`), which the ``openbureau webhooks run`` processes wait on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Connection, event
from sqlalchemy.pool import Pool

_events: set[threading.Event] = set()
_senders: list[Callable[[], None]] = []
_lock = threading.Lock()


def listen(woken: threading.Event) -> None:
    """Set ``woken`` whenever triggers are committed in this process."""
    with _lock:
        _events.add(woken)


def forget(woken: threading.Event) -> None:
    """Stop setting ``woken``."""
    with _lock:
        _events.discard(woken)


def send_with(sender: Callable[[], None]) -> Callable[[], None]:
    """Also call ``sender`` (a wake of other processes) when triggers are committed; the function that stops it."""
    with _lock:
        _senders.append(sender)

    def stop() -> None:
        with _lock:
            if sender in _senders:
                _senders.remove(sender)
    return stop


def wake() -> None:
    """Wake this process's workers and, through the senders, the others (errors of a sender are its own)."""
    with _lock:
        events, senders = list(_events), list(_senders)
    for woken in events:
        woken.set()
    for sender in senders:
        sender()


def on_commit(conn: Connection) -> None:
    """Wake the workers once the transaction of ``conn`` has committed (nothing when it rolls back).

    SQLAlchemy's ``commit`` event comes before the database's commit, when a worker could not see the rows
    yet: it only marks the connection, and the wake is sent when the connection is given back to its pool,
    after the commit."""
    with _lock:
        anyone = bool(_events or _senders)
    if anyone:
        event.listen(conn, "commit", lambda committing: committing.info.__setitem__(_COMMITTED, True), once=True)


_COMMITTED = "openbureau.monitoring.committed"


@event.listens_for(Pool, "checkin")
def _checked_in(_dbapi_connection, record) -> None:
    if record is not None and record.info.pop(_COMMITTED, False):
        wake()
