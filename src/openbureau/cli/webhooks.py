"""``openbureau webhooks``: deliver the monitoring lenders' webhooks (the worker) and show where they stand."""

from __future__ import annotations

from typing import Annotated

import typer

from openbureau.cli.console import console, reports_errors, until_interrupted
from openbureau.monitoring.delivery import Worker, WorkerSettings
from openbureau.runtime import open_runtime

app = typer.Typer(help="Webhooks of portfolio monitoring: the delivery worker and the score watch.",
                  no_args_is_help=True)


@app.command("run")
@reports_errors
def run(
    once: Annotated[bool, typer.Option(help="Deliver what is due now, then stop.")] = False,
    poll: Annotated[float, typer.Option(min=0.05, max=60, help="Seconds between looks when nothing is due.")] = 0.5,
) -> None:
    """Deliver due webhooks until interrupted (SIGINT, SIGTERM): signed, retried with backoff, at least once
    and in order per registration. Several workers may run at once (each delivery is leased to one)."""
    runtime = open_runtime()
    worker = Worker(runtime.engine, vault=runtime.vault, config=WorkerSettings.from_settings(runtime.settings))
    try:
        if once:
            outcome = worker.run_once()
        else:
            stop = until_interrupted()
            settings = runtime.settings
            if settings.redis_url is not None:  # woken at once when another process commits triggers
                from openbureau.monitoring import wakequeue

                wakequeue.listen(settings.redis_url.get_secret_value(), settings.redis_key_prefix, worker.woken, stop)
            console.print("Delivering webhooks; Ctrl-C to stop.")
            outcome = worker.run(stop, poll=poll)
    finally:
        worker.close()
    console.print(f"{outcome.delivered:,} delivered, {outcome.retried:,} to retry, {outcome.dead:,} dead")


@app.command("scores")
@reports_errors
def scores() -> None:
    """Look at the score of every monitored subject whose lender set a score threshold; write a score_change
    trigger for each score that moved by it since the score last told (run it daily, or as often as wished)."""
    from openbureau.reports.score_watch import watch_scores

    runtime = open_runtime()
    result = watch_scores(runtime.engine, policy=runtime.policy)
    console.print(f"{result.looked:,} registrations looked at: {result.triggers:,} score changes, "
                  f"{result.baselines:,} first scores, {result.unscorable:,} not scorable")
