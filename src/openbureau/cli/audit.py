"""``openbureau audit``: verify the keyed hash chain and signed checkpoints of the audit log, list entries."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from openbureau.audit import service
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.kit.db import session_scope
from openbureau.runtime import open_runtime

app = typer.Typer(help="The audit log of every access to personal data.", no_args_is_help=True)


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter("expected SEQ:HASH, e.g. 1042:9f86d0…(64 hex digits)", param_hint="--anchor")
    return int(seq), digest.lower()


@app.command("verify")
@reports_errors
def verify(
    anchor: Annotated[str | None, typer.Option(
        help="SEQ:HASH printed by an earlier run and kept elsewhere; checked like a checkpoint.")] = None,
) -> None:
    """Recompute the keyed chain and check it against the signed checkpoints; exit 1 at the first break."""
    expected = _anchor(anchor)
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        result = service.verify(session, anchor=expected)
    if result.ok:
        console.print(f"chain intact: {result.entries} entries, last seq {result.last_seq or 0}, "
                      f"last hash {result.last_hash or service.GENESIS}", soft_wrap=True, highlight=False)
        console.print(f"keyed from seq {result.keyed_from}; signed checkpoints since {result.checkpoints_since}, "
                      f"newest: seq {result.checkpoint_seq} at {result.checkpoint_at}", soft_wrap=True, highlight=False)
        return
    where = f"entry {result.first_broken_seq}" if result.first_broken_seq is not None else "its checkpoints"
    console.print(f"chain broken at {where}: {result.reason}", soft_wrap=True, highlight=False, markup=False)
    raise typer.Exit(1)


@app.command("public-key")
@reports_errors
def public_key() -> None:
    """Print the Ed25519 public key (base64) that verifies the signed checkpoints; it may be published."""
    runtime = open_runtime()
    console.print(runtime.audit.keys.public_text(), soft_wrap=True, highlight=False)


@app.command("list")
@reports_errors
def list_entries(
    person_id: Annotated[int | None, typer.Option(help="Only entries about this person.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only entries by this actor code.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. inquiry.read.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many of the newest entries first.")] = 0,
) -> None:
    """List entries, newest first."""
    runtime = open_runtime()
    table = Table("seq", "at (UTC)", "actor", "action", "person", "purpose", "details")
    for i in (0, 1, 4):  # seq, time and person read badly when broken across lines
        table.columns[i].no_wrap = True
    for i in (2, 3, 5, 6):  # codes and JSON have no spaces: fold them rather than cut them off
        table.columns[i].overflow = "fold"
    with session_scope(runtime.engine) as session:
        for e in service.list_entries(session, person_id=person_id, actor_code=actor, action=action,
                                      limit=limit, offset=offset):
            # Text, not markup: stored values are shown as they are, brackets and all.
            table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), Text(e.actor_code), Text(e.action),
                          "" if e.person_id is None else str(e.person_id), Text(e.purpose or ""), Text(e.details))
    print_table(table, console)
