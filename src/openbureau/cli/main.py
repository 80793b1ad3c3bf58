"""The ``openbureau`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from openbureau import __version__
from openbureau.cli import audit, consent, disputes, identity, intake, keys, members, model, quality, sim
from openbureau.cli.console import console, reports_errors
from openbureau.cli.demo import demo
from openbureau.cli.metro2 import app as metro2_app
from openbureau.cli.report import report, retention_app

app = typer.Typer(
    help="OpenBureau: an open-source consumer credit reference platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(members.app, name="members")
app.add_typer(intake.app, name="intake")
app.add_typer(consent.app, name="consent")
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(quality.app, name="quality")
app.add_typer(identity.app, name="identity")
app.add_typer(sim.app, name="sim")
app.add_typer(disputes.app, name="disputes")
app.add_typer(model.app, name="model")
app.add_typer(metro2_app, name="metro2")
app.add_typer(retention_app, name="retention")
app.command("demo")(demo)
app.command("report")(report)

db_app = typer.Typer(help="The bureau's database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest revision."""
    from openbureau.migrations import upgrade
    from openbureau.runtime import open_runtime

    runtime = open_runtime(migrate=False)
    upgrade(runtime.engine)
    console.print(f"Database at the newest revision: {runtime.settings.resolved_database_url.split('@')[-1]}")


@db_app.command("cluster")
@reports_errors
def db_cluster() -> None:
    """Rewrite account states in person order, so that each person's file is read from a few pages (run after
    a month's loads; loads wait meanwhile; SQLite needs free disk for a second copy of the table)."""
    from openbureau.audit.service import operator_code
    from openbureau.runtime import open_runtime
    from openbureau.tradelines.tasks import cluster_by_person

    runtime = open_runtime()
    with console.status("rewriting account states in person order"):
        outcome = cluster_by_person(runtime.engine, actor_code=operator_code())
    console.print(f"{outcome.rows:,} account states rewritten in person order in {outcome.seconds:.1f} s")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the REST API (docs at /v1/docs)."""
    import uvicorn

    from openbureau.api.app import server_limits
    from openbureau.kit.settings import get_settings

    console.print(f"Serving the API on http://{host}:{port}/v1/docs")
    uvicorn.run("openbureau.api.main:app", host=host, port=port, workers=workers, log_level="warning",
                **server_limits(get_settings()))


@app.command("version")
def version() -> None:
    """Print the version."""
    console.print(__version__)
