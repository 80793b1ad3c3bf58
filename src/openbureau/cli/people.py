"""``openbureau people export``: everything the bureau holds about a person, written as a JSON file by the
operator at the bureau's counter, to hand to the person (identity checked at the counter; audited as
``person.export``).

The file holds the person's data in clear, because it is for the person to read: it is written owner-only
(0600), never over an existing file, and should be deleted once handed over. It is not sealed with
``kit.filecrypt``: that seals under the bureau's own keys, which the person does not hold.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, reports_errors
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.kit.filecrypt import create_private
from openbureau.people.export import export_person
from openbureau.runtime import open_runtime

app = typer.Typer(help="The people in the files: everything held about one of them, for them.", no_args_is_help=True)


@app.command("export")
@reports_errors
def export(id_type: Annotated[str, typer.Option(help="CN_RESIDENT_ID, PASSPORT or OTHER.")],
           id_number: Annotated[str, typer.Option(help="The person's identity number (checked at the counter).")],
           out: Annotated[Path, typer.Option(help="The JSON file to write (must not exist).")]) -> None:
    """Everything the bureau holds about the person, as a JSON file to hand to them (no size limit)."""
    runtime = open_runtime()
    try:
        sink = create_private(out)
    except FileExistsError:
        err_console.print(f"[bold red]error[/] {out} exists: name a new file", highlight=False)
        raise typer.Exit(1) from None
    try:
        with sink, session_scope(runtime.engine, write=True) as session:
            body = export_person(session, vault=runtime.vault, principal=audit.terminal_operator(),
                                 policy=runtime.policy, subject=Subject(id_type=id_type, id_number=id_number),
                                 indent=2)
            sink.write(body)
            sink.flush()
            os.fsync(sink.fileno())
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    console.print(f"Wrote {out} ({len(body):,} bytes), readable by you only. It holds the person's data in clear: "
                  "hand it to them, then delete it.", highlight=False, soft_wrap=True)
