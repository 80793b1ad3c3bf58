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
