"""A market of platforms reporting events the same day, and a lender asking about the same person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openbureau.consent.profiles import Purpose
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PLATFORMS = ("P1", "P2", "P3", "P4")


@pytest.fixture
def platforms(runtime):
    """Four platforms furnishing with the consent of persons 0 and 1; LENDER subscribes with person 0's
    consent to a loan origination inquiry. Returns the runtime and the members' API keys."""
    keys = {code: make_member(runtime, code, Role.FURNISHER) for code in PLATFORMS}
    keys["LENDER"] = make_member(runtime, "LENDER", Role.SUBSCRIBER, Role.FURNISHER)
    keys["OPS"] = make_member(runtime, "OPS", Role.OPERATOR)
    keys["REGULATOR"] = make_member(runtime, "REGULATOR", Role.REGULATOR)
    for code in (*PLATFORMS, "LENDER"):
        grant(runtime, code, PEOPLE[0][0])
        grant(runtime, code, PEOPLE[1][0])
    grant(runtime, "LENDER", PEOPLE[0][0], Purpose.LOAN_ORIGINATION, ref="L-1")
    return runtime, keys
