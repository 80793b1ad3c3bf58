"""The consent gate at intake: held, counted, released exactly once; revocation and expiry at once;
negative status held back without a notice (Art. 15)."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import select

from openbureau.accounts.models import AccountState
from openbureau.accounts.repository import AccountRepository
from openbureau.consent import service as consents
from openbureau.consent.profiles import PROFILES, Purpose
from openbureau.intake import quarantine, service
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.principals import Principal
from tests.consent.factories import consent_data, grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

TODAY = date(2026, 11, 22)


def _submit(runtime, path, furnisher="BANK_A", settings=None, policy=None):
    return service.submit(runtime.engine, settings=settings or runtime.settings, policy=policy or runtime.policy,
                          furnisher_code=furnisher, path=path, today=TODAY).submission


def _visible(runtime, person_id: int) -> list[str]:
    with session_scope(runtime.engine) as session:
        return sorted(s.furnisher_account_id for s in AccountRepository(session).current_states(person_id=person_id))


def _person_ids(runtime) -> dict[str, int]:
    with session_scope(runtime.engine) as session:
        return dict(session.execute(select(AccountState.furnisher_account_id, AccountState.person_id)).all())


@pytest.fixture
def bank(runtime):
    make_member(runtime, "BANK_A", Role.FURNISHER)
    return runtime


def test_records_without_consent_are_held_counted_and_released_exactly_once(bank, tmp_path) -> None:
    grant(bank, "BANK_A", PEOPLE[0][0])
    rows = [person(0, furnisher_account_id="A0"), person(1, furnisher_account_id="A1"),
            person(1, furnisher_account_id="A1b")]
    s = _submit(bank, write_file(tmp_path / "sep.csv", rows))
    assert (s.records_received, s.records_accepted, s.records_quarantined) == (3, 3, 2)
    ids = _person_ids(bank)
    assert _visible(bank, ids["A0"]) == ["A0"]
    assert _visible(bank, ids["A1"]) == []  # held: not in the person's file
    _, released = grant(bank, "BANK_A", PEOPLE[1][0])
    assert released == 2
    assert _visible(bank, ids["A1"]) == ["A1", "A1b"]
    with session_scope(bank.engine, write=True) as session:
        assert quarantine.release(session, vault=bank.vault, profile=bank.policy.profile) == 0  # nothing is released twice
        assert quarantine.held_count(session) == 0


def test_revocation_stops_collection_at_once_and_keeps_what_was_collected(bank, tmp_path) -> None:
    consent_id, _ = grant(bank, "BANK_A", PEOPLE[0][0])
    _submit(bank, write_file(tmp_path / "sep.csv", [person(0)]))
    with session_scope(bank.engine, write=True) as session:
        consents.revoke(session, vault=bank.vault, principal=Principal.operator("OPERATOR:test"), consent_id=consent_id, reason="the person withdrew")
    oct_ = _submit(bank, write_file(tmp_path / "oct.csv", [person(0, reporting_period="2026-10")]))
    assert oct_.records_quarantined == 1
    with session_scope(bank.engine) as session:
        current = AccountRepository(session).current_states(person_id=_person_ids(bank)["ACC-1"])
    assert [s.reporting_period for s in current] == ["2026-09"]  # CN: collected before stays, nothing new


def test_an_expired_or_not_yet_valid_consent_does_not_let_records_in(bank, tmp_path) -> None:
    now = datetime.now(UTC)
    grant(bank, "BANK_A", PEOPLE[0][0], valid_until=now - timedelta(days=1))
    grant(bank, "BANK_A", PEOPLE[1][0], valid_from=now + timedelta(days=30))
    s = _submit(bank, write_file(tmp_path / "a.csv", [person(0), person(1, furnisher_account_id="B")]))
    assert s.records_quarantined == 2


def test_only_a_furnish_consent_of_this_furnisher_counts(bank, tmp_path) -> None:
    make_member(bank, "OTHER", Role.FURNISHER, Role.SUBSCRIBER)
    grant(bank, "OTHER", PEOPLE[0][0])  # consent to another furnisher
    grant(bank, "OTHER", PEOPLE[0][0], Purpose.LOAN_ORIGINATION)
    assert _submit(bank, write_file(tmp_path / "a.csv", [person(0)])).records_quarantined == 1


def test_the_us_profile_needs_no_consent_to_furnish(bank, tmp_path) -> None:
    us = dataclasses.replace(bank.policy, profile=PROFILES["US"])
    assert _submit(bank, write_file(tmp_path / "a.csv", [person(0)]), policy=us).records_quarantined == 0


LATE = dict(days_past_due="45", payment_status="2", past_due_amount="1200", first_delinquency_date="2026-08-16")


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_the_load_applies_the_policys_profile_never_the_settings_jurisdiction(bank, tmp_path, in_process) -> None:
    # The preparer runs in a thread (small files) or in a process of its own (large ones): either way it
    # applies the profile of the policy it was given, whatever jurisdiction the settings name.
    work = {"parallel_load_min_bytes": 0 if in_process else 2**40}
    us_settings = bank.settings.model_copy(update={"jurisdiction": "US", **work})
    cn_settings = bank.settings.model_copy(update={"jurisdiction": "CN", **work})
    us_policy = dataclasses.replace(bank.policy, profile=PROFILES["US"])
    assert bank.policy.profile is PROFILES["CN"]
    cn = _submit(bank, write_file(tmp_path / "cn.csv", [person(0, furnisher_account_id="CN-1", **LATE)]),
                 settings=us_settings)
    us = _submit(bank, write_file(tmp_path / "us.csv", [person(1, furnisher_account_id="US-1", **LATE)]),
                 settings=cn_settings, policy=us_policy)
    assert (cn.records_quarantined, us.records_quarantined) == (1, 0)  # CN: no consent, held; US: none needed
    with session_scope(bank.engine) as session:
        held = dict(session.execute(select(AccountState.furnisher_account_id, AccountState.negative_held)).all())
    assert held == {"CN-1": 1, "US-1": 0}  # a negative status without a notice: held back in CN only


def test_the_balance_tolerance_is_the_policys(bank, tmp_path) -> None:
    over = person(0, credit_limit="1000000", balance="1050000")  # 5% over its limit
    lenient = bank.settings.model_copy(update={"balance_tolerance": 0.5})
    strict = _submit(bank, write_file(tmp_path / "a.csv", [over]), settings=lenient,
                     policy=dataclasses.replace(bank.policy, balance_tolerance=0.0))
    assert strict.records_warnings == 1 and strict.finding_counts == {"BALANCE_OVER_LIMIT": 1}
    tolerant = _submit(bank, write_file(tmp_path / "b.csv", [{**over, "furnisher_account_id": "B"}]),
                       settings=bank.settings.model_copy(update={"balance_tolerance": 0.0}))
    assert bank.policy.balance_tolerance == 0.10 and tolerant.records_warnings == 0


def test_a_load_needs_the_bureaus_policy_and_never_falls_back_to_the_settings(bank, tmp_path) -> None:
    path = write_file(tmp_path / "a.csv", [person(0)])
    with pytest.raises(TypeError):
        service.submit(bank.engine, settings=bank.settings, furnisher_code="BANK_A", path=path)  # no policy
    with pytest.raises(TypeError, match="Policy"):
        service.submit(bank.engine, settings=bank.settings, policy=bank.settings, furnisher_code="BANK_A", path=path)
    for function in (service.submit, service.load):
        parameter = inspect.signature(function).parameters["policy"]
        assert parameter.default is inspect.Parameter.empty and parameter.kind is inspect.Parameter.KEYWORD_ONLY
    with session_scope(bank.engine) as session:
        assert service.list_submissions(session, principal=Principal.operator("OPERATOR:t")) == []  # nothing received


def test_negative_status_without_a_notice_is_held_back(bank, tmp_path) -> None:
    for i in range(2):
        grant(bank, "BANK_A", PEOPLE[i][0])
    late = dict(days_past_due="45", payment_status="2", past_due_amount="1200",
                first_delinquency_date="2026-08-16")
    rows = [person(0, **late), person(1, furnisher_account_id="B", negative_notice_date="2026-08-20", **late)]
    s = _submit(bank, write_file(tmp_path / "a.csv", rows))
    assert s.records_warnings == 1 and s.records_accepted == 1
    with session_scope(bank.engine) as session:
        held = dict(session.execute(select(AccountState.furnisher_account_id, AccountState.negative_held)).all())
    assert held == {"ACC-1": 1, "B": 0}


def _record_consent(runtime, code, number, purpose=Purpose.FURNISH, **kwargs) -> None:
    """A consent written to the registry without releasing anything (what ``consent release`` re-checks)."""
    with session_scope(runtime.engine, write=True) as session:
        consents.grant(session, vault=runtime.vault, actor=get_member(session, code=code),
                       data=consent_data(number, purpose, **kwargs))


def test_a_full_recheck_releases_only_records_whose_own_person_consented_to_that_furnisher_to_furnish_now(
        runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    make_member(runtime, "BANK_B", Role.FURNISHER)
    _submit(runtime, write_file(tmp_path / "a.csv", [person(i, furnisher_account_id=f"A{i}") for i in range(4)]))
    _submit(runtime, write_file(tmp_path / "b.csv", [person(0, furnisher_account_id="B0"),
                                                      person(1, furnisher_account_id="B1")]), furnisher="BANK_B")
    _record_consent(runtime, "BANK_A", PEOPLE[0][0])  # releases A0, not BANK_B's B0
    _record_consent(runtime, "BANK_B", PEOPLE[1][0])  # releases B1, not BANK_A's A1
    _record_consent(runtime, "BANK_A", PEOPLE[2][0], Purpose.LOAN_ORIGINATION)  # another purpose: A2 stays
    _record_consent(runtime, "BANK_A", PEOPLE[3][0], valid_from=datetime.now(UTC) + timedelta(days=30))  # not yet
    with session_scope(runtime.engine, write=True) as session:
        assert quarantine.held_count(session) == 6
        assert quarantine.release(session, vault=runtime.vault, profile=runtime.policy.profile) == 2
        assert quarantine.held_count(session) == 4
    ids = _person_ids(runtime)
    assert _visible(runtime, ids["A0"]) == ["A0"] and _visible(runtime, ids["A1"]) == ["B1"]
    for account in ("A2", "A3"):
        assert _visible(runtime, ids[account]) == [], account


def test_a_new_consent_releases_its_grantees_records_of_that_person_only(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    make_member(runtime, "BANK_B", Role.FURNISHER)
    _submit(runtime, write_file(tmp_path / "a.csv", [person(0, furnisher_account_id="A0"),
                                                      person(1, furnisher_account_id="A1")]))
    _submit(runtime, write_file(tmp_path / "b.csv", [person(0, furnisher_account_id="B0")]), furnisher="BANK_B")
    _, released = grant(runtime, "BANK_A", PEOPLE[0][0])
    assert released == 1
    ids = _person_ids(runtime)
    assert _visible(runtime, ids["A0"]) == ["A0"] and _visible(runtime, ids["A1"]) == []
    with session_scope(runtime.engine) as session:
        assert quarantine.held_count(session) == 2  # A1, and B0 held for BANK_B


def test_a_recheck_limited_to_a_furnisher_or_a_submission_releases_nothing_else_and_dates_what_it_releases(
        runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    make_member(runtime, "BANK_B", Role.FURNISHER)
    first = _submit(runtime, write_file(tmp_path / "a1.csv", [person(0, furnisher_account_id="A0")]))
    second = _submit(runtime, write_file(tmp_path / "a2.csv",
                                         [person(0, furnisher_account_id="A0", reporting_period="2026-10")]))
    other = _submit(runtime, write_file(tmp_path / "b.csv", [person(0, furnisher_account_id="B0")]),
                    furnisher="BANK_B")
    _record_consent(runtime, "BANK_A", PEOPLE[0][0])
    _record_consent(runtime, "BANK_B", PEOPLE[0][0])
    at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    with session_scope(runtime.engine, write=True) as session:
        bank_b = get_member(session, code="BANK_B").id
        assert quarantine.release(session, vault=runtime.vault, profile=runtime.policy.profile, subjects=pl.DataFrame(schema={"id_type": pl.String,
                                                                         "id_index": pl.Binary})) == 0
        assert quarantine.release(session, vault=runtime.vault, profile=runtime.policy.profile,
                                  submission_id=first.id, moment=at) == 1  # A0 of September only
        assert quarantine.release(session, vault=runtime.vault, profile=runtime.policy.profile,
                                  furnisher_id=bank_b, moment=at) == 1  # B0, not A0 of October
        assert quarantine.held_count(session) == 1
        released = session.execute(select(AccountState.submission_id, AccountState.released_at)
                                   .where(AccountState.released_at.is_not(None))).all()
    assert sorted(s for s, _ in released) == sorted([first.id, other.id]) and second.id not in {s for s, _ in released}
    assert {r for _, r in released} == {at}


def test_a_consent_granted_at_a_moment_is_recorded_and_releases_at_that_moment(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    _submit(runtime, write_file(tmp_path / "a.csv", [person(0, furnisher_account_id="A0")]))
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    with session_scope(runtime.engine, write=True) as session:
        bank = get_member(session, code="BANK_A")
        asked, none = quarantine.grant_consent(session, vault=runtime.vault, profile=runtime.policy.profile, actor=bank,
                                               data=consent_data(PEOPLE[0][0], Purpose.LOAN_ORIGINATION), now=at)
        assert none == 0 and asked.created_at == at  # a consent to query releases nothing
        consent, released = quarantine.grant_consent(session, vault=runtime.vault, profile=runtime.policy.profile, actor=bank,
                                                     data=consent_data(PEOPLE[0][0]), now=at)
        assert (released, consent.created_at) == (1, at)
        (when,) = session.execute(select(AccountState.released_at)).scalars()
    assert when == at
