"""Uploaded and downloaded files pass through a scratch directory inside the bureau's data directory.

A furnishing file is never held in clear, not even in a temporary file: the multipart body is parsed as
it streams in and the file part is sealed (``intake.files.IncomingFile``) block by block.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse

from openbureau.intake.errors import FileRejected
from openbureau.intake.files import IncomingFile, SealedFile, check_filename, private_dir
from openbureau.intake.readers import detect_format
from openbureau.kit.errors import BureauError
from openbureau.runtime import Runtime

UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "The furnishing file."}},
}}}}}


def scratch_file(runtime: Runtime, *, suffix: str = "") -> Path:
    """A new empty owner-only file in the data directory's scratch area (the caller removes it)."""
    scratch = private_dir(runtime.settings.data_dir / "tmp")
    handle, name = tempfile.mkstemp(dir=scratch, suffix=suffix[:16])
    os.close(handle)
    return Path(name)


def findings_download(session, runtime: Runtime, *, principal, submission_id: int, filename: str) -> FileResponse:
    """Every finding of a submission as a CSV download (spreadsheet-safe), written to a scratch file that is
    removed once sent (or at once, when the service refuses)."""
    from openbureau.intake import service as intake

    out = scratch_file(runtime, suffix=".csv")
    try:
        intake.write_findings_csv(session, principal=principal, submission_id=submission_id, out=out)
    except Exception:
        out.unlink(missing_ok=True)
        raise
    return FileResponse(out, media_type="text/csv", filename=filename,
                        background=BackgroundTask(out.unlink, missing_ok=True))


def _bad_upload(message: str) -> BureauError:
    return BureauError(message, code="UPLOAD_MALFORMED", field="file", status_code=400)


class _FilePart:
    """Collects the ``file`` part of a multipart body into a sealed scratch file as it arrives."""

    def __init__(self, runtime: Runtime, file_format: str | None = None, *,
                 check_name: Callable[[str, str | None], object] = detect_format, max_bytes: int | None = None) -> None:
        self.runtime = runtime
        self.file_format = file_format
        self.check_name = check_name
        self.max_bytes = max_bytes
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.value = b""
        self.incoming: IncomingFile | None = None
        self.filename: str | None = None
        self.pending: list[bytes] = []
        self.in_file = False  # the parser is inside the file part
        self.done = False

    def callbacks(self) -> dict:
        """The parser's callbacks."""
        return {
            "on_part_begin": self._begin, "on_header_field": self._field, "on_header_value": self._value,
            "on_header_end": self._header_end, "on_headers_finished": self._headers_finished,
            "on_part_data": self._data, "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self.headers, self.field, self.value = {}, b"", b""
        self.in_file = False

    def _field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]
        if len(self.value) > 8192:
            raise _bad_upload("a part header is too long")

    def _header_end(self) -> None:
        self.headers[self.field.lower()] = self.value
        self.field, self.value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if options.get(b"name") != b"file" or self.done:
            return
        raw_name = options.get(b"filename")
        if raw_name is None:
            raise _bad_upload("the file part has no file name")
        self.filename = raw_name.decode("utf-8", "replace")
        self.check_name(check_filename(self.filename), self.file_format)  # refused before a byte of it is kept
        self.incoming = IncomingFile(self.runtime.settings, max_bytes=self.max_bytes)
        self.in_file = True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.pending.append(bytes(data[start:end]))

    def _end(self) -> None:
        if self.in_file:
            self.in_file, self.done = False, True


async def sealed_upload(runtime: Runtime, request: Request, *, file_format: str | None = None,
                        check_name: Callable[[str, str | None], object] = detect_format,
                        max_bytes: int | None = None) -> tuple[SealedFile, str]:
    """The ``file`` part of a multipart request, sealed into the scratch area as it streams in, and its name
    (``file_format``: the format the sender named, checked with the name by ``check_name`` before a byte is
    kept; ``max_bytes``: the largest file taken, by default the largest furnishing file).

    The caller owns the sealed scratch file (``intake.service.submit`` moves or removes it).
    """
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise _bad_upload("send the file as multipart/form-data with a part named file")
    part = _FilePart(runtime, file_format, check_name=check_name, max_bytes=max_bytes)
    limit = max_bytes if max_bytes is not None else runtime.settings.max_file_bytes
    parser = MultipartParser(options[b"boundary"], part.callbacks(), max_size=limit * 2)
    try:
        async for block in request.stream():
            parser.write(block)
            if part.pending and part.incoming is not None:
                data, part.pending = b"".join(part.pending), []
                await run_in_threadpool(part.incoming.write, data)
        parser.finalize()
        if part.incoming is None or not part.done:
            raise _bad_upload("the request has no complete part named file")
        return await run_in_threadpool(part.incoming.finish), part.filename or ""
    except (MultipartParseError, ClientDisconnect) as exc:
        if part.incoming is not None:
            part.incoming.discard()
        raise _bad_upload("the multipart body is malformed or was cut off") from exc
    except BaseException:
        if part.incoming is not None:
            part.incoming.discard()
        raise


__all__ = ["FileRejected", "UPLOAD_SCHEMA", "findings_download", "scratch_file", "sealed_upload"]
