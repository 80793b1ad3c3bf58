"""The one statement of the reports domain: which of the sections that few files have a person's file has.

Most files have no dispute, block, alert, freeze, ring, fraud report, identity conflict, guarantee, funder
or business. Each
of those is a read of its own (a round trip each on PostgreSQL, through the driver's and SQLAlchemy's work
on every engine), so a report first asks, in one statement, whether any row of each exists for the person,
through the owning domain's own condition, and reads only the sections that do. Each condition is wider
than its read (any row of the person, at any time and in any status), so a section skipped is one whose
read would have found nothing (tests/reports/test_sections.py).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import BigInteger, bindparam, select
from sqlalchemy.orm import Session

from openbureau.accounts.service import answers_exist, joint_exist
from openbureau.disputes.investigation import marks_exist
from openbureau.enterprises.service import links_exist
from openbureau.fraud.service import facts_exist
from openbureau.identity.repository import conflicts_exist
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


_PERSON = bindparam("person_id", type_=BigInteger)
_SECTIONS = select(marks_exist(_PERSON).label("marks"), protections_exist(_PERSON).label("protections"),
                   facts_exist(_PERSON).label("fraud"), conflicts_exist(_PERSON).label("conflicts"),
                   answers_exist(_PERSON).label("answered"), joint_exist(_PERSON).label("joint"),
                   links_exist(_PERSON).label("business"))


def sections_of(session: Session, person_id: int) -> Sections:
    """Which of the rare sections the person's file has (one statement)."""
    row = session.connection().execute(_SECTIONS, {"person_id": person_id}).one()
    return Sections(*(bool(v) for v in row))
