"""Resolution, review, merge, split and conflicts on stored records, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from openbureau.accounts.models import AccountState
from openbureau.audit.models import AuditEntry
from openbureau.identity import service
from openbureau.identity.models import IdentityConflict, IdentityMerge, IdentityReview, Person
from openbureau.identity.repository import find_person
from openbureau.identity.resolution import resolve
from openbureau.identity.resolution.model import default_model
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound
from openbureau.principals import Kind, Principal
from tests.identity.factories import RESIDENT_ID, add_person, add_records

OPERATOR = "OPERATOR:test"
AT_TERMINAL = Principal.operator(OPERATOR)


def _resolve(runtime, **kwargs):
    return resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=AT_TERMINAL, **kwargs)


def _owner(runtime, account: str) -> set[int]:
    with session_scope(runtime.engine) as session:
        stmt = select(AccountState.person_id).where(AccountState.furnisher_account_id == account)
        return set(session.scalars(stmt))


def _all(runtime, model) -> list:
    with session_scope(runtime.engine) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def _actions(runtime) -> list[str]:
    with session_scope(runtime.engine) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _strong_and_weak(runtime, *, weak_name: str = "章伟", weak_phone: str | None = "+86 138 1234 5678") -> str:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, furnisher_id=1, periods=("2025-01", "2025-02"))
    add_person(runtime, 2, "OTHER", "UT0000001")
    return add_records(runtime, 2, furnisher_id=2, full_name=weak_name, phone=weak_phone,
                       address="深圳市南山区科技路12号阳光花园3栋2单元1203室")


def test_weak_person_is_merged_into_its_resident_id_person_with_evidence(runtime) -> None:
    account = _strong_and_weak(runtime)
    add_person(runtime, 3, "CN_RESIDENT_ID", "110101198501010022")
    add_records(runtime, 3, furnisher_id=1, full_name="李娜", birth_date="1985-01-01", phone="13900000000",
                address="北京市东城区长安街1号")
    summary = _resolve(runtime)
    assert (summary.merged, summary.queued, summary.persons_weak, summary.persons_strong) == (1, 0, 1, 2)
    assert _owner(runtime, account) == {1}
    [merge] = _all(runtime, IdentityMerge)
    assert (merge.kind, merge.method, merge.person_id, merge.into_person_id) == ("merge", "splink", 2, 1)
    assert merge.actor_code == OPERATOR  # automatic, but made under the principal who ran the resolver
    evidence = json.loads(merge.evidence)
    assert set(evidence["agreeing"]) == {"name", "birth_date", "phone", "address"}
    assert merge.match_probability >= 0.999
    with session_scope(runtime.engine) as session:
        found = find_person(session, id_type="OTHER", id_index=runtime.vault.blind_index("UT0000001", domain="OTHER"))
        assert found.id == 1
    assert "identity.resolve" in _actions(runtime)
    again = _resolve(runtime)  # idempotent
    assert (again.merged, again.queued, again.persons_weak) == (0, 0, 0)


def test_records_loaded_after_a_merge_follow_the_survivor(runtime) -> None:
    _strong_and_weak(runtime)
    _resolve(runtime)
    late = add_records(runtime, 2, furnisher_id=2, periods=("2025-03",), full_name="章伟")
    assert _resolve(runtime).followed == 1
    assert _owner(runtime, late) == {1}


def test_a_name_alone_is_not_enough_and_a_stranger_stays_apart(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1)
    add_person(runtime, 2, "PASSPORT", "E12345678")
    account = add_records(runtime, 2, furnisher_id=2, full_name="张伟", birth_date="1991-05-05", phone=None,
                          address=None)
    summary = _resolve(runtime)
    assert (summary.merged, summary.queued, summary.unlinked) == (0, 0, 1)
    assert _owner(runtime, account) == {2}


def test_between_the_thresholds_a_pair_waits_for_review_then_is_accepted(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, phone="13700000000", address="北京市东城区长安街1号")
    add_person(runtime, 2, "OTHER", "UT0000002")
    account = add_records(runtime, 2, furnisher_id=2, phone="13811112222", address=None)
    strict = {**default_model(), "upper_probability": 0.9999999}  # same name and birth date: below it
    summary = _resolve(runtime, model=strict)
    assert (summary.merged, summary.queued) == (0, 1)
    with session_scope(runtime.engine) as session:
        [item] = service.list_reviews(session, principal=AT_TERMINAL)
    assert (item.person_id, item.candidate_person_id, item.status) == (2, 1, "pending")
    assert set(json.loads(item.evidence)["agreeing"]) == {"name", "birth_date"}
    assert _resolve(runtime).queued == 0  # a pending person is left to the operator
    with session_scope(runtime.engine, write=True) as session:
        service.decide_review(session, principal=AT_TERMINAL, review_id=item.id, accept=True)
    assert _owner(runtime, account) == {1}
    assert [m.method for m in _all(runtime, IdentityMerge)] == ["review"]
    assert "identity.review.accept" in _actions(runtime)
    with session_scope(runtime.engine, write=True) as session, pytest.raises(Conflict):
        service.decide_review(session, principal=AT_TERMINAL, review_id=item.id, accept=False)


def test_a_rejected_pair_is_never_queued_again(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, phone="13700000000", address="北京市东城区长安街1号")
    add_person(runtime, 2, "OTHER", "UT0000002")
    add_records(runtime, 2, furnisher_id=2, phone="13811112222", address=None)
    strict = {**default_model(), "upper_probability": 0.9999999}
    _resolve(runtime, model=strict)
    [item] = _all(runtime, IdentityReview)
    with session_scope(runtime.engine, write=True) as session:
        service.decide_review(session, principal=AT_TERMINAL, review_id=item.id, accept=False)
    summary = _resolve(runtime)  # default model: would merge
    assert (summary.merged, summary.queued) == (0, 0)
    assert "identity.review.reject" in _actions(runtime)


def test_split_undoes_a_merge_and_the_resolver_respects_it(runtime) -> None:
    account = _strong_and_weak(runtime)
    _resolve(runtime)
    with session_scope(runtime.engine, write=True) as session:
        entry = service.split(session, vault=runtime.vault, person_id=1, furnisher_id=2,
                              furnisher_account_id=account, principal=AT_TERMINAL)
    assert entry.into_person_id == 2 and _owner(runtime, account) == {2} and entry.actor_code == OPERATOR
    with session_scope(runtime.engine) as session:
        assert session.get(Person, 2).merged_into_id is None
        assert [m.kind for m in service.history(session, 1)] == ["merge", "split"]
    assert _resolve(runtime).merged == 0
    assert "identity.split" in _actions(runtime)


def test_split_without_history_creates_a_person_and_operator_merge_joins_them(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1)
    wrong = add_records(runtime, 1, furnisher_id=3, full_name="赵六")
    with session_scope(runtime.engine, write=True) as session:
        entry = service.split(session, vault=runtime.vault, person_id=1, furnisher_id=3, furnisher_account_id=wrong,
                              principal=AT_TERMINAL)
    new = entry.into_person_id
    assert _owner(runtime, wrong) == {new} and new > 1
    with session_scope(runtime.engine, write=True) as session, pytest.raises(NotFound):
        service.split(session, vault=runtime.vault, person_id=1, furnisher_id=3, furnisher_account_id=wrong,
                      principal=AT_TERMINAL)
    with session_scope(runtime.engine, write=True) as session:
        service.merge(session, person_id=new, into_person_id=1, principal=AT_TERMINAL)
    assert _owner(runtime, wrong) == {1}
    with session_scope(runtime.engine, write=True) as session, pytest.raises(Conflict):
        service.merge(session, person_id=new, into_person_id=1, principal=AT_TERMINAL)
    assert {"identity.split", "identity.merge"} <= set(_actions(runtime))


def test_identity_decisions_are_the_operators_and_need_a_principal(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1)
    wrong = add_records(runtime, 1, furnisher_id=3, full_name="赵六")
    furnisher = Principal(frozenset({Kind.FURNISHER}), "BANK_C", 3)
    calls = {
        "merge": lambda s, p: service.merge(s, principal=p, person_id=1, into_person_id=2),
        "split": lambda s, p: service.split(s, principal=p, vault=runtime.vault, person_id=1, furnisher_id=3,
                                            furnisher_account_id=wrong),
        "decide_review": lambda s, p: service.decide_review(s, principal=p, review_id=1, accept=True),
        "review_side_by_side": lambda s, p: service.review_side_by_side(s, principal=p, vault=runtime.vault,
                                                                        review_id=1),
    }
    for name, call in calls.items():
        for not_a_principal in (None, OPERATOR):  # an actor's code is not a principal
            with pytest.raises(TypeError), session_scope(runtime.engine, write=True) as session:
                call(session, not_a_principal)
        with pytest.raises(Forbidden) as refused, session_scope(runtime.engine, write=True) as session:
            call(session, furnisher)
        assert refused.value.code == "ROLE_REQUIRED", name
    for not_a_principal in (None, OPERATOR):
        with pytest.raises(TypeError):
            resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=not_a_principal)
    with pytest.raises(Forbidden):
        resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=furnisher)
    assert _owner(runtime, wrong) == {1} and _actions(runtime) == []  # nothing was done, nothing logged


def test_conflicts_are_recorded_per_furnisher_without_identifiers(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, furnisher_id=1)
    add_records(runtime, 1, furnisher_id=2)
    add_records(runtime, 1, furnisher_id=3, birth_date="1990-07-03", full_name="王芳")  # wrong date and name
    for i, phone in enumerate(("13800000001", "13800000002", "13800000003"), start=4):  # three numbers
        add_records(runtime, 1, furnisher_id=i, periods=(f"2025-0{i - 2}",), phone=phone)
    for pid in (5, 6, 7):  # one number for three persons
        add_person(runtime, pid, "CN_RESIDENT_ID", f"11010119850101{pid:04d}")
        add_records(runtime, pid, furnisher_id=8, full_name=f"钱{pid}", birth_date="1985-01-01",
                    phone="13999999999", address=None)
    summary = _resolve(runtime)
    rows = _all(runtime, IdentityConflict)
    kinds = {(c.kind, c.person_id, c.furnisher_id) for c in rows}
    assert ("birth_date_mismatch", 1, 3) in kinds and ("name_mismatch", 1, 3) in kinds
    assert {("shared_phone", p, 8) for p in (5, 6, 7)} <= kinds
    assert any(k == "many_phones" and p == 1 for k, p, _ in kinds)
    assert summary.conflicts == len(rows)
    text = " ".join(c.evidence for c in rows)
    assert "13999999999" not in text and "1990" not in text
    with session_scope(runtime.engine) as session:
        assert {c.kind for c in service.conflicts_for(session, 1)} == {
            "birth_date_mismatch", "name_mismatch", "many_phones"}
        by_furnisher = service.conflicts_by_furnisher(session)
    assert by_furnisher[8] == {"shared_phone": 3}
    assert by_furnisher[3]["birth_date_mismatch"] == 1


def test_a_namesake_with_another_phone_and_address_waits_for_review_however_sure(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, phone="13700000000", address="北京市东城区长安街1号")
    add_person(runtime, 2, "OTHER", "UT0000002")
    account = add_records(runtime, 2, furnisher_id=2, full_name="ZHANG Wei", phone="13811112222",
                          address="上海市浦东新区世纪大道100号")
    sure = {**default_model(), "upper_probability": 0.5, "lower_probability": 0.0}  # would merge on weight
    summary = _resolve(runtime, model=sure)
    assert (summary.merged, summary.queued) == (0, 1)
    assert _owner(runtime, account) == {2}
    [item] = _all(runtime, IdentityReview)
    evidence = json.loads(item.evidence)
    assert evidence["levels"] == {"name": "same pinyin in any order or script", "birth_date": "same date",
                                  "phone": "different", "address": "different"}
    assert evidence["review_reasons"] == ["not corroborated by phone or address"]
    with session_scope(runtime.engine) as session:
        pair = service.review_side_by_side(session, principal=AT_TERMINAL, vault=runtime.vault, review_id=item.id)
    assert [d["full_name"] for d in pair["person"]] == ["ZHANG Wei"]
    assert [d["full_name"] for d in pair["candidate"]] == ["张伟"]


def test_a_phone_change_the_persons_own_records_show_explains_the_difference(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, periods=("2024-01",), phone="13700000000", address=None)  # the old number
    add_records(runtime, 1, periods=("2025-01",), phone="13812345678", address=None)  # the new one
    add_person(runtime, 2, "OTHER", "UT0000002")
    account = add_records(runtime, 2, furnisher_id=2, full_name="Wei Zhang", phone="137-0000-0000", address=None)
    summary = _resolve(runtime)
    assert summary.merged == 1 and _owner(runtime, account) == {1}
    [merge] = _all(runtime, IdentityMerge)
    assert json.loads(merge.evidence)["levels"]["phone"] == "same number"
    with session_scope(runtime.engine) as session:
        [link] = service.probabilistic_links(session, 1)
    assert link["furnisher_account_id"] == account and link["evidence"]["corroborated"]


def test_a_birth_date_that_differs_stops_an_automatic_merge(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1)
    add_person(runtime, 2, "OTHER", "UT0000002")
    account = add_records(runtime, 2, furnisher_id=2, birth_date="1991-04-08")  # phone and address agree
    sure = {**default_model(), "upper_probability": 0.5, "lower_probability": 0.0}
    summary = _resolve(runtime, model=sure)
    assert (summary.merged, summary.queued) == (0, 1) and _owner(runtime, account) == {2}
    [item] = _all(runtime, IdentityReview)
    assert "name or birth date disagrees" in json.loads(item.evidence)["review_reasons"]


def test_a_name_in_another_script_is_no_name_mismatch(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    for furnisher, name in ((1, "张伟"), (2, "张伟"), (3, "ZHANG WEI"), (4, "張偉"), (5, "伟 张")):
        add_records(runtime, 1, furnisher_id=furnisher, full_name=name)
    add_records(runtime, 1, furnisher_id=6, full_name="张玮")  # one character typed wrong: a typo
    add_records(runtime, 1, furnisher_id=7, full_name="张伟明")  # another name: one character more
    add_records(runtime, 1, furnisher_id=8, full_name="李娜")  # another name altogether
    _resolve(runtime)
    kinds = {(c.kind, c.furnisher_id) for c in _all(runtime, IdentityConflict)}
    assert {f for k, f in kinds if k == "name_mismatch"} == {7, 8}
    assert {f for k, f in kinds if k == "name_typo"} == {6}


def test_two_lenders_one_character_apart_are_a_typo_whichever_slipped(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, furnisher_id=1, full_name="张伟")
    add_records(runtime, 1, furnisher_id=2, full_name="张玮")  # a tie: no name has the most lenders
    _resolve(runtime)
    assert {(c.kind, c.furnisher_id) for c in _all(runtime, IdentityConflict)} == {("name_typo", 1),
                                                                                   ("name_typo", 2)}


def test_records_are_read_whole_across_batches(runtime) -> None:
    from openbureau.accounts.service import identity_rows
    from openbureau.identity.repository import ResolutionRepository
    from openbureau.identity.resolution.resolver import read_records

    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    periods = ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05")
    add_records(runtime, 1, account="A1", periods=periods)
    add_records(runtime, 1, account="A2", periods=periods[:2], phone="13900000000")
    with session_scope(runtime.engine) as session:
        repo = ResolutionRepository(session)
        batches = [len(b) for b in identity_rows(session, batch=3)]
        records = read_records(repo, runtime.vault)
    assert batches == [3, 3, 1]
    assert sorted(records.select("furnisher_account_id", "period").iter_rows()) == sorted(
        [("A1", p) for p in periods] + [("A2", p) for p in periods[:2]])
    assert set(records["phone"]) == {"13812345678", "13900000000"}
    assert set(records["full_name"]) == {"张伟"}


def test_the_persons_own_report_lists_the_records_linked_by_probabilistic_matching(runtime) -> None:
    from datetime import UTC, datetime

    from openbureau.consent.profiles import get_profile
    from openbureau.consent.schemas import Subject
    from openbureau.identity.repository import PersonRef
    from openbureau.policy import Policy
    from openbureau.reports import service as reports
    from openbureau.reports.assembly import assemble, read_file
    from openbureau.reports.schemas import View

    cn, now = Policy(profile=get_profile("CN"), reciprocity=False), datetime(2025, 3, 15, tzinfo=UTC)
    account = _strong_and_weak(runtime)
    _resolve(runtime)

    def own():
        with session_scope(runtime.engine, write=True) as session:
            return reports.own_report(session, vault=runtime.vault, principal=AT_TERMINAL, policy=cn, now=now,
                                      subject=Subject(id_type="CN_RESIDENT_ID", id_number=RESIDENT_ID))

    report = own()
    from openbureau.present.report import render_html

    page = render_html(report)
    assert 'data-testid="matched-records"' in page and account in page
    (linked,) = report.matched_records
    assert (linked.account_number, linked.method) == (account, "automatic")
    assert linked.lender == "member 2 (member 2)" and linked.match_probability >= 0.999
    assert set(linked.agreeing) == {"name", "birth_date", "phone", "address"}
    with session_scope(runtime.engine) as session:  # a lender's view never carries them
        person = session.get(Person, 1)
        file = read_file(session, vault=runtime.vault, person=PersonRef(person.id, person.id_type, person.id_enc),
                         now=now, policy=cn, with_links=True)
        assert file.links and assemble(file, view=View.SUBSCRIBER, viewer_id=1, vault=runtime.vault, now=now,
                                       policy=cn).matched_records == []
    with session_scope(runtime.engine, write=True) as session:  # split out again: no longer listed
        service.split(session, vault=runtime.vault, person_id=1, furnisher_id=2, furnisher_account_id=account,
                      principal=AT_TERMINAL)
    assert own().matched_records == []


def test_a_hong_kong_passport_name_links_to_the_person_it_spells(runtime) -> None:
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, furnisher_id=1, full_name="陈大文", periods=("2025-01", "2025-02"))
    add_person(runtime, 2, "PASSPORT", "K12345678")
    account = add_records(runtime, 2, furnisher_id=2, full_name="CHAN Tai Man",
                          address="深圳市南山区科技路12号阳光花园3栋2单元1203室")
    assert _resolve(runtime).merged == 1 and _owner(runtime, account) == {1}
    [merge] = _all(runtime, IdentityMerge)
    assert json.loads(merge.evidence)["levels"]["name"] == "same pinyin in any order or script"
