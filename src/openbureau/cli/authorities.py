"""``openbureau authorities``: the published transparency report of requests by authorities, and the
operator's list of the requests (ids, kinds and dates only; the texts stay encrypted). Authorities make their
requests through the API (``POST /v1/authority-requests``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.authorities import service
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.kit.db import session_scope
from openbureau.runtime import open_runtime

app = typer.Typer(help="Requests by authorities: the transparency report, and the operator's list.",
                  no_args_is_help=True)


@app.command("transparency")
@reports_errors
def transparency(year: Annotated[int | None, typer.Option(min=2000, max=9998, help="The calendar year (UTC); "
                                                                                  "default: this year.")] = None,
                 json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """The transparency report of one year: counts per quarter, legal basis and authority, small cells
    suppressed (the same report as GET /v1/transparency/authority-requests)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, read_only=True) as session:
        report = service.transparency_report(session, year=year or datetime.now(UTC).year)
    if json_out:
        console.print_json(report.model_dump_json())
        return
    bases = list(report.by_basis)
    table = Table("quarter", "requests", "persons", "non-disclosure", "still under order", *bases,
                  title=f"Requests by authorities, {report.year}")
    for q in report.quarters:
        table.add_row(q.quarter, str(q.requests), str(q.persons_affected), str(q.with_nondisclosure),
                      str(q.still_under_nondisclosure), *(str(q.by_basis[b]) for b in bases))
    table.add_row(f"{report.year}", str(report.requests), str(report.persons_affected),
                  str(report.with_nondisclosure), str(report.still_under_nondisclosure),
                  *(str(report.by_basis[b]) for b in bases), style="bold")
    print_table(table, console)
    if report.by_authority:
        authorities = Table("authority", "name", "requests", title="By authority")
        for a in report.by_authority:
            authorities.add_row(a.authority, a.authority_name, str(a.requests))
        print_table(authorities, console)
    console.print(report.note, highlight=False, soft_wrap=True)


@app.command("requests")
@reports_errors
def requests(limit: Annotated[int, typer.Option(min=1, max=1_000, help="Most requests shown.")] = 100,
             offset: Annotated[int, typer.Option(min=0, help="Requests skipped (newest first).")] = 0) -> None:
    """Every request by an authority, newest first: ids, kinds and dates only (audited)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        listed = service.list_requests(session, principal=audit.terminal_operator(), limit=limit, offset=offset)
    table = Table("id", "at", "authority", "person id", "basis", "non-disclosure until", "shown to person",
                  title="Requests by authorities")
    for r in listed:
        table.add_row(str(r.id), f"{r.at:%Y-%m-%d %H:%M}", r.authority, str(r.person_id), r.basis.value,
                      f"{r.nondisclosure_until:%Y-%m-%d}" if r.nondisclosure_until else "",
                      "yes" if r.shown_to_person else "not yet")
    print_table(table, console)
