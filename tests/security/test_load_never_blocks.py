"""A load never makes an inquiry fail or wait for it, and readers see a file all or nothing.

Found when attacked: while one furnisher's large file loaded, inquiries failed with 503 WRITE_UNAVAILABLE
or waited up to 30 s, because the load held the database's write lock for its whole length.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
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
from openbureau.policy import Policy
from openbureau.principals import Principal
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
    intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                  path=write_file(tmp_path / "first.csv", [person(0, furnisher_account_id="OLD")]))
    return runtime


def _inquire(runtime):
    with session_scope(runtime.engine, write=True) as session:
        return reports.inquire(session, vault=runtime.vault,
                               principal=Principal.of_member(get_member(session, code="LENDER")),
                               policy=Policy(profile=get_profile("CN"), reciprocity=False), request=InquiryCreate(
                                   subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID),
                                   purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1"))


def _paused_load(runtime, path, *, chunks_first: int = 1):
    """Start loading ``path`` in a thread that pauses after its first ``chunks_first`` chunks were written
    (their rows committed, the load holding its intake lock) until ``proceed`` is set."""
    paused, proceed, failure, written = threading.Event(), threading.Event(), [], []

    def progress(_: int) -> None:
        written.append(1)
        if len(written) == chunks_first:
            paused.set()
            proceed.wait(120)

    def load() -> None:
        try:
            intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=path,
                          progress=progress)
        except BaseException as exc:  # reported by the test
            failure.append(exc)

    loader = threading.Thread(target=load)
    loader.start()
    assert paused.wait(120), failure
    return loader, proceed, failure


def test_inquiries_go_on_during_a_load_and_see_it_all_at_once(bureau, tmp_path) -> None:
    # Person 0's new accounts sit in the first and in the last chunk of a file of many chunks.
    rows = [person(0, furnisher_account_id="NEW-1", reporting_period="2026-10"), *_others(6_000),
            person(0, furnisher_account_id="NEW-2", reporting_period="2026-10")]
    loader, proceed, failure = _paused_load(bureau, write_file(tmp_path / "big.csv", rows), chunks_first=2)
    try:
        # Two chunks are written and committed, NEW-1 among them; the load is not finished. Inquiries are
        # answered at once (before, they waited for the load's transaction and failed) and do not see it.
        seen = [len(_inquire(bureau).report.accounts) for _ in range(3)]
    finally:
        proceed.set()
    during = []
    while loader.is_alive():
        during.append(len(_inquire(bureau).report.accounts))
    loader.join()
    assert not failure, failure
    assert seen == [1, 1, 1]
    assert set(during) <= {1, 3}, during  # before the file or all of it, never a part
    assert len(_inquire(bureau).report.accounts) == 3


def test_a_consent_is_recorded_during_a_load_and_identity_work_waits(bureau, tmp_path) -> None:
    path = write_file(tmp_path / "big.csv", [*_others(3_000), person(1, furnisher_account_id="P1",
                                                                      reporting_period="2026-10")])
    loader, proceed, failure = _paused_load(bureau, path)
    try:
        grant(bureau, "BANK_A", PEOPLE[1][0])  # a consent arriving mid-load is recorded at once ...
        if not is_postgres(bureau.engine):  # ... while identity work on SQLite is told to wait
            with pytest.raises(IntakeBusy), session_scope(bureau.engine, write=True) as session:
                identity.merge(session, principal=Principal.operator("OPERATOR:test"), person_id=1, into_person_id=1)
    finally:
        proceed.set()
    loader.join()
    assert not failure, failure
    with session_scope(bureau.engine) as session:
        latest = intake.list_submissions(session, principal=Principal.operator("OPERATOR:test"), limit=1)[0]
    # ... and the load honours it: only the others (who gave no consent) are held
    assert latest.status == "loaded" and latest.records_quarantined == 3_000


PAUSE_AFTER_FIRST_CHUNK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from openbureau.intake import service
    from openbureau.runtime import open_runtime

    def paused(_):
        Path(sys.argv[2]).touch()  # the first chunk is committed: the parent inquires, then kills this process
        time.sleep(120)

    runtime = open_runtime()
    service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                   path=Path(sys.argv[1]), progress=paused)
""")


def test_inquiries_go_on_while_a_load_is_killed_and_never_see_any_of_it(bureau, tmp_path) -> None:
    rows = [person(0, furnisher_account_id="NEW-1", reporting_period="2026-10"), *_others(2_500),
            person(0, furnisher_account_id="NEW-2", reporting_period="2026-10")]
    path, marker = write_file(tmp_path / "big.csv", rows), tmp_path / "paused"
    settings = bureau.settings
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url, "OPENBUREAU_CHUNK_SIZE": "1000",
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value()}
    loader = subprocess.Popen([sys.executable, "-c", PAUSE_AFTER_FIRST_CHUNK, str(path), str(marker)], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert loader.poll() is None and time.monotonic() < deadline, loader.stderr.read() if loader.stderr else ""
            time.sleep(0.05)
        during = [len(_inquire(bureau).report.accounts) for _ in range(3)]  # answered while the load holds its lock
        loader.send_signal(signal.SIGKILL)
        loader.wait(30)
        after_kill = [len(_inquire(bureau).report.accounts) for _ in range(3)]
    finally:
        if loader.poll() is None:
            loader.kill()
    assert loader.returncode == -9
    assert during == after_kill == [1, 1, 1]  # nothing of the killed load, before or after its death
    intake.submit(bureau.engine, settings=settings, policy=bureau.policy, furnisher_code="BANK_A", path=path)
    assert len(_inquire(bureau).report.accounts) == 3  # the file sent again loads whole
