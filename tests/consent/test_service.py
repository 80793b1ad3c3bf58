"""The consent registry: grant, roles, windows, revocation, tenant isolation, bulk import with findings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import select, text

from openbureau.audit import service as audit
from openbureau.consent import service as consents
from openbureau.consent.models import ConsentStatus, status_at
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.repository import ConsentRepository
from openbureau.consent.schemas import CLOCK_SKEW, Subject
from openbureau.consent.service import NOTICE_SUBJECT
from openbureau.intake import quarantine
from openbureau.kit.db import is_postgres, session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.notifications.models import Notification
from openbureau.notifications.service import message_text
from openbureau.principals import Principal
from tests.consent.factories import consent_data, grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member

ID = PEOPLE[0][0]
H = "ab" * 32  # a well-formed evidence hash


@pytest.fixture
def members(runtime):
    make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    make_member(runtime, "LENDER", Role.SUBSCRIBER)
    return runtime


def bank_a(runtime):
    with session_scope(runtime.engine) as session:
        return get_member(session, code="BANK_A")


def _grant_error(runtime, code, data):
    with pytest.raises((Conflict, Forbidden, Unprocessable)) as err, session_scope(runtime.engine, write=True) as s:
        quarantine.grant_consent(s, vault=runtime.vault, profile=runtime.policy.profile, actor=get_member(s, code=code), data=data)
    return err.value.code


def test_grant_checks_role_purpose_window_and_duplicates(members) -> None:
    grant(members, "BANK_A", ID)
    assert _grant_error(members, "BANK_A", consent_data(ID)) == "CONSENT_EXISTS"
    assert _grant_error(members, "LENDER", consent_data(ID, ref="x")) == "ROLE_REQUIRED"  # furnish: a furnisher
    assert _grant_error(members, "LENDER", consent_data(ID, Purpose.SELF_INQUIRY)) == "PURPOSE_NOT_GRANTABLE"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert _grant_error(members, "LENDER", consent_data(ID, Purpose.LOAN_ORIGINATION, valid_from=start,
                                                        valid_until=start)) == "INVALID_WINDOW"


def test_status_follows_the_window_and_revocation(members) -> None:
    now = datetime.now(UTC)
    cid, _ = grant(members, "LENDER", ID, Purpose.LOAN_ORIGINATION, valid_until=now + timedelta(days=10))
    with session_scope(members.engine, write=True) as session:
        consent = ConsentRepository(session).get(cid)
        assert consent.status_at(now) is ConsentStatus.ACTIVE
        assert consent.status_at(now + timedelta(days=11)) is ConsentStatus.EXPIRED
        assert consent.status_at(now - timedelta(days=3650)) is ConsentStatus.PENDING
        with pytest.raises(NotFound):  # another member cannot revoke it
            consents.revoke(session, vault=members.vault, principal=Principal.of_member(get_member(session, code="BANK_A")), consent_id=cid, reason="x")
        revoked = consents.revoke(session, vault=members.vault, principal=Principal.of_member(get_member(session, code="LENDER")), consent_id=cid, reason="asked")
        assert revoked.status_at(now) is ConsentStatus.REVOKED and revoked.revocation_reason == "asked"


def test_a_member_lists_only_the_consents_it_holds(members) -> None:
    grant(members, "BANK_A", ID)
    grant(members, "LENDER", ID, Purpose.LOAN_ORIGINATION)
    subject = Subject(id_type="CN_RESIDENT_ID", id_number=ID.lower())
    with session_scope(members.engine) as session:
        own = consents.list_for_subject(session, vault=members.vault, principal=Principal.of_member(get_member(session, code="LENDER")),
                                        subject=subject)
        every = consents.list_for_subject(session, vault=members.vault, principal=Principal.operator("OPERATOR:test"), subject=subject)
        read = consents.to_read(own[0], vault=members.vault, grantee_code="LENDER")
    assert [c.purpose for c in own] == ["loan_origination"] and len(every) == 2
    assert read.subject_id_number_masked == "110*************2X" and read.status == "active"


def test_import_creates_revokes_and_reports_every_bad_line(members, tmp_path) -> None:
    header = "consent_ref,id_type,id_number,full_name,purpose,granted_at,expires_at,channel,evidence_hash,status,revoked_at"
    lines = [
        header,
        f"C1,CN_RESIDENT_ID,{PEOPLE[0][0]},x,furnish,2024-01-01T00:00:00Z,,app,{H},active,",
        f"C2,CN_RESIDENT_ID,{PEOPLE[1][0]},x,furnish,2024-01-01T00:00:00Z,2030-01-01T00:00:00Z,app,{H},active,",
        f"C3,PASSPORT_X,{PEOPLE[2][0]},x,furnish,2024-01-01T00:00:00Z,,app,{H},active,",  # bad id_type
        f"C4,CN_RESIDENT_ID,{PEOPLE[3][0]},x,furnish,yesterday,,app,{H},active,",  # bad time
        f"C1,CN_RESIDENT_ID,{PEOPLE[0][0]},x,furnish,2024-01-01T00:00:00Z,,app,{H},active,",  # duplicate
        f"C5,CN_RESIDENT_ID,{PEOPLE[3][0]},x,furnish,2024-01-01T00:00:00Z,,app,{H},revoked,",  # no revoked_at
    ]
    path = tmp_path / "consents.csv"
    path.write_text("\n".join(lines) + "\n")
    outcome, _ = quarantine.import_consents(members.engine, vault=members.vault, profile=members.policy.profile, actor=bank_a(members), path=path)
    with session_scope(members.engine) as session:
        if is_postgres(members.engine):  # the consent gate's next query is planned on the consents just imported
            known = session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'consents'")).scalar()
            assert known == 2
    assert (outcome.received, outcome.created, outcome.rejected) == (6, 2, 4)
    assert [(f.line, f.code) for f in outcome.findings] == [
        (4, "INVALID_ENUM"), (5, "INVALID_DATETIME"), (6, "DUPLICATE_IN_FILE"), (7, "REQUIRED_MISSING")]
    path.write_text(lines[0] + "\n" + lines[1].replace("active,", "revoked,2025-01-01T00:00:00Z") + "\n" + lines[2] + "\n")
    again, _ = quarantine.import_consents(members.engine, vault=members.vault, profile=members.policy.profile, actor=bank_a(members), path=path)
    with session_scope(members.engine, write=True) as session:
        listed = consents.list_for_subject(session, vault=members.vault, principal=Principal.operator("OPERATOR:test"),
                                           subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0]))
    assert (again.created, again.revoked, again.unchanged) == (0, 1, 1)
    assert listed[0].status == "revoked"


def test_import_refuses_a_file_without_the_columns(members, tmp_path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("consent_ref,purpose\nC1,furnish\n")
    with pytest.raises(Unprocessable) as err:
        quarantine.import_consents(members.engine, vault=members.vault, profile=members.policy.profile, actor=bank_a(members), path=path)
    assert err.value.code == "FILE_MISSING_COLUMNS" and "id_number" in err.value.details["columns"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_import_of_a_gbk_file_says_it_must_be_utf8(members, tmp_path, suffix) -> None:
    path = tmp_path / f"c{suffix}"
    if suffix == ".csv":
        text_ = ("consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash,full_name\n"
                 f"C1,CN_RESIDENT_ID,{PEOPLE[0][0]},furnish,2015-01-01T00:00:00Z,app,{'ab' * 32},张三\n")
    else:
        text_ = f'{{"consent_ref": "C1", "id_number": "{PEOPLE[0][0]}", "full_name": "张三"}}\n'
    path.write_bytes(text_.encode("gbk"))
    with pytest.raises(Unprocessable) as err:
        quarantine.import_consents(members.engine, vault=members.vault, profile=members.policy.profile, actor=bank_a(members), path=path)
    assert err.value.code == "FILE_NOT_UTF8" and "must be UTF-8" in err.value.message


def test_no_principal_never_means_the_operator_and_only_the_operator_sees_every_members_consents(members) -> None:
    grant(members, "BANK_A", ID)
    grant(members, "LENDER", ID, Purpose.LOAN_ORIGINATION)
    subject = Subject(id_type="CN_RESIDENT_ID", id_number=ID)
    with session_scope(members.engine, write=True) as session:
        with pytest.raises(TypeError):
            consents.list_for_subject(session, vault=members.vault, principal=None, subject=subject)
        with pytest.raises(TypeError):
            consents.revoke(session, vault=members.vault, principal=None, consent_id=1, reason="x")
        with pytest.raises(Forbidden):  # someone outside any member who is not the operator: a person
            consents.list_for_subject(session, vault=members.vault, principal=Principal.person("P-1"), subject=subject)
        every = consents.list_for_subject(session, vault=members.vault, principal=Principal.operator("OPERATOR:t"),
                                          subject=subject)
        assert len(every) == 2


@dataclass
class Terms:
    """A row of a consent's terms, as ``status_at`` reads it."""

    valid_from: datetime
    valid_until: datetime | None
    status: str = ConsentStatus.ACTIVE


