"""Received files: their columns' admissibility, and how the bureau keeps them: sealed, owner-only.

A received file is encrypted as it arrives (``kit.filecrypt``, under the bureau's PII key) into the data
directory's scratch area, its SHA-256 computed over the plaintext on the way (resubmissions are told by
it); it moves to ``submissions/`` only once its header has been accepted, so nothing is kept of a file
refused before its records were read.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.kit.crypto import load_keys
from openbureau.kit.errors import FILE_MISSING_COLUMNS
from openbureau.kit.filecrypt import SealingWriter, create_private, key_id_of
from openbureau.kit.settings import Settings

MAX_FILENAME_CHARS = 255


def banned_columns(columns: list[str], layout: standard.Layout = standard.RECORDS) -> list[str]:
    """Columns whose name names a banned attribute: a whole word of it (``blood_type``, ``Religion``,
    ``genetic-test``), or a Chinese term anywhere in it; ``general_note`` is not ``gene``."""
    words = [w for w in standard.BANNED_ATTRIBUTE_WORDS if w.isascii()]
    terms = [w for w in standard.BANNED_ATTRIBUTE_WORDS if not w.isascii()]
    banned = []
    known = layout.by_name
    for column in columns:
        if column in known:
            continue
        tokens = set(re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", column).lower()))
        if tokens & set(words) or any(t in column for t in terms):
            banned.append(column)
    return banned


def check_columns(columns: list[str], layout: standard.Layout = standard.RECORDS) -> list[str]:
    """Refuse a file with banned attributes or missing required columns; return its unknown columns."""
    banned = banned_columns(columns, layout)
    if banned:
        raise FileRejected(
            "the file carries attributes a credit bureau may not collect (Credit Reporting Regulation "
            f"Art. 14): {', '.join(banned)}; nothing was stored",
            code="BANNED_ATTRIBUTE", field=banned[0], details={"columns": banned},
        )
    missing = [c for c in layout.required_columns if c not in columns]
    if missing:
        raise FileRejected(
            f"the file lacks required columns: {', '.join(missing)}",
            code=FILE_MISSING_COLUMNS, field=missing[0], details={"columns": missing},
        )
    known = layout.by_name
    return [c for c in columns if c not in known]


def stored_path(settings: Settings, *, furnisher_id: int, sha: str, fmt: str) -> Path:
    """Where the bureau keeps a received file, sealed: one file per submission (furnisher and digest)."""
    return settings.submissions_dir / str(furnisher_id) / f"{sha}.{fmt}.sealed"


def private_dir(path: Path) -> Path:
    """``path`` as a directory only the bureau's user may enter (0700), made if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def file_keyring(settings: Settings) -> dict[str, bytes]:
    """The keys kept files may be sealed under, by key id: the bureau's current PII encryption key first (new
    files are sealed under it), then every retired key still kept, so files sealed before a rotation open."""
    keys = load_keys(settings)
    ring = {key_id_of(keys.encryption): keys.encryption}
    for key in keys.keyring.values():
        ring.setdefault(key_id_of(key), key)
    return ring


def check_filename(filename: str) -> str:
    """The base name of a submitted file, refused when longer than the column that records it."""
    name = Path(filename).name
    if len(name) > MAX_FILENAME_CHARS:
        raise FileRejected(f"the file name has {len(name):,} characters; at most {MAX_FILENAME_CHARS} are accepted",
                           code="FILE_NAME_TOO_LONG", field="file")
    return name


@dataclass(frozen=True, slots=True)
class SealedFile:
    """A received file, sealed in the scratch area: where it is, and its plaintext's digest and size."""

    path: Path
    sha256: str
    size_bytes: int


class IncomingFile:
    """A file being received: written sealed into the scratch area as it arrives, its size bounded."""

    def __init__(self, settings: Settings, *, max_bytes: int | None = None) -> None:
        self.max_bytes = settings.max_file_bytes if max_bytes is None else max_bytes
        key = load_keys(settings).encryption
        self.path = private_dir(settings.data_dir / "tmp") / f"{uuid.uuid4().hex}.sealed"
        self._sink = create_private(self.path)
        self._writer = SealingWriter(self._sink, key=key, key_id=key_id_of(key))

    def write(self, block: bytes) -> None:
        """Seal the next bytes of the file; refuse the file once it passes the size limit."""
        if self._writer.plaintext_size + len(block) > self.max_bytes:
            self.discard()
            raise FileRejected(f"the file is larger than {self.max_bytes:,} bytes", code="FILE_TOO_LARGE",
                               field="file", status_code=413)
        self._writer.write(block)

    def finish(self) -> SealedFile:
        """The whole file, sealed."""
        self._writer.close()
        self._sink.close()
        return SealedFile(self.path, self._writer.plaintext_sha256, self._writer.plaintext_size)

    def discard(self) -> None:
        """Forget the file (refused, or its upload broke off)."""
        self._writer.abort()
        self._sink.close()
        self.path.unlink(missing_ok=True)


def seal_file(settings: Settings, source: BinaryIO, *, max_bytes: int | None = None,
              progress: Callable[[int], None] | None = None) -> SealedFile:
    """Read ``source`` to its end into a sealed scratch file (at most ``max_bytes``: by default the largest
    furnishing file), telling ``progress`` the bytes of each block."""
    incoming = IncomingFile(settings, max_bytes=max_bytes)
    try:
        while block := source.read(2**20):
            incoming.write(block)
            if progress is not None:
                progress(len(block))
        return incoming.finish()
    except BaseException:
        incoming.discard()
        raise
