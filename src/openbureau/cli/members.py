"""``openbureau members``: register institutions and manage their API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.kit.db import session_scope
from openbureau.members import service
from openbureau.members.models import Role
from openbureau.members.schemas import MemberCreate
from openbureau.runtime import open_runtime

app = typer.Typer(help="Member institutions, their roles and API keys.", no_args_is_help=True)


@app.command("add")
@reports_errors
def add(
    code: Annotated[str, typer.Option(help="Upper-case member code, e.g. BANK_A.")],
    name: Annotated[str, typer.Option(help="The institution's name.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
) -> None:
    """Register an institution and print its first API key (shown only this once)."""
    try:
        data = MemberCreate(code=code, name=name, roles=role)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(f"{first['loc'][0]}: {first['msg']}") from exc
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        member, key = service.add_member(session, principal=audit.terminal_operator(), data=data)
        roles = ", ".join(sorted(member.roles))
    console.print(f"Registered [bold]{code}[/] ({name}) with roles: {roles}")
    console.print(f"API key (shown once, store it now): [bold green]{key.api_key}[/]")


@app.command("list")
@reports_errors
def list_members() -> None:
    """List every member with its roles and keys."""
    runtime = open_runtime()
    table = Table("code", "name", "roles", "keys (prefix: state)")
    with session_scope(runtime.engine) as session:
        for m in service.list_members(session):
            keys = ", ".join(f"{k.prefix}: {'revoked' if k.revoked_at else 'active'}" for k in m.keys)
            table.add_row(m.code, m.name, ", ".join(sorted(m.roles)), keys)
    print_table(table, console)


@app.command("issue-key")
@reports_errors
def issue_key(code: Annotated[str, typer.Argument(help="The member's code.")]) -> None:
    """Issue another API key for a member (for rotation)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        key = service.issue_key(session, principal=audit.terminal_operator(),
                                member=service.get_member(session, code=code))
    console.print(f"API key for {code} (shown once): [bold green]{key.api_key}[/]")


@app.command("revoke-key")
@reports_errors
def revoke_key(prefix: Annotated[str, typer.Argument(help="The key's prefix (see `members list`).")]) -> None:
    """Revoke an API key: refused by serving processes within OPENBUREAU_API_KEY_CACHE_SECONDS (2 s)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        key = service.revoke_key(session, principal=audit.terminal_operator(), prefix=prefix)
    console.print(f"Revoked key {key.prefix} of {key.member.code}.")