def test_a_consent_is_in_force_from_valid_from_up_to_but_not_at_valid_until() -> None:
    start, until, tick = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC), timedelta(microseconds=1)
    terms = Terms(start, until)
    assert [status_at(terms, m) for m in (start - tick, start, until - tick, until, until + tick)] == [
        ConsentStatus.PENDING, ConsentStatus.ACTIVE, ConsentStatus.ACTIVE, ConsentStatus.EXPIRED, ConsentStatus.EXPIRED]
    assert status_at(Terms(start, None), datetime(2099, 1, 1, tzinfo=UTC)) is ConsentStatus.ACTIVE  # open-ended
    assert status_at(Terms(start, until, ConsentStatus.REVOKED), start) is ConsentStatus.REVOKED
    assert status_at(Terms(start, until, ConsentStatus.REVOKED), until) is ConsentStatus.REVOKED  # revoked first


def test_consent_evidence_may_not_be_dated_after_now_nor_the_consent_begin_before_it() -> None:
    now, skew = datetime(2026, 6, 1, tzinfo=UTC), CLOCK_SKEW
    consents.check_evidence_time(captured_at=now + skew, valid_from=now + skew, now=now)  # within the clock skew
    with pytest.raises(Unprocessable) as err:
        consents.check_evidence_time(captured_at=now + skew + timedelta(seconds=1), valid_from=now + skew * 2, now=now)
    assert (err.value.code, err.value.field) == ("EVIDENCE_IN_FUTURE", "evidence.captured_at")
    consents.check_evidence_time(captured_at=now, valid_from=now - skew, now=now)
    with pytest.raises(Unprocessable) as err:
        consents.check_evidence_time(captured_at=now, valid_from=now - skew - timedelta(seconds=1), now=now)
    assert (err.value.code, err.value.field) == ("INVALID_WINDOW", "valid_from")
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    consents.check_evidence_time(captured_at=first, valid_from=first, now=now)  # the calendar's ends: no overflow
    with pytest.raises(Unprocessable):
        consents.check_evidence_time(captured_at=last, valid_from=last, now=now)


