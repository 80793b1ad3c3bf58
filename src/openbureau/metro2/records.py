"""Records as read or to be written, and the field-level checks of one segment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from openbureau.metro2.errors import Metro2Error
from openbureau.metro2.layout import Kind, Segment


@dataclass(slots=True)
class SegmentValues:
    """One segment of a record: its name, file offset (-1 when built in memory) and raw field values."""

    name: str
    values: dict[str, str]
    offset: int = -1


@dataclass(slots=True)
class Record:
    """One physical record: a header, a base segment with its appended segments, a trailer, or bytes
    that could not be read as any of them (``kind == "unreadable"``).

    ``extra`` holds characters after the last segment that could be read (reported as an error) and
    ``terminator`` the line end that followed the record in the file, so that what was read writes back.
    """

    kind: str
    segments: list[SegmentValues]
    number: int = 0
    offset: int = -1
    extra: str = ""
    terminator: bytes = b""
    raw: bytes = b""  # the whole record, kept only for unreadable ones
    size: int = 0  # bytes of the record in the file, without its line end
    errors: list[Metro2Error] = field(default_factory=list)

    @property
    def main(self) -> dict[str, str]:
        """The header, base or trailer segment's values (empty for an unreadable record)."""
        return self.segments[0].values if self.segments else {}

    def appended(self, name: str) -> list[dict[str, str]]:
        """The values of every appended segment called ``name`` (J1 may repeat)."""
        return [s.values for s in self.segments[1:] if s.name == name]


@lru_cache(maxsize=65536)
def parse_date(text: str) -> date | None | bool:
    """An MMDDYYYY field: the date, None when blank or zero-filled (not reported), False when unreadable."""
    if not text.strip("0 "):
        return None
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return False
    try:
        return date(int(text[4:]), int(text[:2]), int(text[2:4]))
    except ValueError:
        return False


def _valid_timestamp(text: str) -> bool:
    if not (text.isascii() and text.isdigit()) or parse_date(text[:8]) in (None, False):
        return False
    return int(text[8:10]) < 24 and int(text[10:12]) < 60 and int(text[12:14]) < 60


def parse_int(text: str) -> int | None:
    """A numeric field's value, or None when blank or not digits (the latter reported by the field check)."""
    return int(text) if text.isascii() and text.isdigit() else None


# per segment: (name, start, end, kind, required, codes), so the check loop reads plain tuples
_PLANS: dict[str, tuple[tuple[str, int, int, Kind, bool, frozenset[str] | None], ...]] = {}


def _plan(segment: Segment) -> tuple[tuple[str, int, int, Kind, bool, frozenset[str] | None], ...]:
    plan = _PLANS.get(segment.name)
    if plan is None:
        plan = tuple((f.name, f.start, f.end, f.kind, f.required, f.codes) for f in segment.fields)
        _PLANS[segment.name] = plan
    return plan


def _field_pattern(kind: Kind, length: int, required: bool, codes: frozenset[str] | None) -> str:
    if kind is Kind.ALPHANUMERIC:
        if codes is not None:
            allowed = [re.escape(c.ljust(length)) for c in sorted(codes) if len(c) <= length]
            return "(?:" + "|".join(allowed + ([] if required else [" " * length])) + ")"
        return f"(?! {{{length}}})[ -~]{{{length}}}" if required else f"[ -~]{{{length}}}"
    if codes is not None:
        return "(?:" + "|".join(sorted(codes)) + ")"
    return rf"\d{{{length}}}" if required and kind is Kind.NUMERIC else rf"(?:\d{{{length}}}| {{{length}}})"


# per segment: one pattern that matches when every field is well formed (codes, required fields and
# characters), so a clean segment is checked by the regex engine and only its dates by Python
_FAST: dict[str, tuple[re.Pattern[str], tuple[tuple[str, Kind, bool], ...]]] = {}


def _fast(segment: Segment) -> tuple[re.Pattern[str], tuple[tuple[str, Kind, bool], ...]]:
    fast = _FAST.get(segment.name)
    if fast is None:
        pattern = re.compile("".join(f"(?P<{f.name}>{_field_pattern(f.kind, f.length, f.required, f.codes)})"
                                     for f in segment.fields))
        dates = tuple((f.name, f.kind, f.required) for f in segment.fields if f.kind in (Kind.DATE, Kind.TIMESTAMP))
        fast = _FAST[segment.name] = (pattern, dates)
    return fast


_GOOD_DATES: set[str] = set()


def read_segment(segment: Segment, text: str, start: int, file_offset: int, number: int,
                 errors: list[Metro2Error]) -> SegmentValues:
    """Slice ``segment`` out of ``text`` at ``start`` and check every field; fields past the end of the
    text are left out (the record's shortness is reported once by the caller)."""
    pattern, dates = _fast(segment)
    match = pattern.match(text, start)
    if match:
        values = match.groupdict()
        for fname, kind, required in dates:
            value = values[fname]
            if value in _GOOD_DATES:
                continue
            if not value.strip("0 "):
                if not required:
                    continue
            elif (parse_date(value) if kind is Kind.DATE else _valid_timestamp(value)):
                if len(_GOOD_DATES) < 100_000:
                    _GOOD_DATES.add(value)
                continue
            break  # a bad date: the field-by-field pass below reports it with the rest
        else:
            return SegmentValues(segment.name, values, file_offset + start)
    values = {}
    name = segment.name
    available = len(text) - start
    for fname, fstart, fend, kind, required, codes in _plan(segment):
        if fend > available:
            break
        value = text[start + fstart:start + fend]
        values[fname] = value
        code = None
        if not (value.isascii() and value.isprintable()):
            code = "INVALID_CHARACTER"
        elif kind is Kind.ALPHANUMERIC:
            stripped = value.strip()
            if not stripped:
                code = "REQUIRED_MISSING" if required else None
            elif codes is not None and stripped not in codes:
                code = "INVALID_CODE"
        elif kind is Kind.NUMERIC:
            if value.isdigit():
                if codes is not None and value not in codes:
                    code = "INVALID_CODE"
            elif value.isspace():
                code = "REQUIRED_MISSING" if required else None
            else:
                code = "INVALID_NUMERIC"
        else:
            if not value.strip("0 "):
                code = "REQUIRED_MISSING" if required else None
            elif not (parse_date(value) if kind is Kind.DATE else _valid_timestamp(value)):
                code = "INVALID_DATE"
        if code is not None:
            errors.append(Metro2Error(number, name, fname, file_offset + start + fstart, code, value))
    return SegmentValues(name, values, file_offset + start)
