"""Uploaded and downloaded files pass through a scratch directory inside the bureau's data directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from openbureau.runtime import Runtime


def scratch_file(runtime: Runtime, *, suffix: str = "") -> Path:
    """A new empty file in the data directory's scratch area (the caller removes it)."""
    scratch = runtime.settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=scratch, suffix=suffix)
    os.close(handle)
    return Path(name)


@contextmanager
def saved_upload(runtime: Runtime, upload: UploadFile) -> Iterator[Path]:
    """The upload written to a scratch file that keeps its suffix (formats are told by it); removed after."""
    path = scratch_file(runtime, suffix=Path(upload.filename or "").suffix)
    try:
        with path.open("wb") as handle:
            shutil.copyfileobj(upload.file, handle, 1 << 20)
        yield path
    finally:
        path.unlink(missing_ok=True)