def _gate(runtime, code: str, moments) -> list[list[bool]]:
    """Whether the consent gate lets ``code`` furnish the person ``ID`` at each moment."""
    with session_scope(runtime.engine) as session:
        furnisher = get_member(session, code=code).id
        subjects = pl.DataFrame({"id_type": ["CN_RESIDENT_ID"], "id_index": [consents.subject_index(
            runtime.vault, Subject(id_type="CN_RESIDENT_ID", id_number=ID))]})
        return [quarantine.consented(session.connection(), profile=get_profile("CN"), furnisher_id=furnisher,
                                     subjects=subjects, moment=m).to_list() for m in moments]


def test_the_consent_gate_holds_a_record_furnished_at_the_moment_its_consent_ends(members) -> None:
    until = datetime(2026, 3, 1, tzinfo=UTC)
    grant(members, "BANK_A", ID, valid_until=until)
    assert _gate(members, "BANK_A", (until - timedelta(microseconds=1), until)) == [[True], [False]]


def test_a_revocation_is_dated_audited_and_refused_by_body_to_another_member(members) -> None:
    cid, _ = grant(members, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="R-1")
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with session_scope(members.engine, write=True) as session:
        with pytest.raises(NotFound) as err:
            consents.revoke(session, vault=members.vault, principal=Principal.of_member(get_member(session, code="BANK_A")), consent_id=cid,
                            reason="x")
        assert err.value.to_dict() == {"code": "CONSENT_NOT_FOUND", "field": "consent_id", "message": f"no consent {cid}"}
        lender = get_member(session, code="LENDER")
        revoked = consents.revoke(session, vault=members.vault, principal=Principal.of_member(lender), consent_id=cid, reason="asked",
                                  now=at)
        assert (revoked.status, revoked.revoked_at, revoked.revocation_reason) == (ConsentStatus.REVOKED, at, "asked")
    with session_scope(members.engine) as session:
        (entry,) = audit.list_entries(session, action="consent.revoke")
    assert (entry.actor_member_id, entry.actor_code, entry.person_id, entry.purpose) == (
        lender.id, "LENDER", None, "loan_origination")
    assert json.loads(entry.details) == {"consent_id": cid, "reason": "asked"}


