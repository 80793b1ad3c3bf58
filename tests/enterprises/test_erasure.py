"""A sole trader's held business record erased at the person's request leaves nothing of the business behind
(its sealed name and code), on both engines."""

from __future__ import annotations

from sqlalchemy import func, select

from openbureau.consent.profiles import ErasureScope
from openbureau.enterprises.models import AccountEnterprise, Enterprise, EnterpriseState
from openbureau.identity.repository import find_person_by_id
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.people import erasure
from openbureau.people.export import build_export
from tests.consent.factories import grant
from tests.enterprises.factories import SHOP_NAME, SHOP_USCC, enterprise, sole_trader
from tests.intake.factories import PEOPLE, person
from tests.members.factories import make_member
from tests.people.factories import principal, sign_in
from tests.reports.conftest import NOW
from tests.reports.factories import furnish


def counts(runtime) -> tuple[int, int, int]:
    with session_scope(runtime.engine) as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in
                     (AccountEnterprise, Enterprise, EnterpriseState))


def test_erasing_held_records_erases_their_business_links(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    make_member(runtime, "NEWBANK", Role.FURNISHER)
    for index in (0, 1):  # a record in each person's file with their phone: they can sign in
        grant(runtime, "BANK_A", PEOPLE[index][0])
    furnish(runtime, "BANK_A", [person(0, furnisher_account_id="P-0"), person(1, furnisher_account_id="P-1")],
            tmp_path)
    furnish(runtime, "NEWBANK", [sole_trader(0, "S-1"), sole_trader(1, "S-2"), enterprise("E-1")], tmp_path)
    assert counts(runtime) == (2, 2, 1)  # the shop (both owners' records name it) and the firm
    me = principal(runtime, sign_in(runtime, PEOPLE[0][0], now=NOW), now=NOW)
    with session_scope(runtime.engine) as session:  # the person's export names the business of their record
        held = build_export(session, vault=runtime.vault, person=find_person_by_id(session, me.person_id),
                            policy=runtime.policy, now=NOW)
    assert [(b.lender, b.account_id, b.business_name, b.enterprise_uscc) for b in held.businesses] == [
        ("NEWBANK", "S-1", SHOP_NAME, SHOP_USCC)]
    done = erasure.erase(runtime.engine, vault=runtime.vault, principal=me, policy=runtime.policy,
                         scope=ErasureScope.HELD_RECORDS, now=NOW)
    assert done.erased["held_records"] == 1
    assert counts(runtime) == (1, 2, 1)  # person 1's record still names the shop
    other = principal(runtime, sign_in(runtime, PEOPLE[1][0], now=NOW), now=NOW)
    erasure.erase(runtime.engine, vault=runtime.vault, principal=other, policy=runtime.policy,
                  scope=ErasureScope.HELD_RECORDS, now=NOW)
    assert counts(runtime) == (0, 1, 1)  # no record names the shop's code any more; the firm's stay
