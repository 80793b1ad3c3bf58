"""``openbureau keys``: the encryption keys of personal data, their use, and their rotation."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, print_table, record_progress, reports_errors
from openbureau.intake import quarantine
from openbureau.kit.crypto import (
    PiiVault,
    finish_index_rotation,
    load_keys,
    rotate_encryption_key,
    rotate_index_key,
)
from openbureau.kit.db import intake_lock, session_scope
from openbureau.kit.errors import Conflict
from openbureau.kit.keyrotation import (
    encrypted_columns,
    index_columns,
    key_counts,
    pending,
    reindex,
    rewrite,
    row_count,
)
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
    print_table(table, console)
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


@app.command("rotate-index")
@reports_errors
def rotate_index(
    resume: Annotated[bool, typer.Option(
        help="Finish an interrupted index rotation without starting another.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per transaction.")] = 2_000,
) -> None:
    """Make a new blind-index key current and recompute every blind index under it, in short batches.

    Lookups try the new and the retiring key until every row is done, so persons and consents are found
    throughout; then the retiring key is dropped. Killed at any moment, run it again with --resume.
    """
    runtime = open_runtime()
    keys = load_keys(runtime.settings)
    if keys.retiring_index is not None and not resume:
        raise Conflict("a blind-index rotation is under way: finish it with `openbureau keys rotate-index "
                       "--resume`", code="ROTATION_UNFINISHED")
    if keys.retiring_index is None:
        if resume:
            console.print("no blind-index rotation is under way", highlight=False)
            return
        new_id = rotate_index_key(runtime.settings)
        _audit(runtime, "key.rotate_index", {"index_key_id": new_id})
    vault = PiiVault(load_keys(runtime.settings))
    changed = 0
    # Loads wait meanwhile (they would number persons under a key being replaced); lookups do not.
    with intake_lock(runtime.engine), record_progress() as bar:
        # Two passes: serving processes follow the new key within a second (``PiiVault``'s key-file watch),
        # and the second pass re-indexes whatever one of them wrote under the retiring key just before.
        for rewrite_pass in (1, 2):
            if rewrite_pass == 2:
                time.sleep(2.0)
            for column in index_columns(target_metadata):
                task = bar.add_task(f"re-indexing {column.name} (pass {rewrite_pass})",
                                    total=row_count(runtime.engine, column), rate="")
                changed += reindex(runtime.engine, column, vault, batch_size=batch_size,
                                   on_batch=lambda n, task=task: bar.advance(task, n))
    # Persons and consents were re-indexed one table after the other: a record held at intake meanwhile
    # (its consent under one key, its person under the other) is released now.
    with session_scope(runtime.engine, write=True) as session:
        released = quarantine.release(session, vault=vault, profile=runtime.policy.profile)
    finish_index_rotation(runtime.settings)
    _audit(runtime, "key.reindex", {"changed": changed, "released": released})
    console.print(f"{changed} blind indexes recomputed; {released} held records released; the retiring index "
                  "key is no longer used", highlight=False)
    err_console.print("Restart serving processes so that they look up under the new index key only.",
                      highlight=False)


def _audit(runtime, action: str, details: dict) -> None:
    with session_scope(runtime.engine, write=True) as session:
        audit.record(session, actor_member_id=None, actor_code=audit.operator_code(), action=action,
                     details=details)
