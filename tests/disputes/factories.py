"""Factories of the disputes and rights tests: principals of the small market, disputes filed at the counter,
the lender's and the person's reports at a chosen moment, and the notices the person is owed."""

from __future__ import annotations

from datetime import datetime

from openbureau import notices
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.disputes import service as disputes
from openbureau.disputes.schemas import DisputeCreate
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from tests.intake.factories import PEOPLE
from tests.reports.conftest import NOW

CN = Policy(profile=get_profile("CN"), reciprocity=False)
US = Policy(profile=get_profile("US"), reciprocity=False)
AT_COUNTER = Principal.operator("OPERATOR:t")
SUBJECT = Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0])
OTHER_SUBJECT = Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[1][0])


def signed_in(runtime, subject: Subject = SUBJECT) -> Principal:
    """The person ``subject`` names, signed in (as the /v1/me adapter makes them): ``PERSON:<n>``, n their
    place in the small market."""
    with session_scope(runtime.engine) as session:
        person = disputes.person_of(session, vault=runtime.vault, subject=subject)
    n = next(i for i, p in enumerate(PEOPLE) if p[0] == subject.id_number)
    return Principal.person(f"PERSON:{n}", person_id=person.id)


def member(runtime, code: str) -> Principal:
    """The principal of member ``code``."""
    with session_scope(runtime.engine) as session:
        return Principal.of_member(get_member(session, code=code))


def file(runtime, *, policy: Policy = CN, now: datetime = NOW, subject: Subject = SUBJECT, **data):
    """A dispute filed at the counter (default: BANK_A's account A-1, whole account)."""
    fields = {"kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-1", "statement": "not mine", **data}
    with session_scope(runtime.engine, write=True) as session:
        return disputes.file_dispute(session, vault=runtime.vault, policy=policy, principal=AT_COUNTER, now=now,
                                     data=DisputeCreate(subject=subject, **fields))


def lender_view(runtime, *, code: str = "LENDER", purpose: Purpose = Purpose.LOAN_ORIGINATION,
                consent_ref: str | None = "L-1", now: datetime = NOW, policy: Policy = CN):
    """The answer to an inquiry about person 0."""
    with session_scope(runtime.engine, write=True) as session:
        return reports.inquire(session, vault=runtime.vault, principal=member(runtime, code), policy=policy, now=now,
                               request=InquiryCreate(subject=SUBJECT, purpose=purpose, consent_ref=consent_ref))


def own_view(runtime, *, now: datetime = NOW, policy: Policy = CN):
    """Person 0's own report, served at the counter."""
    with session_scope(runtime.engine, write=True) as session:
        return reports.own_report(session, vault=runtime.vault, subject=SUBJECT, principal=AT_COUNTER,
                                  policy=policy, now=now)


def accounts(report) -> dict[str, object]:
    """Account number (the person's view) -> its view, credit and obligations alike."""
    return {a.account_number: a for a in [*report.accounts, *report.obligations]}


class Notices:
    """Collects the notices owed to persons while registered (the outbox's place)."""

    def __init__(self) -> None:
        self.seen: list[notices.Notice] = []
        self._unregister = notices.register(lambda session, notice: self.seen.append(notice))

    def milestones(self) -> list[str]:
        """The milestones seen, in order."""
        return [n.milestone.value for n in self.seen]

    def close(self) -> None:
        """Stop collecting."""
        self._unregister()
