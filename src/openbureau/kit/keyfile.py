"""The data directory's key file (``keys.json``): read it, and add keys to it safely.

The file holds the embedded default's keys (and the keyring of rotated encryption keys, and the audit
chain's keys when they are not given in settings). It is created with owner-only permissions; every change
is written to a new file that replaces the old one (``os.replace``), under an exclusive lock on a lock file
beside it, so that two processes adding keys at once neither lose one another's keys nor show a reader a
half-written file.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

KEY_FILE = "keys.json"


def key_file_path(data_dir: Path) -> Path:
    """Where the key file of the bureau in ``data_dir`` lives."""
    return Path(data_dir) / KEY_FILE


def read_key_file(data_dir: Path) -> dict[str, Any]:
    """The key file's contents; empty when there is none yet."""
    path = key_file_path(data_dir)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def random_key() -> str:
    """Base64 of 32 random bytes: a fresh AES-256, BLAKE2b, HMAC or Ed25519 key."""
    return base64.b64encode(os.urandom(32)).decode()


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / (KEY_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def update_key_file(data_dir: Path, change: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Apply ``change`` (which edits the dict and says whether it did) to the key file, atomically.

    Returns the file's contents after the change.
    """
    data_dir = Path(data_dir)
    with _locked(data_dir):
        stored = read_key_file(data_dir)
        if not change(stored):
            return stored
        path = key_file_path(data_dir)
        fresh = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(fresh, path)
        return stored


def ensure_entries(data_dir: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The key file, with a fresh random key added under each of ``names`` it lacks."""
    stored = read_key_file(data_dir)
    if all(name in stored for name in names):
        return stored

    def add(keys: dict[str, Any]) -> bool:
        missing = [name for name in names if name not in keys]
        for name in missing:
            keys[name] = random_key()
        return bool(missing)

    return update_key_file(data_dir, add)
