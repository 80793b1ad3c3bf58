"""The one statement of the reports domain: which of the sections that few files have a person's file has.

Most files have no dispute, block, alert, freeze, ring, fraud report, identity conflict, guarantee, funder
or business. Each of those is a read of its own (a round trip each on PostgreSQL, through the driver's and
SQLAlchemy's work on every engine), so a report first asks, in one statement, whether any row of each exists
for the person, through the owning domain's own condition, and reads only the sections that do. Each condition is wider
than its read (any row of the person, at any time and in any status), so a section skipped is one whose
read would have found nothing (tests/reports/test_sections.py).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import BigInteger, ColumnElement, bindparam, select
from sqlalchemy.orm import Session

from openbureau.accounts.service import answers_exist, joint_exist
from openbureau.disputes.investigation import marks_exist
from openbureau.enterprises.service import links_exist
from openbureau.fraud.service import facts_exist
from openbureau.identity.repository import PersonLookup, PersonRef, conflicts_exist
from openbureau.rights.service import protections_exist


class Sections(NamedTuple):
    """Which rarely present sections of a file have rows to read."""

    marks: bool = True  # disputes, statements, blocks
    protections: bool = True  # fraud alerts, freezes
    fraud: bool = True  # ring membership, fraud reports
    conflicts: bool = True  # identity conflicts
    answered: bool = True  # accounts the person answers for as a co-borrower or guarantor
    joint: bool = True  # funders and related persons of the person's own accounts
    business: bool = True  # businesses named by the person's accounts (sole traders)


def _sections(person_id: ColumnElement) -> list[ColumnElement[bool]]:
    """The conditions of :class:`Sections` on ``person_id``, in its order."""
    return [marks_exist(person_id).label("marks"), protections_exist(person_id).label("protections"),
            facts_exist(person_id).label("fraud"), conflicts_exist(person_id).label("conflicts"),
            answers_exist(person_id).label("answered"), joint_exist(person_id).label("joint"),
            links_exist(person_id).label("business")]


_SECTIONS = select(*_sections(bindparam("person_id", type_=BigInteger)))
# An inquiry finds the person and learns the file's sections in the same statement.
_PERSON_WITH_SECTIONS = PersonLookup(_sections)


def sections_of(session: Session, person_id: int) -> Sections:
    """Which of the rare sections the person's file has (one statement)."""
    row = session.connection().execute(_SECTIONS, {"person_id": person_id}).one()
    return Sections(*(bool(v) for v in row))


def find_person_with_sections(session: Session, *, id_type: str, id_indexes: tuple[bytes, ...]
                              ) -> tuple[PersonRef, Sections] | tuple[None, None]:
    """The surviving person under any of the subject's blind indexes (``identity.find_person_by_any``) and the
    sections of their file, read together; (None, None) when the bureau holds no such person."""
    found = _PERSON_WITH_SECTIONS.find(session, id_type=id_type, id_indexes=id_indexes)
    if found is None:
        return None, None
    return found[0], Sections(*(bool(v) for v in found[1]))
