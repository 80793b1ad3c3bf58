"""One error type for the whole bureau: a stable code, a message, the field at fault and an HTTP status."""

from __future__ import annotations

from typing import Any

# Codes that several domains raise; a domain's own codes are in its errors.py.
ROLE_REQUIRED = "ROLE_REQUIRED"
INVALID_LIMIT = "INVALID_LIMIT"
INVALID_WINDOW = "INVALID_WINDOW"
PERIOD_NOT_FOUND = "PERIOD_NOT_FOUND"
ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
FILE_UNREADABLE = "FILE_UNREADABLE"
FILE_FORMAT_UNKNOWN = "FILE_FORMAT_UNKNOWN"
FILE_MISSING_COLUMNS = "FILE_MISSING_COLUMNS"
FILE_HEADER_TOO_LARGE = "FILE_HEADER_TOO_LARGE"
FILE_TOO_MANY_COLUMNS = "FILE_TOO_MANY_COLUMNS"
FILE_DECOMPRESSED_TOO_LARGE = "FILE_DECOMPRESSED_TOO_LARGE"


class BureauError(Exception):
    """Base of every error the bureau reports to a user; rendered as ``{code, message, field, details}``."""

    status_code: int = 400
    code: str = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: Any = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as the API shows it."""
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(BureauError):
    """The thing asked for does not exist, or the caller may not know that it does."""

    status_code = 404
    code = "NOT_FOUND"


class Unauthenticated(BureauError):
    """No valid API key was presented."""

    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(BureauError):
    """The caller is known but may not do this."""

    status_code = 403
    code = "FORBIDDEN"


class Conflict(BureauError):
    """The request conflicts with what is stored."""

    status_code = 409
    code = "CONFLICT"


class Unprocessable(BureauError):
    """The request is well formed but its content is refused."""

    status_code = 422
    code = "UNPROCESSABLE"
