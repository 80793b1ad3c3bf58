"""The export of everything held about a person (PIPL Art. 45; FCRA §609): the person's own data whole (held
records with their reason, consents, inquiries, objections, protections, disputes, notices, erasures, the
access log) and nothing of another person, even one sharing their surname; audited; the size limit; the
operator at the counter and the command line's owner-only file. Both engines."""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.audit.models import AuditEntry
from openbureau.cli.main import app
from openbureau.consent.profiles import ErasureScope, Purpose
from openbureau.disputes import service as disputes
from openbureau.disputes.schemas import DisputeCreate
from openbureau.intake.events.service import receive_events
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.people import erasure, rights
from openbureau.people.export import export_person
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.rights import service as protections
from openbureau.runtime import open_runtime
from tests.consent.factories import grant
from tests.events.factories import event, frame
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member
from tests.monitoring.factories import register
from tests.people.factories import document, principal, sign_in
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, history, month

ID, NAMESAKE_ID = PEOPLE[0][0], PEOPLE[2][0]  # 王小明, and a 王伟 furnished by the same lenders
AT_COUNTER = Principal.operator("OPERATOR:test")


def _person(runtime, id_number=ID):
    return principal(runtime, sign_in(runtime, id_number, now=NOW), now=NOW)


def _export(runtime, who, **kwargs) -> dict:
    with session_scope(runtime.engine, write=True) as session:
        return json.loads(export_person(session, vault=runtime.vault, principal=who, policy=runtime.policy,
                                        now=NOW, **kwargs))


