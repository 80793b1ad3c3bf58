"""Members: registration, keys stored only hashed, revocation, authentication."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from openbureau.audit.service import terminal_operator
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, Unauthenticated
from openbureau.members import service
from openbureau.members.models import ApiKey, Role
from openbureau.members.schemas import MemberCreate
from openbureau.principals import Action, Principal, authorize
from tests.members.factories import make_member

OPERATOR = terminal_operator()


def test_key_is_shown_once_and_stored_only_hashed(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    with session_scope(runtime.engine) as session:
        stored = session.scalars(select(ApiKey)).one()
        assert key not in (stored.key_hash, stored.prefix)
        assert key.split("_")[1] == stored.prefix
        member = service.authenticate(session, api_key=key)
        assert member.code == "BANK_A"
        assert member.roles == {Role.FURNISHER, Role.SUBSCRIBER}


def test_duplicate_code_is_refused(runtime) -> None:
    make_member(runtime, "BANK_A")
    with pytest.raises(Conflict) as err, session_scope(runtime.engine, write=True) as session:
        service.add_member(session, principal=OPERATOR, data=MemberCreate(code="BANK_A", name="again",
                                                                            roles=[Role.SUBSCRIBER]))
    assert err.value.code == "MEMBER_EXISTS"


def test_revoked_wrong_and_missing_keys_are_refused(runtime) -> None:
    key = make_member(runtime, "BANK_A")
    with session_scope(runtime.engine, write=True) as session:
        service.revoke_key(session, principal=OPERATOR, prefix=key.split("_")[1])
    with session_scope(runtime.engine) as session:
        for bad, code in [(key, "API_KEY_REVOKED"), (key[:-2] + "xx", "INVALID_API_KEY"),
                          ("nonsense", "INVALID_API_KEY"), (None, "UNAUTHENTICATED")]:
            with pytest.raises(Unauthenticated) as err:
                service.authenticate(session, api_key=bad)
            assert err.value.code == code


def test_a_second_key_works_alongside_the_first(runtime) -> None:
    first = make_member(runtime, "BANK_A")
    with session_scope(runtime.engine, write=True) as session:
        second = service.issue_key(session, principal=OPERATOR,
                                   member=service.get_member(session, code="BANK_A")).api_key
    with session_scope(runtime.engine) as session:
        assert service.authenticate(session, api_key=first).code == service.authenticate(
            session, api_key=second).code == "BANK_A"


def test_role_is_required(runtime) -> None:
    key = make_member(runtime, "REG", Role.REGULATOR)
    with session_scope(runtime.engine) as session:
        member = service.authenticate(session, api_key=key)
        with pytest.raises(Forbidden):
            authorize(Principal.of_member(member), Action.SUBMIT_FILE)


def test_only_the_operator_manages_members(runtime) -> None:
    key = make_member(runtime, "REG", Role.REGULATOR)
    new = MemberCreate(code="BANK_B", name="B", roles=[Role.SUBSCRIBER])
    with session_scope(runtime.engine, write=True) as session:
        regulator = Principal.of_member(service.authenticate(session, api_key=key))
        for principal in (regulator, Principal.person("P-1")):
            with pytest.raises(Forbidden):
                service.add_member(session, principal=principal, data=new)
            with pytest.raises(Forbidden):
                service.revoke_key(session, principal=principal, prefix=key.split("_")[1])
        with pytest.raises(TypeError):
            service.add_member(session, data=new)  # no principal: refused, never the operator
        with pytest.raises(TypeError):
            service.add_member(session, principal=None, data=new)
        member, _ = service.add_member(session, principal=OPERATOR, data=new)
        assert member.code == "BANK_B"


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _looked_up(runtime, key: str, calls: list[str]):
    def look_up():
        calls.append(key)
        with session_scope(runtime.engine, read_only=True) as session:
            return service.authenticate(session, api_key=key)
    return look_up


def test_recent_keys_are_not_looked_up_again_within_their_time(runtime) -> None:
    key = make_member(runtime, "BANK_A")
    clock, calls = _Clock(), []
    keys = service.RecentKeys(2.0, clock=clock)
    assert keys.authenticate(key, look_up=_looked_up(runtime, key, calls)).code == "BANK_A"
    clock.now += 1.9
    assert keys.authenticate(key, look_up=_looked_up(runtime, key, calls)).code == "BANK_A"
    assert calls == [key]  # the second call was answered from memory
    clock.now += 0.2
    keys.authenticate(key, look_up=_looked_up(runtime, key, calls))
    assert calls == [key, key]  # past its time: looked up again


def test_a_revoked_key_is_refused_once_its_remembered_time_is_over(runtime) -> None:
    key = make_member(runtime, "BANK_A")
    clock, calls = _Clock(), []
    keys = service.RecentKeys(2.0, clock=clock)
    keys.authenticate(key, look_up=_looked_up(runtime, key, calls))
    with session_scope(runtime.engine, write=True) as session:  # revoked elsewhere (the command line)
        service.revoke_key(session, principal=OPERATOR, prefix=key.split("_")[1])
    clock.now += 2.0
    with pytest.raises(Unauthenticated) as err:
        keys.authenticate(key, look_up=_looked_up(runtime, key, calls))
    assert err.value.code == "API_KEY_REVOKED"
    with pytest.raises(Unauthenticated):  # and a refusal is never remembered as a success
        keys.authenticate(key, look_up=_looked_up(runtime, key, calls))
    assert len(calls) == 3


def test_a_forgotten_key_is_refused_at_once_after_its_revocation(runtime) -> None:
    key = make_member(runtime, "BANK_A")
    other = make_member(runtime, "BANK_B")
    clock, calls = _Clock(), []
    keys = service.RecentKeys(60.0, clock=clock)
    keys.authenticate(key, look_up=_looked_up(runtime, key, calls))
    keys.authenticate(other, look_up=_looked_up(runtime, other, calls))
    with session_scope(runtime.engine, write=True) as session:
        service.revoke_key(session, principal=OPERATOR, prefix=key.split("_")[1])
    keys.forget(key.split("_")[1])
    with pytest.raises(Unauthenticated) as err:
        keys.authenticate(key, look_up=_looked_up(runtime, key, calls))
    assert err.value.code == "API_KEY_REVOKED"
    keys.authenticate(other, look_up=_looked_up(runtime, other, calls))
    assert calls == [key, other, key]  # the other key is still remembered


def test_wrong_keys_are_looked_up_every_time_and_zero_seconds_remembers_nothing(runtime) -> None:
    key = make_member(runtime, "BANK_A")
    calls: list[str] = []
    keys = service.RecentKeys(2.0)
    wrong = key[:-2] + ("xx" if not key.endswith("xx") else "yy")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            keys.authenticate(wrong, look_up=_looked_up(runtime, wrong, calls))
    never = service.RecentKeys(0)
    for _ in range(2):
        never.authenticate(key, look_up=_looked_up(runtime, key, calls))
    assert calls == [wrong, wrong, key, key]


def test_recent_keys_are_bounded_in_number() -> None:
    keys = service.RecentKeys(60.0, max_keys=2)
    members = {}
    for n in range(3):
        api_key = f"ob_{n:012d}_secret"
        members[api_key] = keys.authenticate(api_key, look_up=lambda n=n: f"member {n}")
    calls = []
    keys.authenticate("ob_000000000000_secret", look_up=lambda: calls.append(0) or "member 0")
    assert calls == [0]  # the oldest was dropped to keep two
