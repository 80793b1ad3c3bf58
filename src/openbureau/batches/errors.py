"""Error codes of batch inquiries: of a whole file (refused, nothing stored), of a job, and of one row."""

from __future__ import annotations

# A whole file, refused before anything is stored.
BATCH_FILE_MALFORMED = "BATCH_FILE_MALFORMED"  # not UTF-8, not CSV/JSON Lines, a line with the wrong shape
BATCH_FILE_EMPTY = "BATCH_FILE_EMPTY"
BATCH_TOO_MANY_ROWS = "BATCH_TOO_MANY_ROWS"
BATCH_COLUMNS = "BATCH_COLUMNS"  # a required column missing, or a column the format does not have

# A job.
BATCH_NOT_FOUND = "BATCH_NOT_FOUND"
BATCH_NOT_FINISHED = "BATCH_NOT_FINISHED"
BATCH_FINISHED = "BATCH_FINISHED"

# One row (outcome ``invalid``); the refusals of a row are the inquiry's own codes.
MISSING_VALUE = "MISSING_VALUE"
VALUE_TOO_LONG = "VALUE_TOO_LONG"
INVALID_VALUE = "INVALID_VALUE"
INVALID_REFERENCE = "INVALID_REFERENCE"
INVALID_ID_TYPE = "INVALID_ID_TYPE"
INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
INVALID_PURPOSE = "INVALID_PURPOSE"
INVALID_DATE = "INVALID_DATE"
INVALID_AMOUNT = "INVALID_AMOUNT"
