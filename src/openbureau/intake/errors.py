"""Errors of the intake domain."""

from __future__ import annotations

from openbureau.kit.errors import BureauError

SUBMISSION_NOT_FOUND = "SUBMISSION_NOT_FOUND"


class FileRejected(BureauError):
    """The whole file is refused before any of its records is stored."""

    status_code = 422
    code = "FILE_REJECTED"
