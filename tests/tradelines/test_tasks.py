"""The retention job deletes exactly what reports no longer show, on both engines, and is audited."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from openbureau.audit import service as audit
from openbureau.consent.profiles import get_profile
from openbureau.consent.schemas import Subject
from openbureau.intake.models import AccountState
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.reports import service
from openbureau.tradelines.tasks import run_retention
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, history

CN = get_profile("CN")


def _states(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(AccountState))


def _run(runtime, **kwargs):
    with session_scope(runtime.engine, write=True) as session:
        return run_retention(session, as_of=kwargs.pop("as_of", NOW.date()), retention_years=5,
                             actor_code="OPERATOR:test", **kwargs)


@pytest.fixture
def folder(runtime, tmp_path):
    """BANK_A furnishes person 0 (with consent); files go in the returned folder."""
    make_member(runtime, "BANK_A", Role.FURNISHER)
    grant(runtime, "BANK_A", PEOPLE[0][0])
    path = tmp_path / "files"
    path.mkdir()
    return path


def test_expired_negative_months_are_hidden_then_purged_and_ongoing_ones_stay(runtime, folder) -> None:
    # Late in 2020, cured 2021-01: the event ended 2021-01-31, over five years before NOW (2026-11-20).
    furnish(runtime, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)
    # Late in 2022-09 and cured 2022-10: ended 2022-10-31, less than five years ago.
    furnish(runtime, "BANK_A", history(0, "RECENT", "2022-08", "N1NN"), folder)
    stored = _states(runtime)

    def old_account():
        with session_scope(runtime.engine, write=True) as session:
            report = service.own_report(session, vault=runtime.vault, actor_code="OPERATOR:test", profile=CN, now=NOW,
                                        subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0]),
                                        history_months=60)
        return {a.account_number: a for a in report.accounts}, report.notes

    accounts, notes = old_account()
    assert accounts["OLD"].payment_history.endswith("N//NN") and accounts["RECENT"].payment_history.count("1") == 1
    assert any("2 month(s) of negative information" in n for n in notes)

    dry = _run(runtime, dry_run=True)
    assert (dry.months_expired, dry.rows_deleted, _states(runtime)) == (2, 0, stored)
    done = _run(runtime)
    assert (done.months_expired, done.rows_deleted, _states(runtime)) == (2, 2, stored - 2)
    accounts, notes = old_account()
    assert accounts["OLD"].payment_history.endswith("N//NN")  # the report did not change
    assert not any("negative information past" in n for n in notes)
    assert _run(runtime).months_expired == 0  # nothing left to purge
    with session_scope(runtime.engine) as session:
        entry = audit.list_entries(session, action="retention.purge")[-1]
        assert audit.verify(session).ok
    assert json.loads(entry.details)["rows"] == 2 and entry.person_id is None


def test_the_us_profile_keeps_negative_information_seven_years(runtime, folder) -> None:
    furnish(runtime, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)
    with session_scope(runtime.engine, write=True) as session:
        run = run_retention(session, as_of=date(2026, 11, 20), retention_years=7, actor_code="OPERATOR:test")
    assert run.months_expired == 0
