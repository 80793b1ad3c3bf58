"""A process killed in the middle of a load leaves no partial data and no notice; submitting again completes it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date

import pytest
from sqlalchemy import exists, func, select

from openbureau.accounts.models import AccountState, LoadInProgress
from openbureau.accounts.repository import PUBLISHED
from openbureau.identity.models import Person
from openbureau.intake import service
from openbureau.intake.models import Finding, Submission
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.notifications.models import Notification
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

KILL_AFTER_FIRST_CHUNK = textwrap.dedent("""
    import os, signal, sys
    from datetime import date
    from pathlib import Path
    from openbureau.intake import service
    from openbureau.runtime import open_runtime

    runtime = open_runtime()
    service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                   path=Path(sys.argv[1]), today=date(2026, 11, 22),
                   progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
""")


LATE = dict(days_past_due="45", payment_status="2", past_due_amount="1200", first_delinquency_date="2026-08-16",
            negative_notice_date="2026-08-20")


def _negative_notices(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "negative.new"))


def _counts(runtime) -> dict[str, int]:
    with session_scope(runtime.engine) as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m))
                for m in (Submission, AccountState, Person, Finding)}


def _visible(runtime) -> dict[str, int]:
    """What readers see: published account states, and persons no load in progress numbered."""
    with session_scope(runtime.engine) as session:
        states = session.scalar(select(func.count()).select_from(AccountState).where(PUBLISHED))
        persons = session.scalar(select(func.count()).select_from(Person).where(
            ~exists().where(Person.id >= LoadInProgress.first_person_id)))
        return {"account_states": states, "persons": persons}


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_kill_mid_load_then_resubmit(runtime, tmp_path, in_process) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    for number, _, _ in PEOPLE:
        grant(runtime, "BANK_A", number)
    rows = [person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(3_500)]
    rows[2_100]["currency"] = "??"  # one finding in the third chunk
    for i in (*range(10), 2_500):  # new negative items in the first chunk and in the third
        rows[i].update(LATE)
    path = write_file(tmp_path / "big.csv", rows)
    threshold = 0 if in_process else 2**40
    settings = runtime.settings.model_copy(update={"parallel_load_min_bytes": threshold})
    env = {"OPENBUREAU_PARALLEL_LOAD_MIN_BYTES": str(threshold), **os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value(), "OPENBUREAU_CHUNK_SIZE": "1000"}
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_CHUNK, str(path)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert _counts(runtime)["account_states"] > 0  # the first chunk was written in short transactions ...
    assert _visible(runtime) == {"account_states": 0, "persons": 0}  # ... and is seen by nobody
    assert _negative_notices(runtime) == 0  # nor told of: the notices are written with the publish
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(Submission.status)).one() == "received"
        assert session.scalar(select(func.count()).select_from(LoadInProgress)) == 1

    result = service.submit(runtime.engine, settings=settings, policy=runtime.policy, furnisher_code="BANK_A",
                            path=path, today=date(2026, 11, 22))
    s = result.submission
    assert not result.repeated
    assert (s.status, s.records_received, s.records_accepted, s.records_rejected) == ("loaded", 3_500, 3_499, 1)
    assert _counts(runtime) == {"submissions": 1, "account_states": 3_499, "persons": len(PEOPLE),
                                "findings": s.findings_count}  # the killed load's rows were removed
    assert _visible(runtime) == {"account_states": 3_499, "persons": len(PEOPLE)}
    assert _negative_notices(runtime) == 11  # one per account, written once
    again = service.submit(runtime.engine, settings=settings, policy=runtime.policy, furnisher_code="BANK_A",
                           path=path, today=date(2026, 11, 22))
    assert again.repeated and _counts(runtime)["account_states"] == 3_499


@pytest.mark.parametrize("threshold", [0, 2**40], ids=["process", "thread"])
def test_a_record_not_utf8_midway_is_one_finding_and_the_rest_loads(runtime, tmp_path, threshold) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    path = write_file(tmp_path / "bad.csv", [person(i % len(PEOPLE), furnisher_account_id=f"A{i}")
                                            for i in range(2_500)])
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].replace(PEOPLE[2_499 % len(PEOPLE)][2].encode(), b"\xff\xfe")  # not UTF-8
    path.write_bytes(b"".join(lines))
    settings = runtime.settings.model_copy(update={"parallel_load_min_bytes": threshold})
    s = service.submit(runtime.engine, settings=settings, policy=runtime.policy, furnisher_code="BANK_A", path=path).submission
    assert (s.status, s.records_received, s.records_rejected) == ("loaded", 2_500, 1)
    with session_scope(runtime.engine) as session:
        finding = session.scalars(select(Finding)).one()
    assert (finding.line, finding.code) == (2_501, "MALFORMED_RECORD")
    assert PEOPLE[2_499 % len(PEOPLE)][0] not in (finding.value or "") + finding.message
    assert _counts(runtime)["account_states"] == 2_499
