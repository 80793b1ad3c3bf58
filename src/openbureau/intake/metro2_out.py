"""A furnisher's reporting period written out of the store as a Metro 2 file (``openbureau metro2 write
--furnisher CODE --period YYYY-MM``).

The newest version of each account the furnisher reported for the period that is part of the files (held
records are left out and counted) is decrypted (the person's identity document, the record's name, birth
date, phone and address), mapped back by ``metro2.mapping.from_standard`` (the one map between the formats)
and streamed to the file with a header and a trailer whose totals count it. The state version's related
persons (``account_parties``) that are not held go with it as J1 segments with their role's ECOA code (2 a
co-borrower, 5 a guarantor): their sealed identity and their person's document are decrypted like the
borrower's and given to the same map as the standard's ``party_N_*`` columns; a related person held for want of
their consent never leaves the bureau. Reading personal data, it is
audited (``submission.write_file``) in a transaction of its own, committed before a byte is read; the
accounts are then read in a read transaction, so that a long file holds no write lock (on SQLite the
inquiry log would wait for it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.audit import service as audit
from openbureau.identity.service import documents_of, open_identity
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.members.service import get_member
from openbureau.metro2.mapping import MAX_PARTIES, period_end
from openbureau.metro2.service import write_standard
from openbureau.principals import Action, Principal, authorize

_PERIOD = re.compile(r"\A\d{4}-(0[1-9]|1[0-2])\Z")
_SSN = re.compile(r"\A\d{9}\Z")  # what a Metro 2 social security number field holds
_BATCH = 1_000  # states whose related persons are read at once


@dataclass(frozen=True, slots=True)
class WrittenPeriod:
    """What was written: base records, and the states of the period that were not."""

    records: int
    held: int  # held back from the files (no consent to furnish yet): not written
    unwritable: int  # the person has no identity document Metro 2 can carry (a nine-digit number)
    parties: int = 0  # related persons written (J1 segments)
    parties_unwritable: int = 0  # related persons left out: no identity document Metro 2 can carry


def _ssn(documents: list[tuple[str, str]]) -> str | None:
    """The person's document a Metro 2 social security number field can hold (US numbers are furnished as
    ``OTHER``), the anchor first."""
    return next((number for id_type, number in documents if id_type == "OTHER" and _SSN.match(number)), None)


def write_period(engine: Engine, *, vault: PiiVault, principal: Principal, furnisher_code: str, period: str,
                 out: Path | BinaryIO, reporter_name: str | None = None) -> WrittenPeriod:
    """Write one furnisher's accounts of ``period`` from the store to ``out`` as Metro 2 (operators only)."""
    authorize(principal, Action.WRITE_FURNISHED_FILE, message="only the operator writes a furnisher's file")
    if not _PERIOD.match(period):
        raise BureauError(f"{period[:16]!r} is not a period YYYY-MM", code="INVALID_PERIOD", field="period")
    with session_scope(engine, write=True) as session:
        member = get_member(session, code=furnisher_code)
        member_id, code, name = member.id, member.code, member.name
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                     action="submission.write_file", details={"furnisher": code, "period": period,
                                                              "format": "metro2"})
    with session_scope(engine) as session:
        return _write(session, vault=vault, furnisher_id=member_id, code=code, period=period, out=out,
                      reporter_name=reporter_name or name)


def _write(session: Session, *, vault: PiiVault, furnisher_id: int, code: str, period: str,
           out: Path | BinaryIO, reporter_name: str) -> WrittenPeriod:
    counts = {"unwritable": 0, "parties": 0, "parties_unwritable": 0}
    documents: dict[int, str | None] = {}

    def ssn(person_id: int) -> str | None:
        if person_id not in documents:
            if len(documents) > 10_000:  # accounts come in account order, not person order: bound it
                documents.clear()
            documents[person_id] = _ssn(documents_of(session, vault=vault, person_id=person_id))
        return documents[person_id]

    def party_columns(parties: list) -> dict[str, object]:
        """The standard's ``party_N_*`` columns of a state's related persons (``metro2.mapping`` writes them as
        J1 segments)."""
        columns: dict[str, object] = {}
        n = 0
        for party in parties:
            number = ssn(party.person_id)
            if number is None or n == MAX_PARTIES:
                counts["parties_unwritable"] += 1
                continue
            n += 1
            identity = open_identity(vault, party.identity_enc)
            columns |= {f"party_{n}_role": party.role, f"party_{n}_id_type": "OTHER", f"party_{n}_id_number": number,
                        f"party_{n}_full_name": identity["full_name"], f"party_{n}_birth_date": identity["birth_date"]}
        counts["parties"] += n
        return columns

    def rows() -> Iterator[dict[str, object]]:
        states = iter(accounts.furnisher_period(session, furnisher_id=furnisher_id, period=period))
        while batch := list(islice(states, _BATCH)):
            related: dict[tuple, list] = {}
            for party in accounts.parties_of(session, [(s.furnisher_id, s.furnisher_account_id, s.reporting_period,
                                                         s.version) for s in batch]):
                related.setdefault((party.furnisher_account_id, party.version), []).append(party)
            for state in batch:
                number = ssn(state.person_id)
                if number is None:
                    counts["unwritable"] += 1
                    continue
                row: dict[str, object] = dict(state._mapping)
                row.pop("identity_enc")
                row["metro2_payment_history_profile"] = row.pop("history_profile")  # as furnished, or none (B)
                yield {**row, "id_type": "OTHER", "id_number": number, **open_identity(vault, state.identity_enc),
                       **party_columns(related.get((state.furnisher_account_id, state.version), []))}

    try:
        written = write_standard(rows(), out, furnisher=code[:20], reporter_name=reporter_name,
                                 activity_date=period_end(period))
    except BaseException:
        if isinstance(out, Path):
            out.unlink(missing_ok=True)  # no part of a file of personal data is left behind
        raise
    return WrittenPeriod(records=written - 2, held=accounts.held_in_period(session, furnisher_id=furnisher_id,
                                                                          period=period),
                         unwritable=counts["unwritable"], parties=counts["parties"],
                         parties_unwritable=counts["parties_unwritable"])
