"""``openbureau notifications``: deliver the outbox through the configured channel (operator)."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import typer

from openbureau.cli.console import console, reports_errors
from openbureau.kit.db import session_scope
from openbureau.notifications import service as notifications
from openbureau.notifications.channels import channel_from_settings
from openbureau.notifications.repository import NotificationRepository
from openbureau.people.service import contact_of
from openbureau.runtime import Runtime, open_runtime

app = typer.Typer(help="Notifications to the people in the files: the outbox and its delivery.", no_args_is_help=True)


@app.command("dispatch")
@reports_errors
def dispatch(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most messages taken per run.")] = 500,
    loop: Annotated[bool, typer.Option(help="Keep dispatching every --every seconds until interrupted.")] = False,
    every: Annotated[float, typer.Option(min=0.5, max=3600, help="Seconds between runs with --loop.")] = 5.0,
) -> None:
    """Deliver the messages that are due (OPENBUREAU_NOTIFY_CHANNEL: file, smtp or sms), retrying failures
    with backoff; print what each run did."""
    runtime = open_runtime()
    settings = runtime.settings
    channel = channel_from_settings(settings)
    resolve = contact_of(runtime.vault)
    while True:
        outcome = notifications.dispatch(runtime.engine, vault=runtime.vault, channel=channel, resolve=resolve,
                                         limit=limit, max_attempts=settings.notify_max_attempts,
                                         retry_seconds=settings.notify_retry_seconds)
        if outcome.handled or not loop:
            with session_scope(runtime.engine, read_only=True) as session:
                waiting = NotificationRepository(session).counts().get("pending", 0)
            console.print(f"{channel.name}: {outcome.sent:,} sent, {outcome.retried:,} to retry, "
                          f"{outcome.failed:,} failed, {outcome.expired:,} expired; {waiting:,} pending")
        if not loop:
            return
        time.sleep(every)


def dispatch_in_background(runtime: Runtime, *, every: float = 2.0, limit: int = 100) -> threading.Event:
    """Dispatch at most ``limit`` messages every ``every`` seconds in a daemon thread (the demo's server, so
    that a sign-in code, which goes first, arrives while it serves, and the backlog of the replayed consents'
    notices drains without taking the cores from the server); set the returned event to stop it."""
    stop = threading.Event()
    channel, resolve = channel_from_settings(runtime.settings), contact_of(runtime.vault)

    def run() -> None:
        while not stop.wait(every):
            try:
                notifications.dispatch(runtime.engine, vault=runtime.vault, channel=channel, resolve=resolve,
                                       limit=limit, max_attempts=runtime.settings.notify_max_attempts,
                                       retry_seconds=runtime.settings.notify_retry_seconds)
            except Exception:  # noqa: BLE001 - a busy database or a bad message must not end the demo's dispatch
                continue

    threading.Thread(target=run, name="notifications", daemon=True).start()
    return stop
