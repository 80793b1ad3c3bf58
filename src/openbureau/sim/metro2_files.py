"""A simulated lender's monthly file written as Metro 2 (docs/simulation.md, "Metro 2 lender"): the demo's
US profile has one lender furnish in the US format, its files loaded through intake like any uploaded
Metro 2 file.

The simulator's records are in the furnishing standard's columns; they are read with intake's reader (so a
record the reader cannot read is left out here, as intake would have rejected it) and written by the Metro 2
codec (``metro2.service.write_standard``, ``mapping.from_standard``). What Metro 2 cannot carry of a
simulated Chinese borrower is made to fit, the same way for the same person in every file:

* **Social security number:** nine digits derived from the record's identity document (a keyed-free
  digest, first digit 1-8), so the lender's customers are one person each across its files, but new persons
  to the bureau, known by that number (``OTHER``).
* **Name:** the Chinese name in pinyin (surname last, as Metro 2's name fields take it); a Latin name as is.
* **Address:** Metro 2 needs a street, a city, a state and a ZIP code in ASCII: the simulated address
  becomes a street number of a fixed US street, derived from it (from the document when there is none).
* **Phone:** left out (a Chinese mobile number is no North American number).
* **Payment history profile:** the 24 months before each record, from the account's statuses in the
  lender's earlier files (``Metro2Lender``).
* **Amounts:** whole dollars (``from_standard`` drops the cents); the currency becomes USD.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openbureau.intake.readers import ChunkReader, FileFormat
from openbureau.kit.periods import period_number
from openbureau.metro2.errors import Metro2ValueError
from openbureau.metro2.mapping import period_end
from openbureau.metro2.service import write_standard
from openbureau.sim.names import PINYIN
from openbureau.sim.writer import ManifestEntry

METRO2_LENDER = "BANK_B"  # the lender that furnishes in Metro 2 under the demo's US profile
_STREET = "MAIN ST, SPRINGFIELD, IL 62701"


@dataclass(frozen=True, slots=True)
class Metro2File:
    """A simulated file written as Metro 2."""

    path: Path
    records: int  # base records written
    left_out: int  # records the codec could not write (defective values): not sent


def _digits(text: str, count: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") % 10**count


def social_security_number(id_type: str | None, id_number: str | None) -> str | None:
    """Nine digits standing for the record's identity document (None without one)."""
    if not id_number:
        return None
    return str(100_000_000 + _digits(f"{id_type}:{id_number}", 9) % 800_000_000)


def latin_name(name: str | None) -> str | None:
    """A Chinese name in pinyin, given name first ("王小明" -> "XIAOMING WANG"); a Latin name as is."""
    if not name or name.isascii():
        return name
    surname_length = 2 if len(name) > 2 and name[:2] in PINYIN else 1
    surname, given = name[:surname_length], name[surname_length:]

    def spelled(chars: str) -> str:
        whole = PINYIN.get(chars)
        return (whole or "".join(PINYIN.get(c, "x") for c in chars)).upper()

    return f"{spelled(given)} {spelled(surname)}" if given else spelled(surname)


def us_address(address: str | None) -> str | None:
    """An address Metro 2 can hold, derived from the simulated one."""
    return f"{1 + _digits(address, 4)} {_STREET}" if address else None


class Metro2Lender:
    """One lender's files as Metro 2, in the order it sends them; it remembers each account's monthly status
    to write the payment history profile of the months before each record, as a furnisher's system would
    (``B`` before the first month it knows of, ``D`` for a month it did not report)."""

    def __init__(self, code: str, *, reporter_name: str) -> None:
        self.code = code
        self.reporter_name = reporter_name.upper()
        self.months: dict[str, dict[int, str]] = {}  # account -> month number -> profile character

    def write(self, entry: ManifestEntry, out: Path) -> Metro2File:
        """Write ``entry``'s file as Metro 2 at ``out``."""
        left_out: list[Metro2ValueError] = []
        written = write_standard(self._rows(entry), out, furnisher=self.code, reporter_name=self.reporter_name,
                                 activity_date=period_end(entry.period), reporter_address="1 BANK PLAZA SPRINGFIELD IL",
                                 on_bad_row=left_out.append)
        return Metro2File(out, written - 2, len(left_out))

    def _profile(self, account: str, period: str, status: str | None) -> str:
        known = self.months.setdefault(account, {})
        month = period_number(period)
        first = min(known, default=month)
        profile = "".join(known.get(m, "D" if m >= first else "B") for m in range(month - 1, month - 25, -1))
        known[month] = _HISTORY_CHAR.get(status or "", "D")
        for old in [m for m in known if m < month - 24]:
            del known[old]
        return profile

    def _rows(self, entry: ManifestEntry) -> Iterator[dict[str, object]]:
        reader = ChunkReader(entry.path, FileFormat(entry.format))
        for chunk in reader.chunks():
            for row in chunk.iter_rows(named=True):
                account, period = row["furnisher_account_id"], row["reporting_period"]
                profile = self._profile(account, period, row["payment_status"]) if account and period else None
                yield {**row, "id_type": "OTHER",
                       "id_number": social_security_number(row["id_type"], row["id_number"]),
                       "full_name": latin_name(row["full_name"]),
                       "address": us_address(row["address"] or row["id_number"]), "phone": None, "currency": "USD",
                       "metro2_payment_history_profile": profile}


# The PBoC monthly status as a Metro 2 payment history character: settled, terminated and paid by a guarantor
# months were paid (0); repaid with assets as a repossession (K); nothing due as zero balance (E).
_HISTORY_CHAR = {"N": "0", "1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "6": "6", "7": "L", "C": "0",
                 "G": "0", "D": "0", "Z": "K", "*": "E", "#": "D"}
