"""Error codes of the people domain."""

SIGNIN_FAILED = "SIGNIN_FAILED"  # wrong, expired, used or unknown code: one answer for every case
SIGNIN_LOCKED = "SIGNIN_LOCKED"  # too many wrong codes or codes asked for: wait
SESSION_INVALID = "SESSION_INVALID"  # no person session (missing, unknown, expired or signed out)
ERASURE_NOT_AVAILABLE = "ERASURE_NOT_AVAILABLE"  # the jurisdiction gives no right to erase this (names the law)
EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE"  # past the API's export limit: the bureau's counter writes it whole
