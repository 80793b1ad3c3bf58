"""Where a batch's files are kept: sealed (``kit.filecrypt``, under the bureau's PII key), owner-only, in a
folder of the job under ``data_dir/batches/<member id>/<token>/``: the lender's file (``input.sealed``) until
the job ends, and one part of answers per committed chunk (``part-<chunk>-<attempt>.jsonl.sealed``)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from openbureau.intake.files import file_keyring, private_dir
from openbureau.kit.crypto import load_keys
from openbureau.kit.filecrypt import SealingWriter, create_private, key_id_of, open_sealed
from openbureau.kit.settings import Settings

INPUT = "input.sealed"


def job_dir(settings: Settings, *, subscriber_id: int, token: str) -> Path:
    """The folder of one job's files."""
    return settings.data_dir / "batches" / str(subscriber_id) / token


def make_job_dir(settings: Settings, *, subscriber_id: int, token: str) -> Path:
    """The job's folder, made owner-only (with its parents)."""
    private_dir(settings.data_dir / "batches")
    private_dir(settings.data_dir / "batches" / str(subscriber_id))
    return private_dir(job_dir(settings, subscriber_id=subscriber_id, token=token))


def open_input(settings: Settings, folder: Path):
    """The lender's file, decrypted as it is read (seekable)."""
    return open_sealed(folder / INPUT, keys=file_keyring(settings), buffer_size=1 << 16)


def write_part(settings: Settings, folder: Path, *, chunk: int, lines: list[bytes]) -> str:
    """Seal one chunk's answers into a new file of the job's folder (a name no other attempt has), synced to
    disk before the chunk commits; its name."""
    name = f"part-{chunk:08d}-{secrets.token_hex(4)}.jsonl.sealed"
    key = load_keys(settings).encryption
    with create_private(folder / name) as sink:
        with SealingWriter(sink, key=key, key_id=key_id_of(key)) as writer:
            for line in lines:
                writer.write(line)
        sink.flush()
        os.fsync(sink.fileno())
    return name


def read_part(settings: Settings, folder: Path, name: str) -> Iterator[bytes]:
    """The JSON lines of one part."""
    with open_sealed(folder / name, keys=file_keyring(settings), buffer_size=1 << 16) as stream:
        yield from stream


def remove_input(folder: Path) -> None:
    """Forget the lender's file (the job ended)."""
    (folder / INPUT).unlink(missing_ok=True)


def remove_strays(folder: Path, *, keep: set[str]) -> None:
    """Remove the parts of attempts that never committed."""
    if folder.exists():
        for path in folder.glob("part-*.sealed"):
            if path.name not in keep:
                path.unlink(missing_ok=True)


def remove_job(folder: Path) -> None:
    """Remove every file of a job."""
    shutil.rmtree(folder, ignore_errors=True)
