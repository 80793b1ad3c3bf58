"""Signed checkpoints of the audit chain, appended to a file outside the database.

A checkpoint is one line of JSON: the chain's newest committed entry (``seq``, ``hash``), the seq from
which the chain is keyed (``keyed_from``; the entries before it were written before keying and are plain
SHA-256), the time, the SHA-256 of the previous line (``prev``) and an Ed25519 signature (RFC 8032) over
the canonical JSON of all of these. The first line of a file is its genesis: the head of the log when the
file was started. Lines only ever grow in ``seq``; writers in several processes append under an exclusive
lock on the file.

Somebody who can write to the database but not to this file cannot hide a removed tail or an emptied log
(the newest checkpoint names an entry the log no longer reaches); somebody who edits the file without the
signing key breaks a signature or a ``prev`` link. See docs/audit.md.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
CHECKPOINT_VERSION = "openbureau.audit.checkpoint.v1"
_NO_LINE = "0" * 64
_TAIL_READ = 4096  # a line is about 300 bytes; the last one is within this many


class CheckpointError(Exception):
    """The checkpoint file is missing, unreadable, or was changed by someone without the signing key."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed checkpoint: the chain reached ``seq`` with ``hash`` at ``at``."""

    seq: int
    hash: str
    keyed_from: int
    at: str


def checkpoint_path(directory: Path) -> Path:
    """The checkpoint file in ``directory``."""
    return Path(directory) / CHECKPOINT_FILE


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _line(signing: Ed25519PrivateKey, *, seq: int, hash_: str, keyed_from: int, prev: str) -> bytes:
    body = {"v": CHECKPOINT_VERSION, "seq": seq, "hash": hash_, "keyed_from": keyed_from,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "prev": prev}
    body["sig"] = base64.b64encode(signing.sign(_canonical(body))).decode()
    return _canonical(body) + b"\n"


def _last_line(fd: int) -> bytes | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - _TAIL_READ)
    tail = os.pread(fd, size - start, start)
    lines = tail.rstrip(b"\n").split(b"\n")
    return lines[-1]


def append_checkpoint(directory: Path, signing: Ed25519PrivateKey, *, seq: int, hash_: str,
                      keyed_from: int | None = None) -> bool:
    """Append a checkpoint of the chain at (``seq``, ``hash_``), unless the file already has one as new.

    ``keyed_from`` is needed only to start a file (its genesis line); later lines repeat the genesis's.
    Returns whether a line was written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(checkpoint_path(directory), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # writers in other processes append between our read and write otherwise
        last = _last_line(fd)
        if last is None:
            if keyed_from is None:
                raise CheckpointError("the checkpoint file has no genesis line")
            prev = _NO_LINE
        else:
            previous = json.loads(last)
            if previous["seq"] >= seq:
                return False
            keyed_from, prev = previous["keyed_from"], hashlib.sha256(last).hexdigest()
        os.write(fd, _line(signing, seq=seq, hash_=hash_, keyed_from=keyed_from, prev=prev))
        os.fsync(fd)
        return True
    finally:
        os.close(fd)


def read_checkpoints(directory: Path, public: Ed25519PublicKey) -> Iterator[Checkpoint]:
    """Every checkpoint of the file in order, each checked: signature, link to the line before, growing seq.

    Raises:
        CheckpointError: No file, or a line that was changed, removed, inserted or is not signed by the key.
    """
    path = checkpoint_path(directory)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint file at {path}: the log cannot be checked for a removed tail") from None
    with handle:
        prev, prev_seq, keyed_from = _NO_LINE, -1, None
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\n")
            where = f"checkpoint line {number} of {path}"
            try:
                body = json.loads(line)
                signature = base64.b64decode(body.pop("sig"), validate=True)
                public.verify(signature, _canonical(body))
            except (ValueError, KeyError, TypeError, AttributeError, InvalidSignature):
                raise CheckpointError(f"{where} is not signed by the bureau's checkpoint key: "
                                      "the file was changed") from None
            if body.get("v") != CHECKPOINT_VERSION or body["prev"] != prev:
                raise CheckpointError(f"{where} does not follow the line before it: lines were removed, "
                                      "inserted or reordered")
            if body["seq"] <= prev_seq or (keyed_from is not None and body["keyed_from"] != keyed_from):
                raise CheckpointError(f"{where} goes back in the chain: the file was changed")
            prev, prev_seq, keyed_from = hashlib.sha256(line).hexdigest(), body["seq"], body["keyed_from"]
            yield Checkpoint(body["seq"], body["hash"], body["keyed_from"], body["at"])
        if keyed_from is None:
            raise CheckpointError(f"the checkpoint file {path} is empty: the log cannot be checked for a "
                                  "removed tail")


class CheckpointWriter:
    """Writes checkpoints in a thread of its own, so that an appender only hands over its new head.

    ``offer`` (called after each commit of audit entries) costs a lock and an event; the thread signs and
    appends (with an fsync) at most once every ``every`` seconds, always the newest head offered, so a
    burst of commits becomes one line.
    """

    def __init__(self, directory: Path, signing: Ed25519PrivateKey, *, every: float) -> None:
        self.directory, self.signing, self.every = Path(directory), signing, every
        self._head: tuple[int, str] | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def offer(self, seq: int, hash_: str) -> None:
        """A new head was committed: checkpoint it soon."""
        with self._lock:
            if self._head is None or seq > self._head[0]:
                self._head = (seq, hash_)
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(target=self._run, name="audit-checkpoint", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self) -> None:
        """Write the newest offered head now, in this thread (after any write the thread has under way)."""
        with self._write_lock:
            with self._lock:
                head, self._head = self._head, None
            if head is not None and append_checkpoint(self.directory, self.signing, seq=head[0], hash_=head[1]):
                self.written += 1

    def stop(self) -> None:
        """Write what is pending and stop the thread."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait()
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the next offer retries; verification shows how old the newest checkpoint is
                log.error("audit checkpoint could not be written to %s", self.directory, exc_info=True)
            self._stopped.wait(self.every)
