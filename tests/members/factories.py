"""Factories of the members domain."""

from __future__ import annotations

from openbureau.audit.service import terminal_operator
from openbureau.kit.db import session_scope
from openbureau.members.models import Role, Vetting
from openbureau.members.schemas import MemberCreate
from openbureau.members.service import add_member
from openbureau.runtime import Runtime


def make_member(runtime: Runtime, code: str = "BANK_A", *roles: Role, name: str | None = None) -> str:
    """Register a member, vetted and approved (every purpose and product permitted), and return its API key."""
    with session_scope(runtime.engine, write=True) as session:
        _, key = add_member(session, principal=terminal_operator(), data=MemberCreate(
            code=code, name=name or f"{code} Ltd", roles=list(roles) or [Role.FURNISHER], vetting=Vetting.APPROVED))
    return key.api_key
