"""Errors of the intake domain."""

from __future__ import annotations

from openbureau.kit.errors import Unprocessable

SUBMISSION_NOT_FOUND = "SUBMISSION_NOT_FOUND"
FILE_KIND_MISMATCH = "FILE_KIND_MISMATCH"  # the same bytes came earlier as the other kind of file
TOO_MANY_EVENTS = "TOO_MANY_EVENTS"  # an API batch of events over the limit


class FileRejected(Unprocessable):
    """The whole file is refused before any of its records is stored."""

    code = "FILE_REJECTED"