@pytest.fixture
def file(market, tmp_path):
    """Person 0's file with a held record, a namesake's beside it at the same lenders, a lender's look, an
    objection, a dispute, a freeze and an erasure."""
    runtime, _ = market
    make_member(runtime, "NEWBANK", Role.FURNISHER, name="New Bank")
    furnish(runtime, "NEWBANK", [month(0, "N-1", "2026-10"), month(2, "W-9", "2026-10", full_name="王伟")], tmp_path,
            name="held.csv")
    grant(runtime, "BANK_A", NAMESAKE_ID)
    furnish(runtime, "BANK_A", history(2, "W-1", "2026-08", "NNN", full_name="王伟", phone="13700000000"), tmp_path,
            name="namesake.csv")
    furnish(runtime, "BANK_A", history(0, "OLD", "2019-01", "N2NN"), tmp_path, name="old.csv")
    with session_scope(runtime.engine) as session:
        newbank = get_member(session, code="NEWBANK")
    receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=newbank, now=NOW,
                   batch=frame([event(0, "E-1", at=NOW - timedelta(days=2)), event(2, "E-9", at=NOW - timedelta(days=2))]))
    grant(runtime, "LENDER", NAMESAKE_ID, Purpose.LOAN_ORIGINATION, ref=f"L-{NAMESAKE_ID[-4:]}")
    with session_scope(runtime.engine, write=True) as session:
        lender = Principal.of_member(get_member(session, code="LENDER"))
        reports.inquire(session, vault=runtime.vault, principal=lender, policy=runtime.policy, now=NOW,
                        request=InquiryCreate(subject=document(ID), purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1"))
    with session_scope(runtime.engine, write=True) as session:
        lender = Principal.of_member(get_member(session, code="LENDER"))
        reports.inquire(session, vault=runtime.vault, principal=lender, policy=runtime.policy, now=NOW,
                        request=InquiryCreate(subject=document(NAMESAKE_ID), purpose=Purpose.LOAN_ORIGINATION,
                                              consent_ref=f"L-{NAMESAKE_ID[-4:]}"))
        disputes.file_dispute(session, vault=runtime.vault, principal=AT_COUNTER, policy=runtime.policy, data=DisputeCreate(
            subject=document(ID), kind="account", lender="TELCO", furnisher_account_id="T-1", statement="paid on time"))
    register(runtime, "BANK_A", 0, "BANK-REF-7")  # BANK_A monitors its customer: the freeze is a trigger for it
    with session_scope(runtime.engine, write=True) as session:
        protections.place_freeze(session, vault=runtime.vault, principal=AT_COUNTER, subject=document(ID), now=NOW)
    me = _person(runtime)
    with session_scope(runtime.engine, write=True) as session:
        rights.object_mine(session, vault=runtime.vault, principal=me, policy=runtime.policy,
                           purpose=Purpose.ACCOUNT_REVIEW, now=NOW)
    erasure.erase(runtime.engine, vault=runtime.vault, principal=me, policy=runtime.policy,
                  scope=ErasureScope.EXPIRED_NEGATIVE, now=NOW)
    return runtime, me


def test_the_export_holds_the_persons_own_data_whole(file) -> None:
    runtime, me = file
    doc = _export(runtime, me)
    assert (doc["format"], doc["format_version"], doc["jurisdiction"]) == ("openbureau.person-export", 1, "CN")
    assert "PIPL Art. 45" in doc["legal_basis"] and doc["person_id"] == me.person_id
    assert doc["documents"] == [{"id_type": "CN_RESIDENT_ID", "id_number": ID, "anchor": True}]
    assert {i["full_name"] for i in doc["identities"]} == {"王小明"}
    assert {i["phone"] for i in doc["identities"]} == {"13800138000", "13912345678", "+86 138-0013-8000"}  # as furnished
    assert {i["birth_date"] for i in doc["identities"]} == {"1949-12-31"}
    by_account = {(a["lender"], a["account_id"]): a for a in doc["accounts"]}
    assert set(by_account) == {("BANK_A", "A-1"), ("BANK_A", "OLD"), ("NEWBANK", "N-1"), ("OTHER", "O-1"),
                               ("TELCO", "T-1")}
    assert len(by_account[("BANK_A", "A-1")]["records"]) == 24  # every period
    assert [r["reporting_period"] for r in by_account[("BANK_A", "OLD")]["records"]] == ["2019-01", "2019-03",
                                                                                          "2019-04"]  # 2019-02 erased
    held = by_account[("NEWBANK", "N-1")]["records"][0]
    assert held["held_reason"] == "no_consent" and "no consent of yours" in doc["legend"]["held_reason.no_consent"]
    assert [(e["lender"], e["event_id"], e["held_reason"]) for e in doc["lending_events"]] == [
        ("NEWBANK", "E-1", "no_consent")]
    assert [(i["by"], i["purpose"], i["basis"]) for i in doc["inquiries"]] == [("LENDER", "loan_origination", "consent")]
    assert {(c["grantee"], c["purpose"]) for c in doc["consents"]} == {
        ("BANK_A", "furnish"), ("OTHER", "furnish"), ("TELCO", "furnish"), ("LENDER", "loan_origination")}
    assert [o["purpose"] for o in doc["objections"]] == ["account_review"]
    assert [(d["lender"], d["account_id"], d["statement"]) for d in doc["disputes"]] == [("TELCO", "T-1", "paid on time")]
    assert doc["protections"]["frozen"] is True and len(doc["protections"]["freezes"]) == 1
    assert [e["scope"] for e in doc["erasures"]] == ["expired_negative"]
    assert [(m["lender"], m["reference"], m["score_watched"]) for m in doc["monitored_by"]] == [
        ("BANK_A", "BANK-REF-7", False)]
    assert doc["monitored_by"][0]["basis"].startswith("exception: post-loan management of an existing account")
    assert [(t["lender"], t["kind"], t["category"]) for t in doc["monitoring_triggers"]] == [
        ("BANK_A", "freeze", "placed")]
    assert doc["erasures"][0]["outcome"]["erased"]["expired_negative_months"] == 1
    kinds = {n["kind"] for n in doc["notifications"]}
    assert {"consent.granted", "signin.code", "inquiry.hard", "objection.changed", "erasure.done"} <= kinds
    assert all("body" not in n for n in doc["notifications"])  # subjects only: a text may hold a sign-in code
    log = {(e["by"], e["action"]) for e in doc["access_log"]}
    assert {("LENDER", "inquiry.read"), ("you", "person.signin"), ("you", "person.erasure"),
            ("the bureau", "dispute.file")} <= log
    assert not any(e["by"].startswith("OPERATOR") for e in doc["access_log"])  # staff are "the bureau"


def test_the_export_holds_nothing_of_another_person_sharing_a_surname(file) -> None:
    runtime, me = file
    text = json.dumps(_export(runtime, me), ensure_ascii=False)
    for theirs in (NAMESAKE_ID, "王伟", "W-1", "W-9", "E-9", "13700000000", f"L-{NAMESAKE_ID[-4:]}", PEOPLE[1][0], "A-2"):
        assert theirs not in text, theirs
    namesake = _export(runtime, AT_COUNTER, subject=document(NAMESAKE_ID))
    assert namesake["monitored_by"] == [] and namesake["monitoring_triggers"] == []  # BANK_A watches person 0 only
    assert {a["account_id"] for a in namesake["accounts"]} == {"W-1", "W-9"}
    assert ID not in json.dumps(namesake, ensure_ascii=False) and "王小明" not in json.dumps(namesake, ensure_ascii=False)


def test_the_export_is_audited_with_counts_only(file) -> None:
    runtime, me = file
    _export(runtime, me)
    _export(runtime, AT_COUNTER, subject=document(ID))
    with session_scope(runtime.engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "person.export")
                                  .order_by(AuditEntry.seq)).all()
    assert [(e.actor_code, e.person_id) for e in entries] == [(me.code, me.person_id), ("OPERATOR:test", me.person_id)]
    details = [json.loads(e.details) for e in entries]
    assert [d["for_person"] for d in details] == [False, True] and details[0]["accounts"] == 5
    assert all(ID not in e.details and "王" not in e.details for e in entries)


def test_the_size_limit_refuses_with_a_clear_code(file) -> None:
    runtime, me = file
    with pytest.raises(BureauError) as err:
        _export(runtime, me, max_bytes=1_000)
    assert (err.value.status_code, err.value.code) == (413, "EXPORT_TOO_LARGE")
    assert err.value.details["max_bytes"] == 1_000 and err.value.details["bytes"] > 1_000
    assert _export(runtime, me, max_bytes=10**7)["person_id"] == me.person_id


def test_members_may_not_export_and_the_counter_must_name_the_person(file) -> None:
    runtime, me = file
    with session_scope(runtime.engine) as session:
        bank = Principal.of_member(get_member(session, code="BANK_A"))
    with pytest.raises(BureauError) as err:
        _export(runtime, bank, subject=document(ID))
    assert err.value.code == "ROLE_REQUIRED"
    with pytest.raises(BureauError) as err:
        _export(runtime, AT_COUNTER)
    assert (err.value.code, err.value.status_code) == ("SUBJECT_REQUIRED", 422)
    with pytest.raises(TypeError):
        _export(runtime, None)


def test_the_counter_writes_an_owner_only_file_and_never_over_another(bureau_env) -> None:
    runner = CliRunner()
    folder = bureau_env
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    consents = folder / "consents.csv"
    consents.write_text(f"consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash\n"
                        f"C0,CN_RESIDENT_ID,{ID},furnish,2015-01-01T00:00:00Z,app,{'ab' * 32}\n")
    assert runner.invoke(app, ["consent", "import", str(consents), "--member", "BANK_A"]).exit_code == 0
    loaded = runner.invoke(app, ["intake", "submit", str(write_file(folder / "f.csv", [person(0)])),
                                 "--furnisher", "BANK_A"])
    assert loaded.exit_code == 0, loaded.output
    out = folder / "export.json"
    who = ["--id-type", "CN_RESIDENT_ID", "--id-number", ID]
    written = runner.invoke(app, ["people", "export", *who, "--out", str(out)])
    assert written.exit_code == 0 and "readable by you only" in written.output, written.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text())
    assert doc["documents"][0]["id_number"] == ID and doc["accounts"][0]["account_id"] == "ACC-1"
    again = runner.invoke(app, ["people", "export", *who, "--out", str(out)])
    assert again.exit_code == 1 and "exists" in again.output
    unknown = runner.invoke(app, ["people", "export", "--id-type", "CN_RESIDENT_ID", "--id-number", PEOPLE[3][0],
                                  "--out", str(folder / "none.json")])
    assert unknown.exit_code == 1 and "PERSON_NOT_FOUND" in unknown.output and not (folder / "none.json").exists()
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "person.export")).all()
    assert entry.actor_code.startswith("OPERATOR:") and '"for_person":true' in entry.details
