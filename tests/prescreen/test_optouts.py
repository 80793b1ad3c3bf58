"""The opt-out register (FCRA §604(e)), both engines: five years by phone or online, then the person is
selected again; permanent until the person opts back in; opting back in at once; a new election replaces the
one in force; the counter acts at the person's request; audited and told; another person's opt-out is not
theirs to end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.prescreen import optouts
from openbureau.principals import Principal
from tests.people.factories import notices_of
from tests.prescreen.conftest import NAMES
from tests.prescreen.factories import names, person_id, run, signed_in, subject
from tests.reports.conftest import NOW

AT_COUNTER = Principal.operator("OPERATOR:t")
DAY = timedelta(days=1)


def _selected(runtime, lender, now) -> set[str]:
    return names(runtime, lender, run(runtime, lender, now=now, no_delinquency_days=90).id)


def _opt_out(runtime, principal, term, now, subject=None):
    with session_scope(runtime.engine, write=True) as session:
        return optouts.opt_out(session, vault=runtime.vault, policy=runtime.policy, principal=principal, term=term,
                               subject=subject, now=now)


def _opt_in(runtime, principal, now, subject=None):
    with session_scope(runtime.engine, write=True) as session:
        return optouts.opt_in(session, vault=runtime.vault, policy=runtime.policy, principal=principal,
                              subject=subject, now=now)


def test_a_five_year_opt_out_keeps_the_person_off_every_list_for_five_years_then_ends(market) -> None:
    runtime, who, _ = market
    made = _opt_out(runtime, signed_in(runtime, 0), "five_years", NOW)
    assert (made.term, made.channel, made.in_force) == ("five_years", "online", True)
    assert made.expires_at == NOW.replace(year=NOW.year + 5)
    assert NAMES[0] not in _selected(runtime, who["LENDER"], NOW + DAY)
    assert NAMES[0] not in _selected(runtime, who["LENDER"], made.expires_at - timedelta(seconds=1))
    assert NAMES[0] in _selected(runtime, who["LENDER"], made.expires_at)  # the election has run out
    with session_scope(runtime.engine, write=True) as session:
        later = optouts.status(session, vault=runtime.vault, policy=runtime.policy, principal=signed_in(runtime, 0),
                               now=made.expires_at)
    assert not later.in_force and [h.in_force for h in later.history] == [False]


def test_a_permanent_opt_out_lasts_until_the_person_opts_back_in(market) -> None:
    runtime, who, _ = market
    made = _opt_out(runtime, AT_COUNTER, "permanent", NOW, subject=subject(1))  # a signed notice at the counter
    assert (made.term, made.channel, made.expires_at) == ("permanent", "counter", None)
    assert NAMES[1] not in _selected(runtime, who["LENDER"], NOW.replace(year=NOW.year + 30))
    back = _opt_in(runtime, signed_in(runtime, 1), NOW + 10 * DAY)
    assert back.id == made.id and back.ended_at == NOW + 10 * DAY and not back.in_force
    assert NAMES[1] in _selected(runtime, who["LENDER"], NOW + 11 * DAY)
    # Opted back in: nothing left to end.
    with pytest.raises(BureauError) as caught:
        _opt_in(runtime, signed_in(runtime, 1), NOW + 12 * DAY)
    assert caught.value.code == "OPT_OUT_NOT_FOUND" and caught.value.status_code == 404


def test_a_new_election_replaces_the_one_in_force_and_each_step_is_audited_and_told(market) -> None:
    runtime, _, _ = market
    me = signed_in(runtime, 2)
    first = _opt_out(runtime, me, "five_years", NOW)
    second = _opt_out(runtime, me, "permanent", NOW + DAY)
    with session_scope(runtime.engine, write=True) as session:
        now = optouts.status(session, vault=runtime.vault, policy=runtime.policy, principal=me, now=NOW + 2 * DAY)
    assert now.in_force and now.current.id == second.id and now.current.expires_at is None
    assert [(h.id, h.in_force) for h in now.history] == [(second.id, True), (first.id, False)]
    assert "§604(e)" in now.note
    _opt_in(runtime, me, NOW + 3 * DAY)
    with session_scope(runtime.engine) as session:
        actions = [a for a, p in session.execute(select(AuditEntry.action, AuditEntry.person_id)
                                                 .where(AuditEntry.action.like("prescreen.%")).order_by(AuditEntry.seq))
                   if p == person_id(runtime, 2)]
    assert actions == ["prescreen.opt_out", "prescreen.opt_out", "prescreen.opt_out_read", "prescreen.opt_in"]
    told = [body for kind, _, body in notices_of(runtime, person_id(runtime, 2)) if kind == "prescreen.opt_out"]
    assert len(told) == 3 and "§604(e)" in told[0] and "opt back in" in told[0]


def test_only_the_person_or_the_counter_manages_an_opt_out_and_a_term_is_checked(market) -> None:
    runtime, who, _ = market
    for principal in (who["LENDER"], who["BANK_A"], who["REG"]):
        with pytest.raises(BureauError) as caught:
            _opt_out(runtime, principal, "five_years", NOW, subject=subject(0))
        assert caught.value.code == "ROLE_REQUIRED"
    with pytest.raises(BureauError) as caught:
        _opt_out(runtime, signed_in(runtime, 0), "forever", NOW)
    assert (caught.value.code, caught.value.field) == ("INVALID_TERM", "term")
    with pytest.raises(BureauError) as caught:
        _opt_out(runtime, AT_COUNTER, "five_years", NOW)  # the counter names the person
    assert (caught.value.code, caught.value.field) == ("SUBJECT_REQUIRED", "subject")
    # A person's opt-in ends only their own opt-out.
    _opt_out(runtime, signed_in(runtime, 3), "permanent", NOW)
    with pytest.raises(BureauError) as caught:
        _opt_in(runtime, signed_in(runtime, 0), NOW + DAY)
    assert caught.value.code == "OPT_OUT_NOT_FOUND"
    assert NAMES[3] not in _selected(runtime, who["LENDER"], NOW + 2 * DAY)
