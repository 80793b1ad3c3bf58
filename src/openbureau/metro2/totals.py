"""The trailer's totals: counted from records as they are read, checked against a trailer, or written."""

from __future__ import annotations

from collections import Counter

from openbureau.metro2.layout import STATUS_TOTALS
from openbureau.metro2.records import Record

_SEGMENT_TOTALS = {"J1": "total_j1_segments", "J2": "total_j2_segments", "N1": "total_employment_segments",
                   "K1": "total_original_creditor_segments", "K2": "total_purchased_to_segments",
                   "K3": "total_mortgage_information_segments", "K4": "total_specialized_payment_segments",
                   "L1": "total_change_segments"}
_STATUS_FIELDS = {code: f"total_status_code_{code.lower()}" for code in (*STATUS_TOTALS, "DA", "DF")}
# Totals a trailer reports (reserved fields and the block count are not counted).
TOTAL_FIELDS = ("total_base_records", *_STATUS_FIELDS.values(), *_SEGMENT_TOTALS.values(), "total_ecoa_code_z",
                "total_ssn_all_segments", "total_ssn_base_segments", "total_ssn_j1_segments",
                "total_ssn_j2_segments", "total_birth_dates_all_segments", "total_birth_dates_base_segments",
                "total_birth_dates_j1_segments", "total_birth_dates_j2_segments",
                "total_telephone_numbers_all_segments")


def _reported(value: str | None) -> bool:
    return bool(value and value.strip("0 "))


class Totals:
    """Running totals of the base records seen so far."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, record: Record) -> None:
        """Count one base record and its appended segments."""
        if record.kind != "base" or not record.segments:
            return
        c = self.counts
        c["total_base_records"] += 1
        status = _STATUS_FIELDS.get(record.main.get("account_status", "").strip())
        if status:
            c[status] += 1
        for seg in record.segments:
            where = "base" if seg.name == "base" else seg.name.lower()
            if seg.name in _SEGMENT_TOTALS:
                c[_SEGMENT_TOTALS[seg.name]] += 1
            if seg.name not in ("base", "J1", "J2"):
                continue
            v = seg.values
            if v.get("ecoa_code") == "Z":
                c["total_ecoa_code_z"] += 1
            if _reported(v.get("social_security_number")):
                c["total_ssn_all_segments"] += 1
                c[f"total_ssn_{where}_segments"] += 1
            if _reported(v.get("date_of_birth")):
                c["total_birth_dates_all_segments"] += 1
                c[f"total_birth_dates_{where}_segments"] += 1
            if _reported(v.get("telephone_number")):
                c["total_telephone_numbers_all_segments"] += 1

    def trailer_values(self) -> dict[str, str]:
        """The trailer's total fields as written (nine digits, zero-filled)."""
        return {name: f"{self.counts[name]:09d}" for name in TOTAL_FIELDS}

    def mismatches(self, trailer: dict[str, str]) -> list[str]:
        """The total fields of ``trailer`` that differ from the counts (blank or unreadable ones skipped)."""
        out = []
        for name in TOTAL_FIELDS:
            value = trailer.get(name, "")
            if value.isascii() and value.isdigit() and int(value) != self.counts[name]:
                out.append(name)
        return out