def test_a_refused_grant_names_the_field_to_change(members) -> None:
    grant(members, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="G-1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for data, body in [
        (consent_data(ID, Purpose.LOAN_ORIGINATION, ref="G-1"),
         {"code": "CONSENT_EXISTS", "field": "consent_ref", "message": "you already recorded consent G-1"}),
        (consent_data(ID, Purpose.LOAN_ORIGINATION, ref="G-2", valid_from=start, valid_until=start),
         {"code": "INVALID_WINDOW", "field": "valid_until", "message": "valid_until must be after valid_from"}),
    ]:
        with pytest.raises((Conflict, Unprocessable)) as err, session_scope(members.engine, write=True) as s:
            quarantine.grant_consent(s, vault=members.vault, profile=members.policy.profile, actor=get_member(s, code="LENDER"), data=data)
        assert err.value.to_dict() == body


def test_a_granted_consent_is_stored_as_given_and_its_audit_entry_names_it(members) -> None:
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    data = consent_data(ID, Purpose.LOAN_ORIGINATION, ref="S-1", valid_from=now - timedelta(hours=1)).model_copy(
        update={"scope": ["accounts", "score"]})
    with session_scope(members.engine, write=True) as session:
        lender = get_member(session, code="LENDER")
        consent = consents.grant(session, vault=members.vault, actor=lender, data=data, now=now)
        cid = consent.id
    with session_scope(members.engine) as session:
        stored = ConsentRepository(session).get(cid)
        assert (stored.status, stored.scope, stored.source, stored.created_by, stored.created_at) == (
            ConsentStatus.ACTIVE, "accounts,score", "api", lender.id, now)
        assert (stored.evidence_hash, stored.evidence_channel, stored.evidence_at) == (
            H, "app", data.evidence.captured_at)
        (entry,) = audit.list_entries(session, action="consent.grant")
    assert (entry.actor_member_id, entry.actor_code, entry.person_id, entry.purpose) == (
        lender.id, "LENDER", None, "loan_origination")
    assert json.loads(entry.details) == {"consent_id": cid, "consent_ref": "S-1"}


def test_refusals_of_a_grant_say_which_field_and_why(members) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(Unprocessable) as err:
        consents.check_evidence_time(captured_at=now + timedelta(days=1), valid_from=now + timedelta(days=1), now=now)
    assert err.value.to_dict() == {
        "code": "EVIDENCE_IN_FUTURE", "field": "evidence.captured_at",
        "message": "the consent's evidence is dated in the future: captured_at must not be later than now"}
    with pytest.raises(Unprocessable) as err:
        consents.check_evidence_time(captured_at=now, valid_from=now - timedelta(days=1), now=now)
    assert err.value.to_dict() == {"code": "INVALID_WINDOW", "field": "valid_from",
                                   "message": "valid_from is before the consent was given (evidence.captured_at)"}
    with session_scope(members.engine) as session, pytest.raises(Forbidden) as err:
        consents.grant(session, vault=members.vault, actor=get_member(session, code="LENDER"), data=consent_data(ID))
    assert err.value.to_dict() == {"code": "ROLE_REQUIRED", "field": "purpose",
                                   "message": "a consent for furnish is held by a furnisher; LENDER is not one"}
    with session_scope(members.engine) as session, pytest.raises(Unprocessable) as err:
        consents.grant(session, vault=members.vault, actor=get_member(session, code="LENDER"),
                       data=consent_data(ID, Purpose.SELF_INQUIRY))
    assert err.value.to_dict() == {"code": "PURPOSE_NOT_GRANTABLE", "field": "purpose",
                                   "message": "a consent for self_inquiry is not held by a member"}


