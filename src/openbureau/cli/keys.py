"""``openbureau keys``: the encryption keys of personal data, their use, and their rotation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, record_progress, reports_errors
from openbureau.kit.crypto import PiiVault, load_keys, rotate_encryption_key
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict
from openbureau.kit.keyrotation import encrypted_columns, key_counts, pending, rewrite
from openbureau.migrations.metadata import target_metadata
from openbureau.runtime import open_runtime

app = typer.Typer(help="Encryption keys of personal data: status and rotation.", no_args_is_help=True)


@app.command("status")
@reports_errors
def status() -> None:
    """How many ciphertexts each key id sealed, per table and column; which key is current."""
    runtime = open_runtime()
    keys = load_keys(runtime.settings)
    table = Table("table.column", "key id", "ciphertexts")
    for column in encrypted_columns(target_metadata):
        counts = key_counts(runtime.engine, column)
        for key_id in sorted(counts) or [None]:
            mark = " (current)" if key_id == keys.key_id else ""
            table.add_row(column.name, "-" if key_id is None else f"{key_id}{mark}",
                          str(counts.get(key_id, 0)))
    console.print(table)
    retired = sorted(k for k in keys.keyring if k != keys.key_id)
    console.print(f"current encryption key: {keys.key_id}; retired keys kept for decryption: "
                  f"{', '.join(map(str, retired)) or 'none'}", highlight=False)


@app.command("rotate")
@reports_errors
def rotate(
    resume: Annotated[bool, typer.Option(
        help="Finish an interrupted rotation: re-encrypt what is left, without making another key.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per transaction.")] = 2_000,
) -> None:
    """Make a new encryption key current and re-encrypt every stored ciphertext under it, in short batches."""
    runtime = open_runtime()
    columns = encrypted_columns(target_metadata)
    keys = load_keys(runtime.settings)
    left = sum(pending(runtime.engine, c, keys.key_id) for c in columns)
    if not resume:
        if left:
            raise Conflict(f"{left} ciphertexts are not yet under the current key {keys.key_id}: finish that "
                           "rotation first with `openbureau keys rotate --resume`", code="ROTATION_UNFINISHED")
        new_id = rotate_encryption_key(runtime.settings)
        _audit(runtime, "key.rotate", {"key_id": new_id})
        keys = load_keys(runtime.settings)
        left = sum(pending(runtime.engine, c, keys.key_id) for c in columns)
    vault = PiiVault(keys)
    done = 0
    with record_progress() as bar:
        task = bar.add_task(f"re-encrypting under key {keys.key_id}", total=left, rate="")
        for column in columns:
            done += rewrite(runtime.engine, column, vault, batch_size=batch_size,
                            on_batch=lambda n: bar.advance(task, n))
    _audit(runtime, "key.reencrypt", {"key_id": keys.key_id, "rewritten": done})
    console.print(f"current encryption key: {keys.key_id}; {done} ciphertexts re-encrypted", highlight=False)
    err_console.print("Restart serving processes so that they, too, seal new data under the new key; "
                      "then run `openbureau keys rotate --resume` once more.", highlight=False)


def _audit(runtime, action: str, details: dict) -> None:
    with session_scope(runtime.engine, write=True) as session:
        audit.record(session, actor_member_id=None, actor_code=audit.operator_code(), action=action,
                     details=details)
