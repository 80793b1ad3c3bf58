"""Disputes investigated by the furnisher: its own tasks only, one answer each, corrections checked, deletions
and the deadline applied to every report at every instant (injected clock), the person's statement. Both
engines."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from openbureau.audit import service as audit
from openbureau.disputes import investigation
from openbureau.disputes.schemas import TaskAnswer
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from tests.disputes.factories import (
    AT_COUNTER,
    OTHER_SUBJECT,
    SUBJECT,
    accounts,
    file,
    lender_view,
    member,
    own_view,
    signed_in,
)
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, month

TICK = timedelta(microseconds=1)


def tasks(runtime, code="BANK_A", **kwargs):
    with session_scope(runtime.engine) as session:
        return investigation.list_tasks(session, principal=member(runtime, code), **kwargs)


def answer(runtime, task_id, outcome="verified", *, code="BANK_A", now=NOW + timedelta(days=1), **fields):
    with session_scope(runtime.engine, write=True) as session:
        return investigation.answer_task(session, vault=runtime.vault, principal=member(runtime, code),
                                         task_id=task_id, now=now,
                                         answer=TaskAnswer(outcome=outcome, evidence="checked the ledger", **fields))


def statement(runtime, dispute_id, text, *, principal=None, subject=SUBJECT, now=NOW):
    if principal is None:  # the person signed in names no subject
        principal, subject = signed_in(runtime, subject), None
    with session_scope(runtime.engine, write=True) as session:
        return investigation.add_statement(session, vault=runtime.vault, principal=principal, subject=subject,
                                           dispute_id=dispute_id, statement=text, now=now)


def test_an_account_dispute_is_a_task_of_its_furnisher_alone(market, owed) -> None:
    runtime, _ = market
    whole, month_ = file(runtime), file(runtime, reporting_period="2026-08")
    file(runtime, kind="identity")  # no furnisher investigates an identity dispute
    mine = tasks(runtime)
    assert [(t.dispute_id, t.reporting_period, t.due_at) for t in mine] == [
        (whole.id, None, NOW + timedelta(days=20)), (month_.id, "2026-08", NOW + timedelta(days=20))]
    assert [t.id for t in tasks(runtime, limit=1, offset=1)] == [mine[1].id]  # paged
    assert tasks(runtime, "OTHER") == [] and tasks(runtime, "TELCO") == []  # another furnisher sees none
    with pytest.raises(Forbidden) as err:
        tasks(runtime, "LENDER")  # a subscriber is no furnisher
    assert err.value.code == "ROLE_REQUIRED"
    with pytest.raises(NotFound) as err:  # answering another furnisher's task: it does not exist for OTHER
        answer(runtime, mine[0].id, "deleted", code="OTHER")
    assert err.value.code == "TASK_NOT_FOUND"
    with pytest.raises(Unprocessable):
        tasks(runtime, limit=0)
    assert owed.milestones() == ["dispute.filed"] * 3
    with session_scope(runtime.engine) as session:  # what the furnisher was shown is audited
        shown = audit.list_entries(session, action="dispute.tasks_read")
    assert {e.actor_code for e in shown} == {"BANK_A"} and json.loads(shown[-1].details)["task_ids"] == [
        mine[0].id, mine[1].id]
    assert all(SUBJECT.id_number not in str(n.details) for n in owed.seen)  # ids and dates only


def test_a_task_is_answered_once_and_closes_the_dispute(market, owed) -> None:
    runtime, _ = market
    dispute = file(runtime)
    (task,) = tasks(runtime)
    done = answer(runtime, task.id, "verified")
    assert (done.status, done.outcome, done.late, done.answered_by) == ("answered", "verified", 0, "BANK_A")
    assert b"ledger" not in done.evidence_enc and runtime.vault.decrypt(done.evidence_enc) == "checked the ledger"
    with pytest.raises(Conflict) as err:
        answer(runtime, task.id, "deleted")
    assert err.value.code == "TASK_ANSWERED"
    assert tasks(runtime) == []
    with session_scope(runtime.engine) as session:
        (entry,) = audit.list_entries(session, action="dispute.answer")
        closed = investigation.DisputeRepository(session).get(dispute.id)
    assert (closed.status, closed.outcome) == ("resolved", "verified")
    assert (entry.actor_code, entry.person_id, json.loads(entry.details)["outcome"]) == ("BANK_A", dispute.person_id, "verified")
    assert owed.milestones() == ["dispute.filed", "dispute.answered"]
    assert not accounts(own_view(runtime, now=NOW + timedelta(days=2)))["A-1"].disputed


def test_open_disputes_mark_the_item_and_the_deadline_hides_it_from_its_instant_until_answered(market, owed) -> None:
    runtime, _ = market
    dispute = file(runtime)
    due = dispute.due_at
    before = own_view(runtime, now=due - TICK)
    assert accounts(before)["A-1"].disputed and not before.disputes[0].overdue
    lender = lender_view(runtime, now=due - TICK).report
    assert lender.accounts[0].disputed and len(lender.accounts) == 2
    at = own_view(runtime, now=due)  # the deadline's instant: not answered, so not shown (FCRA §611(a)(5))
    assert "A-1" not in accounts(at) and at.disputes[0].overdue
    assert any("not verified by the deadline" in n for n in at.notes)
    lender = lender_view(runtime, now=due).report
    assert [a.product_type for a in lender.accounts] == ["installment"] and lender.disputes == []
    (task,) = tasks(runtime)
    late = answer(runtime, task.id, "verified", now=due + timedelta(days=3))
    assert late.late == 1
    back = accounts(own_view(runtime, now=due + timedelta(days=3)))["A-1"]
    assert not back.disputed and back.payment_history.endswith("12NN")
    assert owed.milestones() == ["dispute.filed", "dispute.answered", "dispute.reinserted"]


def test_an_answer_just_before_the_deadline_is_on_time(market) -> None:
    runtime, _ = market
    dispute = file(runtime)
    (task,) = tasks(runtime)
    assert answer(runtime, task.id, now=dispute.due_at - TICK).late == 0
    assert "A-1" in accounts(own_view(runtime, now=dispute.due_at + timedelta(days=1)))


def test_an_overdue_month_dispute_hides_that_month_only(market) -> None:
    runtime, _ = market
    dispute = file(runtime, reporting_period="2026-09")
    line = accounts(own_view(runtime, now=dispute.due_at))["A-1"]
    assert line.payment_history.endswith("12/N") and line.reporting_period == "2026-10"


def test_deleted_blocks_the_item_from_every_later_report(market) -> None:
    runtime, _ = market
    file(runtime, reporting_period="2026-09")
    file(runtime, lender="TELCO", furnisher_account_id="T-1")
    month_task, telco_task = (tasks(runtime)[0], tasks(runtime, "TELCO")[0])
    when = NOW + timedelta(days=2)
    answer(runtime, month_task.id, "deleted", now=when)
    answer(runtime, telco_task.id, "deleted", code="TELCO", now=when)
    assert "T-1" in accounts(own_view(runtime, now=when - TICK))  # reports before the answer stay as they were
    mine = accounts(own_view(runtime, now=when))
    assert "T-1" not in mine and mine["A-1"].payment_history.endswith("12/N")
    lender = lender_view(runtime, now=when + timedelta(days=400)).report  # long after every deadline
    assert lender.obligations == [] and lender.accounts[0].payment_history.endswith("12/N")


def test_a_correction_must_exist_be_the_furnishers_and_be_for_the_disputed_item(market, tmp_path) -> None:
    runtime, _ = market
    folder = tmp_path / "more"
    folder.mkdir()
    file(runtime, reporting_period="2026-10")
    (task,) = tasks(runtime)
    other = furnish(runtime, "OTHER", [month(0, "O-1", "2026-10", product="installment", opened_on="2026-10-03",
                                             correction="1", balance="3500000", amount_due="110000")], folder)
    wrong_account = furnish(runtime, "BANK_A", [month(1, "A-2", "2026-10", correction="1", balance="1")], folder)
    wrong_month = furnish(runtime, "BANK_A", [month(0, "A-1", "2026-09", "2", correction="1", balance="2400000")],
                          folder)
    cases = {
        None: "CORRECTION_REQUIRED",
        (other.id, None, None): "CORRECTION_NOT_FOUND",  # another furnisher's submission
        (wrong_account.id, None, None): "CORRECTION_NOT_FOR_ACCOUNT",  # names another account
        (wrong_month.id, None, None): "CORRECTION_NOT_FOR_ACCOUNT",  # another month of the account
        (None, "2026-10", 9): "CORRECTION_NOT_FOUND",  # no such version
        (None, "2026-10", 1): "CORRECTION_NOT_FOR_ACCOUNT",  # the original record, not a correction
        (10**12, None, None): "CORRECTION_NOT_FOUND",
    }
    for ref, code in cases.items():
        fields = {} if ref is None else {"correction": dict(zip(("submission_id", "reporting_period", "version"),
                                                                ref, strict=True))}
        with pytest.raises(Unprocessable) as err:
            answer(runtime, task.id, "corrected", **fields)
        assert err.value.code == code, ref
    fixed = furnish(runtime, "BANK_A", [month(0, "A-1", "2026-10", correction="1", balance="2400000")], folder)
    done = answer(runtime, task.id, "corrected", correction={"submission_id": fixed.id})
    assert (done.correction_submission_id, done.correction_period, done.correction_version) == (fixed.id, "2026-10", 2)
    assert accounts(own_view(runtime, now=NOW + timedelta(days=2)))["A-1"].balance == 2400000


def test_evidence_is_bounded(market) -> None:
    runtime, _ = market
    file(runtime)
    (task,) = tasks(runtime)
    with pytest.raises(ValidationError):
        TaskAnswer(outcome="verified", evidence="x" * 4001)
    with pytest.raises(ValidationError):
        TaskAnswer(outcome="verified", evidence="")
    smuggled = TaskAnswer.model_construct(outcome=TaskAnswer(outcome="verified", evidence="x").outcome,
                                          evidence="x" * 4001, correction=None)
    with pytest.raises(Unprocessable) as err, session_scope(runtime.engine, write=True) as session:
        investigation.answer_task(session, vault=runtime.vault, principal=member(runtime, "BANK_A"), task_id=task.id,
                                  answer=smuggled, now=NOW)
    assert err.value.code == "EVIDENCE_TOO_LONG"
    assert answer(runtime, task.id, "verified").status == "answered"


def test_the_persons_statement_is_bounded_theirs_and_shown_on_every_later_report(market, owed) -> None:
    runtime, _ = market
    dispute = file(runtime)
    theirs = file(runtime, subject=OTHER_SUBJECT, furnisher_account_id="A-2")
    for text in ("x" * 201, "   "):
        with pytest.raises(Unprocessable) as err:
            statement(runtime, dispute.id, text)
        assert err.value.code == "STATEMENT_TOO_LONG"
    with pytest.raises(NotFound):  # another person's dispute is unknown to this person
        statement(runtime, theirs.id, "not mine")
    with pytest.raises(Forbidden) as err:  # a member may not speak for the person
        statement(runtime, dispute.id, "paid", principal=member(runtime, "BANK_A"))
    assert err.value.code == "ROLE_REQUIRED"
    later = NOW + timedelta(days=1)
    added = statement(runtime, dispute.id, "I paid this in full in 2025", now=later)
    assert b"paid" not in added.consumer_statement_enc
    statement(runtime, dispute.id, "x" * 200, principal=AT_COUNTER, now=later + TICK)  # replaces it
    assert accounts(own_view(runtime, now=later - TICK))["A-1"].consumer_statements == []
    assert accounts(own_view(runtime, now=later + TICK))["A-1"].consumer_statements == ["x" * 200]
    (task,) = [t for t in tasks(runtime) if t.dispute_id == dispute.id]
    answer(runtime, task.id, "verified", now=later + timedelta(days=1))
    lender = lender_view(runtime, now=later + timedelta(days=100)).report  # the dispute is closed; it stays
    assert lender.accounts[0].consumer_statements == ["x" * 200]
    with session_scope(runtime.engine) as session:
        entries = audit.list_entries(session, action="dispute.statement")
    assert [(e.actor_code, json.loads(e.details)["for_person"]) for e in entries] == [("OPERATOR:t", True), ("PERSON:0", False)]
    assert owed.milestones().count("dispute.statement") == 2


def test_the_operator_closing_a_dispute_closes_its_task_and_deleted_blocks_the_item(market) -> None:
    runtime, _ = market
    from openbureau.disputes import service
    from openbureau.disputes.models import DisputeOutcome

    dispute = file(runtime)
    with session_scope(runtime.engine, write=True) as session:
        service.resolve_dispute(session, vault=runtime.vault, principal=AT_COUNTER, dispute_id=dispute.id,
                                outcome=DisputeOutcome.DELETED, now=NOW + timedelta(days=1))
    assert tasks(runtime) == []
    assert "A-1" not in accounts(own_view(runtime, now=NOW + timedelta(days=1)))


def test_a_key_rotation_rewrites_the_evidence_and_leaves_empty_columns_alone(market) -> None:
    from openbureau.kit.crypto import PiiVault, load_keys, rotate_encryption_key
    from openbureau.kit.keyrotation import encrypted_columns, key_counts, rewrite
    from openbureau.migrations.metadata import target_metadata

    runtime, _ = market
    file(runtime)
    file(runtime, reporting_period="2026-08")
    first, _second = tasks(runtime)
    answer(runtime, first.id, "verified")  # one task has evidence, the other none yet (NULL)
    column = next(c for c in encrypted_columns(target_metadata) if c.name == "dispute_tasks.evidence_enc")
    assert dict(key_counts(runtime.engine, column)) == {1: 1}  # the empty one is not counted
    rotate_encryption_key(runtime.settings)
    vault = PiiVault(load_keys(runtime.settings))
    assert rewrite(runtime.engine, column, vault) == 1
    assert dict(key_counts(runtime.engine, column)) == {2: 1}


def test_the_person_files_and_follows_their_own_disputes(market, owed) -> None:
    from openbureau.disputes import service
    from openbureau.disputes.schemas import DisputeCreate
    from tests.disputes.factories import CN

    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        mine = service.file_dispute(session, vault=runtime.vault, policy=CN, principal=signed_in(runtime), now=NOW,
                                    data=DisputeCreate(kind="account", lender="BANK_A",
                                                       furnisher_account_id="A-1", statement="late fee wrong",
                                                       channel="portal"))
    file(runtime, subject=OTHER_SUBJECT, furnisher_account_id="A-2")  # someone else's
    (task,) = [t for t in tasks(runtime) if t.dispute_id == mine.id]
    answer(runtime, task.id, "verified")

    def listed(principal=None, **kwargs):
        principal = principal or signed_in(runtime)
        with session_scope(runtime.engine, write=True) as session:
            return investigation.list_own_disputes(session, vault=runtime.vault, principal=principal,
                                                   subject=None if principal.person_id else SUBJECT, **kwargs)

    assert [(d.id, d.status, d.outcome, d.filed_by) for d in listed()] == [(mine.id, "resolved", "verified",
                                                                             "PERSON:0")]
    with pytest.raises(Forbidden):
        listed(member(runtime, "BANK_A"))
    with pytest.raises(Unprocessable):
        listed(limit=1001)
    assert [d.id for d in listed(AT_COUNTER)] == [mine.id]
    with session_scope(runtime.engine) as session:
        entries = audit.list_entries(session, action="dispute.list_own")
    assert [e.actor_code for e in entries] == ["OPERATOR:t", "PERSON:0"]


def test_two_answers_at_once_one_wins_and_one_is_told(market) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    runtime, _ = market
    file(runtime)
    (task,) = tasks(runtime)
    start = Barrier(2)

    def race(outcome):
        start.wait()
        try:
            return answer(runtime, task.id, outcome).outcome
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(race, ["verified", "deleted"]))
    assert results in (["TASK_ANSWERED", "deleted"], ["TASK_ANSWERED", "verified"])
    with session_scope(runtime.engine) as session:
        assert len(audit.list_entries(session, action="dispute.answer")) == 1
