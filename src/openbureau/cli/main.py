"""The ``openbureau`` command.

Sub-commands are imported when they run, not when the command starts: ``openbureau --help`` loads neither
Polars, Splink, WeasyPrint nor FastAPI (``tests/cli/test_startup.py``).
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from openbureau import __version__
from openbureau.cli.console import console, err_console, reports_errors

# name: (module, attribute, one line of help shown by ``openbureau --help``), in the order of the help.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "members": ("openbureau.cli.members", "app", "Member institutions, their roles and API keys."),
    "intake": ("openbureau.cli.intake", "app", "Submit furnishing files and read their findings."),
    "events": ("openbureau.cli.events", "app", "Lending events reported the day they happen: submit, reconcile, "
                                               "discrepancies."),
    "consent": ("openbureau.cli.consent", "app", "Consents to furnish and to query; the quarantine they unblock."),
    "audit": ("openbureau.cli.audit", "app", "The audit log of every access to personal data."),
    "notifications": ("openbureau.cli.notifications", "app", "Notifications to the people in the files: deliver "
                                                            "the outbox."),
    "inquiries": ("openbureau.cli.inquiries", "app", "Batch inquiries: submit a lender's file of subjects, follow "
                                                     "it, download its answers; run the worker."),
    "webhooks": ("openbureau.cli.webhooks", "app", "Webhooks of portfolio monitoring: run the delivery worker."),
    "keys": ("openbureau.cli.keys", "app", "Encryption keys of personal data: status and rotation."),
    "quality": ("openbureau.cli.quality", "app", "Data-quality scorecards per furnisher and market statistics."),
    "identity": ("openbureau.cli.identity", "app", "Identity resolution: link, review, merge and split persons."),
    "sim": ("openbureau.cli.sim", "app", "Synthetic Chinese consumer credit market for demos, tests and evaluation."),
    "disputes": ("openbureau.cli.disputes", "app", "Disputes of items of a person's file, and their legal deadlines."),
    "fraud": ("openbureau.cli.fraud", "app", "Fraud: rings of persons sharing contact details (build them after "
                                             "loads)."),
    "protections": ("openbureau.cli.protections", "app", "Fraud alerts, security freezes and identity-theft blocks, "
                                                         "at the person's request."),
    "authorities": ("openbureau.cli.authorities", "app", "Requests by authorities: the transparency report, and "
                                                         "the operator's list."),
    "enterprises": ("openbureau.cli.enterprises", "app", "Enterprise borrowers: an enterprise's report for a member "
                                                         "(logged and audited)."),
    "people": ("openbureau.cli.people", "app", "The people in the files: everything held about one of them, "
                                               "exported for them."),
    "prescreen": ("openbureau.cli.prescreen", "app", "Prescreening: a lender's firm-offer lists; the persons' "
                                                     "opt-out at the counter."),
    "model": ("openbureau.cli.model", "app", "Scorecards: train on the bureau or on any table, evaluate, import, "
                                             "release."),
    "retention": ("openbureau.cli.report", "retention_app", "Retention of negative information and of kept files."),
    "demo": ("openbureau.cli.demo", "demo", "Build a demo bureau: members, a simulated market, every file ingested; "
                                            "then serve it."),
    "metro2": ("openbureau.cli.metro2", "app", "Metro 2 (CRRG) files: read with every error located, write from "
                                               "standard columns."),
    "report": ("openbureau.cli.report", "report", "The person's own report, everything shown (an operator serving "
                                                  "the person: logged and audited)."),
}
# Commands that make no bureau, or say themselves which one they open.
NO_BUREAU = {"demo", "sim", "metro2", "version", "serve", "db"}
SUB_ARGS = "openbureau.sub_args"


def load_command(name: str) -> Any:
    """The click command of the lazy sub-command ``name`` (imports its module)."""
    module, attribute, _ = LAZY_COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    wrapper = typer.Typer(pretty_exceptions_show_locals=False)
    if isinstance(target, typer.Typer):
        wrapper.add_typer(target, name=name)
        return typer.main.get_command(wrapper).commands[name]  # type: ignore[attr-defined]
    wrapper.command(name)(target)
    command = typer.main.get_command(wrapper)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The root group: lists every sub-command by name and help, imports one only to run it or show its help."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Lazy commands first (in their order), then those defined here."""
        return [*LAZY_COMMANDS, *(n for n in super().list_commands(ctx) if n not in LAZY_COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A loaded command, or a stand-in carrying the help line of one not loaded yet (for the listing)."""
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        return TyperCommand(cmd_name, help=LAZY_COMMANDS[cmd_name][2])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Import the command about to run."""
        ctx.meta[SUB_ARGS] = args[1:]
        if args and args[0] in LAZY_COMMANDS and args[0] not in self.commands:
            self.commands[args[0]] = load_command(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyGroup,
    help="OpenBureau: an open-source consumer credit reference platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(ctx: typer.Context) -> None:
    """OpenBureau: an open-source consumer credit reference platform."""
    if ctx.invoked_subcommand in NO_BUREAU or ctx.resilient_parsing or "--help" in ctx.meta.get(SUB_ARGS, ()):
        return
    from openbureau.kit.settings import get_settings

    settings = get_settings()
    if settings.database_url is None and not (settings.data_dir / "bureau.db").exists():
        err_console.print(f"[yellow]note[/] no bureau in {settings.data_dir.resolve()} (OPENBUREAU_DATA_DIR); a new, "
                          "empty one is made there", soft_wrap=True, highlight=False)


db_app = typer.Typer(help="The bureau's database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest revision."""
    from openbureau.migrations import upgrade
    from openbureau.runtime import open_runtime

    runtime = open_runtime(migrate=False)
    upgrade(runtime.engine, pg_partitions=runtime.settings.pg_partitions)
    console.print(f"Database at the newest revision: {runtime.settings.resolved_database_url.split('@')[-1]}")


@db_app.command("cluster")
@reports_errors
def db_cluster() -> None:
    """Rewrite account states in person order, so that each person's file is read from a few pages (run after
    a month's loads). Inquiries and consents go on meanwhile; loads and retention runs wait; the database
    needs free disk for a second copy of the table."""
    from rich.progress import MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    from openbureau.audit.service import operator_code
    from openbureau.cli.console import progress
    from openbureau.runtime import open_runtime
    from openbureau.tradelines.tasks import cluster_by_person

    runtime = open_runtime()
    with progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as bar:
        task = bar.add_task("account states copied in person order", total=None)
        outcome = cluster_by_person(runtime.engine, actor_code=operator_code(),
                                    progress=lambda n: bar.update(task, advance=n))
    console.print(f"{outcome.rows:,} account states rewritten in person order in {outcome.seconds:.1f} s")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    init: Annotated[bool, typer.Option("--init", help="Serve even a new, empty bureau (made if missing).")] = False,
    operator_console: Annotated[bool, typer.Option(
        "--operator-console", help="Also serve the operator's pages (/operator), on a loopback address only; "
        "sign in with a code from `openbureau members console-code`.")] = False,
) -> None:
    """Serve the REST API (docs at /v1/docs) and the portal (at /) of the bureau in OPENBUREAU_DATA_DIR (or OPENBUREAU_DATABASE_URL)."""
    import uvicorn

    from openbureau.api.app import server_limits
    from openbureau.kit.settings import get_settings

    if operator_console:
        if host not in ("127.0.0.1", "::1", "localhost"):
            err_console.print("[bold red]error[/] OPERATOR_CONSOLE_EXPOSED: the operator's pages are served on a "
                              "loopback address only (--host 127.0.0.1)", soft_wrap=True, highlight=False)
            raise typer.Exit(1)
        os.environ["OPENBUREAU_OPERATOR_CONSOLE"] = "1"  # read by the app in each worker (web.main)
        get_settings.cache_clear()
    settings = get_settings()
    where = settings.data_dir.absolute()
    database = settings.resolved_database_url.split("@")[-1]
    console.print(f"Data directory: {where} (database: {database})", soft_wrap=True, highlight=False)
    if not init and _empty_bureau(settings):
        err_console.print(f"[bold red]error[/] EMPTY_BUREAU: no bureau with members in {where}: set "
                          "OPENBUREAU_DATA_DIR (or OPENBUREAU_DATABASE_URL) to the bureau's, or pass --init to serve a "
                          "new, empty one", soft_wrap=True, highlight=False)
        raise typer.Exit(1)
    console.print(f"Serving the portal on http://{host}:{port}/ and the API on http://{host}:{port}/v1/docs")
    uvicorn.run("openbureau.web.main:app", host=host, port=port, workers=workers, log_level="warning",
                **server_limits(settings))


def _empty_bureau(settings: Any) -> bool:
    """Whether the bureau named by ``settings`` is missing or has no member yet (nothing to serve)."""
    if settings.database_url is None and not (settings.data_dir / "bureau.db").exists():
        return True
    from openbureau.kit.db import session_scope
    from openbureau.members.service import list_members
    from openbureau.runtime import open_runtime

    with session_scope(open_runtime(settings).engine) as session:
        return not list_members(session)


@app.command("version")
def version() -> None:
    """Print the version."""
    console.print(__version__)
