"""Sign-in with an identity document and a one-time code, attacked: guessing (lock-out), an unknown document
(the same answer), expired, used and replayed codes, expired and signed-out sessions, a member's key. The
clock is injected. Both engines."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from openbureau.audit.models import AuditEntry
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.notifications.models import Notification
from openbureau.people import service as people
from openbureau.people.models import SigninChallenge
from openbureau.principals import Action, Kind
from tests.intake.factories import PEOPLE
from tests.people.factories import last_code, principal, sign_in, start, verify
from tests.reports.conftest import NOW

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]
UNKNOWN = PEOPLE[3][0]  # well formed, never furnished


def _error(outcome: people.Verified) -> dict:
    with pytest.raises(BureauError) as err:
        outcome.result()
    return {"status": err.value.status_code, **err.value.to_dict()}


def _actions(runtime) -> list[tuple[str, str, int | None]]:
    with session_scope(runtime.engine) as session:
        return [(e.action, e.actor_code, e.person_id) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
                if e.action.startswith("person.")]


def test_a_code_sent_to_the_newest_phone_on_file_signs_the_person_in_for_15_minutes(market) -> None:
    runtime, _ = market
    started = start(runtime, ID, now=NOW)
    assert started.expires_at == NOW + timedelta(minutes=10)
    code, phone = last_code(runtime)
    assert phone == "13800138000"  # TELCO reported 2026-10 last (OTHER, before it, had another phone)
    issued = verify(runtime, started.challenge, code, now=NOW + timedelta(minutes=9)).result()
    assert issued.token.startswith("obp_") and issued.expires_at == NOW + timedelta(minutes=24)
    person = principal(runtime, issued.token, now=NOW + timedelta(minutes=23))
    assert person.is_a(Kind.PERSON) and person.may(Action.READ_OWN_FILE) and not person.may(Action.INQUIRE)
    assert person.code == f"PERSON:{person.person_id}" and len(person.documents) == 1
    assert _actions(runtime) == [("person.signin_start", person.code, person.person_id),
                                 ("person.signin", person.code, person.person_id)]
    with pytest.raises(BureauError) as err:  # 15 minutes after sign-in, the token is dead
        principal(runtime, issued.token, now=NOW + timedelta(minutes=24))
    assert err.value.code == "SESSION_INVALID"


def test_an_unknown_document_gets_the_same_answer_and_no_code_answers_it(market) -> None:
    runtime, _ = market
    known, unknown = start(runtime, ID, now=NOW), start(runtime, UNKNOWN, now=NOW)
    assert (known.message, known.expires_at, len(known.challenge)) == (
        unknown.message, unknown.expires_at, len(unknown.challenge))
    with session_scope(runtime.engine) as session:
        sent = session.scalars(select(Notification.person_id).where(Notification.kind == "signin.code")).all()
    assert len(sent) == 1 and sent[0] is not None  # only the known person's code
    code, _ = last_code(runtime)  # even the code sent to someone else
    refusals = [_error(verify(runtime, unknown.challenge, guess, now=NOW)) for guess in (code, "000000")]
    wrong_for_known = _error(verify(runtime, known.challenge, "999999" if code != "999999" else "000000", now=NOW))
    assert refusals == [wrong_for_known] * 2
    assert wrong_for_known["status"] == 401 and wrong_for_known["code"] == "SIGNIN_FAILED"


@pytest.mark.parametrize("id_number", [ID, UNKNOWN], ids=["known", "unknown"])
def test_five_wrong_codes_lock_the_document_out_for_15_minutes_audited_alike_for_anyone(market, id_number) -> None:
    runtime, _ = market
    started = start(runtime, id_number, now=NOW)
    code = last_code(runtime)[0] if id_number == ID else "123456"
    wrong = "000000" if code != "000000" else "111111"
    assert [_error(verify(runtime, started.challenge, wrong, now=NOW))["code"] for _ in range(4)] == ["SIGNIN_FAILED"] * 4
    locked = _error(verify(runtime, started.challenge, wrong, now=NOW + timedelta(seconds=5)))
    assert locked["status"] == 429 and locked["code"] == "SIGNIN_LOCKED" and "locked until" in locked["message"]
    # Locked: the right code, and a new code, are refused until the lock ends.
    assert _error(verify(runtime, started.challenge, code, now=NOW + timedelta(minutes=1)))["code"] == "SIGNIN_LOCKED"
    with pytest.raises(BureauError) as err:
        start(runtime, id_number, now=NOW + timedelta(minutes=14))
    assert err.value.code == "SIGNIN_LOCKED"
    assert ("person.signin_locked" in [a for a, _, _ in _actions(runtime)])
    after = start(runtime, id_number, now=NOW + timedelta(minutes=16))
    if id_number == ID:
        fresh, _ = last_code(runtime)
        assert verify(runtime, after.challenge, fresh, now=NOW + timedelta(minutes=16)).result().token


def test_asking_for_new_codes_does_not_reset_the_count_of_wrong_ones(market) -> None:
    runtime, _ = market
    for round_ in range(2):
        started = start(runtime, ID, now=NOW + timedelta(minutes=round_))
        code, _ = last_code(runtime)
        wrong = "000000" if code != "000000" else "111111"
        outcomes = [_error(verify(runtime, started.challenge, wrong, now=NOW + timedelta(minutes=round_)))["code"]
                    for _ in range(3 if round_ == 0 else 2)]
    assert outcomes == ["SIGNIN_FAILED", "SIGNIN_LOCKED"]


def test_expired_used_superseded_and_replayed_codes_are_refused(market) -> None:
    runtime, _ = market
    first = start(runtime, ID, now=NOW)
    old_code, _ = last_code(runtime)
    assert _error(verify(runtime, first.challenge, old_code, now=NOW + timedelta(minutes=10)))["code"] == "SIGNIN_FAILED"
    second = start(runtime, ID, now=NOW + timedelta(minutes=11))
    code, _ = last_code(runtime)
    third = start(runtime, ID, now=NOW + timedelta(minutes=12))  # a newer code voids the one before
    assert _error(verify(runtime, second.challenge, code, now=NOW + timedelta(minutes=12)))["code"] == "SIGNIN_FAILED"
    code, _ = last_code(runtime)
    assert verify(runtime, third.challenge, code, now=NOW + timedelta(minutes=13)).result()
    replay = verify(runtime, third.challenge, code, now=NOW + timedelta(minutes=13))
    assert _error(replay)["code"] == "SIGNIN_FAILED"  # a code signs in once


def test_at_most_five_codes_an_hour_are_sent_for_one_document(market) -> None:
    runtime, _ = market
    for minute in range(5):
        start(runtime, ID, now=NOW + timedelta(minutes=minute))
    with pytest.raises(BureauError) as err:
        start(runtime, ID, now=NOW + timedelta(minutes=5))
    assert (err.value.status_code, err.value.code) == (429, "SIGNIN_LOCKED")
    assert start(runtime, ID, now=NOW + timedelta(minutes=61))


def test_a_signed_out_or_forged_session_and_a_members_key_are_refused(market) -> None:
    runtime, keys = market
    token = sign_in(runtime, ID, now=NOW)
    person = principal(runtime, token, now=NOW)
    with session_scope(runtime.engine, write=True) as session:
        people.sign_out(session, principal=person, token=token, now=NOW + timedelta(minutes=1))
    for candidate in (token, keys["LENDER"], "obp_" + "A" * 43, "obp_" + "A" * 500, "", None):
        with pytest.raises(BureauError) as err:
            principal(runtime, candidate, now=NOW + timedelta(minutes=2))
        assert (err.value.status_code, err.value.code) == (401, "SESSION_INVALID")
    assert ("person.signout", person.code, person.person_id) in _actions(runtime)


def test_another_persons_code_does_not_open_this_persons_challenge(market) -> None:
    runtime, _ = market
    mine = start(runtime, ID, now=NOW)
    start(runtime, OTHER_ID, now=NOW)  # person 1 has a phone too (BANK_A)
    theirs, _ = last_code(runtime)
    own, _ = last_code_of_first(runtime)
    if theirs != own:
        assert _error(verify(runtime, mine.challenge, theirs, now=NOW))["code"] == "SIGNIN_FAILED"
    token = verify(runtime, mine.challenge, own, now=NOW).result().token
    assert principal(runtime, token, now=NOW).person_id != principal(
        runtime, sign_in(runtime, OTHER_ID, now=NOW + timedelta(minutes=1)), now=NOW + timedelta(minutes=1)).person_id


def last_code_of_first(runtime):
    """The code of the first sign-in code in the outbox."""
    with session_scope(runtime.engine) as session:
        row = session.scalars(select(Notification).where(Notification.kind == "signin.code")
                              .order_by(Notification.id).limit(1)).one()
        body = runtime.vault.decrypt_json(row.message_enc)["body"]
    return re.search(r"\b(\d{6})\b", body).group(1), None


def test_codes_tokens_phones_and_documents_are_never_stored_in_clear(market) -> None:
    runtime, _ = market
    token = sign_in(runtime, ID, now=NOW)
    code, phone = last_code(runtime)
    with session_scope(runtime.engine) as session:
        challenge = session.scalars(select(SigninChallenge)).one()
        assert challenge.code_hash != code and len(challenge.code_hash) == 64
        dumped = []
        for table in ("signin_challenges", "person_sessions", "notifications", "audit_entries"):
            for row in session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - fixed table names
                dumped.append(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)))
    blob = "\n".join(dumped)
    for secret in (ID, phone, token, token[4:], f"code is {code}"):
        assert secret not in blob


def test_every_wrong_code_is_audited_under_the_person_or_as_unidentified(market) -> None:
    runtime, _ = market
    known, unknown = start(runtime, ID, now=NOW), start(runtime, UNKNOWN, now=NOW)
    code, _ = last_code(runtime)
    wrong = "000000" if code != "000000" else "111111"
    verify(runtime, known.challenge, wrong, now=NOW)
    verify(runtime, unknown.challenge, wrong, now=NOW)
    failed = [(actor, person) for action, actor, person in _actions(runtime) if action == "person.signin_failed"]
    assert failed[0][0] == f"PERSON:{failed[0][1]}" and failed[1] == ("PERSON:unidentified", None)
