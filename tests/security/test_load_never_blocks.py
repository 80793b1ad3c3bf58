"""A load never makes an inquiry fail or wait for it, and readers see a file all or nothing.

Found when attacked: while one furnisher's large file loaded, inquiries failed with 503 WRITE_UNAVAILABLE
or waited up to 30 s, because the load held the database's write lock for its whole length.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest

from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.documents import resident_id
from openbureau.identity import service as identity
from openbureau.intake import service as intake
from openbureau.kit.db import IntakeBusy, is_postgres, session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, record, write_file
from tests.members.factories import make_member

ID = PEOPLE[0][0]


def _others(count: int) -> list[dict]:
    """Valid records of ``count`` other people (one account each, no consent to furnish: held)."""
    rows = []
    for i in range(count):
        born = date(1950, 1, 1) + timedelta(days=i)
        rows.append(record(id_number=resident_id("110101", f"{born:%Y%m%d}", "123"), birth_date=str(born),
                           furnisher_account_id=f"X{i}", full_name="赵六", reporting_period="2026-10"))
    return rows


@pytest.fixture
def bureau(runtime, tmp_path):
    make_member(runtime, "BANK_A", Role.FURNISHER)
    make_member(runtime, "LENDER", Role.SUBSCRIBER)
    grant(runtime, "BANK_A", ID)
    grant(runtime, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-1")
    intake.submit(runtime.engine, settings=runtime.settings, furnisher_code="BANK_A",
                  path=write_file(tmp_path / "first.csv", [person(0, furnisher_account_id="OLD")]))
    return runtime


def _inquire(runtime):
    with session_scope(runtime.engine, write=True) as session:
        return reports.inquire(session, vault=runtime.vault, actor=get_member(session, code="LENDER"),
                               profile=get_profile("CN"), reciprocity=False, request=InquiryCreate(
                                   subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID),
                                   purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1"))


def test_inquiries_go_on_during_a_load_and_see_it_all_at_once(bureau, tmp_path) -> None:
    # Person 0's new accounts sit in the first and in the last chunk of a file of many chunks.
    rows = [person(0, furnisher_account_id="NEW-1", reporting_period="2026-10"), *_others(12_000),
            person(0, furnisher_account_id="NEW-2", reporting_period="2026-10")]
    path = write_file(tmp_path / "big.csv", rows)
    chunks: list[float] = []
    failure: list[BaseException] = []

    def load() -> None:
        try:
            intake.submit(bureau.engine, settings=bureau.settings, furnisher_code="BANK_A", path=path,
                          progress=lambda _: chunks.append(time.monotonic()))
        except BaseException as exc:  # reported below
            failure.append(exc)

    loader = threading.Thread(target=load)
    loader.start()
    during: list[int] = []
    while loader.is_alive():
        result = _inquire(bureau)  # never refused, never stuck behind the load
        if loader.is_alive() and chunks:
            during.append(len(result.report.accounts))
    loader.join()
    assert not failure, failure
    # Answered while the load ran, and each saw the file before it or all of it, never a part.
    assert during.count(1) >= 3, "no inquiry was answered while the load ran"
    assert set(during) <= {1, 3}, during
    assert len(_inquire(bureau).report.accounts) == 3


def test_a_consent_is_recorded_during_a_load_and_identity_work_waits(bureau, tmp_path) -> None:
    path = write_file(tmp_path / "big.csv", [*_others(6_000), person(1, furnisher_account_id="P1",
                                                                      reporting_period="2026-10")])
    started = threading.Event()

    def load() -> None:
        intake.submit(bureau.engine, settings=bureau.settings, furnisher_code="BANK_A", path=path,
                      progress=lambda _: started.set())

    loader = threading.Thread(target=load)
    loader.start()
    assert started.wait(60)
    grant(bureau, "BANK_A", PEOPLE[1][0])  # a consent arriving mid-load is recorded at once ...
    if not is_postgres(bureau.engine) and loader.is_alive():
        with pytest.raises(IntakeBusy), session_scope(bureau.engine, write=True) as session:
            identity.merge(session, person_id=1, into_person_id=1, actor_code="OPERATOR:test")
    loader.join()
    with session_scope(bureau.engine) as session:
        latest = intake.list_submissions(session, member=None, limit=1)[0]
    # ... and the load honours it: only the others (who gave no consent) are held
    assert latest.status == "loaded" and latest.records_quarantined == 6_000
