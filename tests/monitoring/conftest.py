"""A lender (LENDER) monitoring its borrowers while other lenders (P1, P2) report about them."""

from __future__ import annotations

import pytest

from openbureau.consent.profiles import Purpose
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.monitoring.factories import Receiver, receive

LENDERS = ("P1", "P2")


@pytest.fixture
def market(runtime):
    """P1, P2 and LENDER furnish about persons 0, 1 and 2 (with their consents); LENDER and OTHER subscribe;
    LENDER holds person 0's consent for account review (``AR-0``). Every person has a file (an event of P2).
    Returns the runtime and the members' API keys."""
    keys = {code: make_member(runtime, code, Role.FURNISHER) for code in LENDERS}
    keys["LENDER"] = make_member(runtime, "LENDER", Role.SUBSCRIBER, Role.FURNISHER)
    keys["OTHER"] = make_member(runtime, "OTHER", Role.SUBSCRIBER, Role.FURNISHER)
    for code in (*LENDERS, "LENDER", "OTHER"):
        for index in range(3):
            grant(runtime, code, PEOPLE[index][0])
    grant(runtime, "LENDER", PEOPLE[0][0], Purpose.ACCOUNT_REVIEW, ref="AR-0")
    receive(runtime, "P2", [event(i, f"SEED-{i}", at=NOW.replace(day=1), kind="application") for i in range(3)])
    return runtime, keys


@pytest.fixture
def receiver():
    """A real HTTP receiver on the loopback address."""
    server = Receiver().start()
    yield server
    server.stop()