def test_a_consent_counts_from_the_exact_moment_it_begins(members) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    grant(members, "BANK_A", ID, valid_from=start)
    assert _gate(members, "BANK_A", (start - timedelta(microseconds=1), start)) == [[False], [True]]


def test_the_gate_finds_a_consent_under_either_index_during_a_rotation_in_the_subjects_order(members) -> None:
    grant(members, "BANK_A", ID)
    known = consents.subject_index(members.vault, Subject(id_type="CN_RESIDENT_ID", id_number=ID))
    other, another = b"\x01" * 16, b"\x02" * 16
    subjects = pl.DataFrame({"id_type": ["CN_RESIDENT_ID"] * 4 + ["PASSPORT"],
                             "id_index": [other, known, another, other, known],
                             "id_index_retiring": [known, other, another, another, other]})
    with session_scope(members.engine) as session:
        bank = get_member(session, code="BANK_A").id
        seen = quarantine.consented(session.connection(), profile=get_profile("CN"), furnisher_id=bank,
                                    subjects=subjects, moment=datetime.now(UTC))
        assert seen.to_list() == [True, True, False, False, False]  # the index of another id type never counts
        one_key = quarantine.consented(session.connection(), profile=get_profile("CN"), furnisher_id=bank,
                                       subjects=subjects.drop("id_index_retiring"), moment=datetime.now(UTC))
        assert one_key.to_list() == [False, True, False, False, False]
        free = quarantine.consented(session.connection(), profile=get_profile("US"), furnisher_id=bank,
                                    subjects=subjects, moment=datetime.now(UTC))
    assert (free.name, free.dtype, free.to_list()) == ("consented", pl.Boolean, [True] * 5)


def test_an_import_tells_each_person_of_consents_created_or_revoked_and_of_nothing_else(members, tmp_path) -> None:
    header = "consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash,status,revoked_at\n"
    line = f",CN_RESIDENT_ID,{{}},furnish,2024-01-01T00:00:00Z,app,{'ab' * 32},{{}},{{}}\n"
    first = tmp_path / "first.csv"
    first.write_text(header + "A" + line.format(PEOPLE[0][0], "active", "") + "B" + line.format(PEOPLE[1][0], "active", ""))
    second = tmp_path / "second.csv"  # A unchanged, B revoked, C created revoked (no notice)
    second.write_text(header + "A" + line.format(PEOPLE[0][0], "active", "") +
                      "B" + line.format(PEOPLE[1][0], "revoked", "2025-01-01T00:00:00Z") +
                      "C" + line.format(PEOPLE[2][0], "revoked", "2025-01-01T00:00:00Z"))
    with session_scope(members.engine) as session:
        bank = get_member(session, code="BANK_A")
    for path in (first, second):
        quarantine.import_consents(members.engine, vault=members.vault, profile=members.policy.profile, actor=bank, path=path)
    with session_scope(members.engine) as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        sent = [(n.kind, members.vault.decrypt(n.subject_id_enc), message_text(members.vault, n.message_enc))
                for n in rows]
    assert [(kind, number) for kind, number, _ in sent] == [
        ("consent.granted", PEOPLE[0][0]), ("consent.granted", PEOPLE[1][0]), ("consent.revoked", PEOPLE[1][0])]
    assert sent[0][2] == {"subject": NOTICE_SUBJECT, "body": "BANK_A recorded your consent (A) for furnish, valid "
                          "from 2024-01-01. If you did not give it, tell the bureau."}
    assert "(B) for furnish was revoked by BANK_A" in sent[2][2]["body"]
