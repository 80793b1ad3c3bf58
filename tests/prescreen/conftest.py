"""A hand-built US market for prescreens: four persons at BANK_A, a released one-feature scorecard, two lenders.

Person 0: a clean revolving line, small balance, Illinois address (score 700).
Person 1: the same line, 31-60 days late in 2026-08 (a "30 days late"), Illinois (score 700).
Person 2: a clean line and an instalment loan, large balances, Texas (score 500).
Person 3: a clean line, small balance, ZIP 60614 in Illinois (score 700).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from openbureau.consent.profiles import get_profile
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.scoring import service as scoring
from openbureau.scoring.scorecard import SCALES, BinnedFeature, Scorecard, Segment
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.conftest import NOW  # noqa: F401  (reports as of 2026-10)
from tests.reports.factories import furnish, history, month

US = Policy(profile=get_profile("US"), reciprocity=False)
CN = Policy(profile=get_profile("CN"), reciprocity=False)
ADDRESSES = ["12 Oak St, Springfield, IL 62701", "9 Pine Rd, Peoria, IL 61602", "5 Elm Ave, Austin, TX 73301",
             "400 W Fullerton Ave, Chicago, IL 60614"]
NAMES = ["Ann Lee", "Bo Chen", "Cy Diaz", "Di Evans"]
LARGE = "9000000"


def card() -> Scorecard:
    """700 points with less than 2,000.00 owed on open credit, 500 with more."""
    feature = BinnedFeature("total_balance", "numeric", splits=[200_000.0], labels=["< 2000", ">= 2000"],
                            points=[300.0, 100.0], missing_points=100.0)
    return Scorecard(model_version="prescreen-test", kind="bureau", scale=SCALES["300-850"],
                     segments={"main": Segment("main", 0.0, 400.0, [feature])})


def _records(index: int, statuses: str, **extra) -> list[dict]:
    who = {"address": ADDRESSES[index], "full_name": NAMES[index], "currency": "USD"}
    return history(index, f"A-{index}", "2024-11", statuses, balance="100000", **who, **extra)


@pytest.fixture
def market(runtime, tmp_path, monkeypatch):
    """The bureau, its members' principals (LENDER, OTHER subscribers; BANK_A furnisher; the operator)."""
    monkeypatch.setattr(scoring, "RELEASE_CHECK_SECONDS", 0.0)
    keys = {code: make_member(runtime, code, *roles) for code, roles in (
        ("BANK_A", (Role.FURNISHER,)), ("LENDER", (Role.SUBSCRIBER,)), ("OTHER", (Role.SUBSCRIBER,)),
        ("REG", (Role.REGULATOR,)))}
    for number, _, _ in PEOPLE:
        grant(runtime, "BANK_A", number)
    folder = tmp_path / "files"
    folder.mkdir()
    records = _records(0, "N" * 24) + _records(1, "N" * 21 + "2NN") + _records(3, "N" * 24)
    records += history(2, "A-2", "2024-11", "N" * 24, balance=LARGE, address=ADDRESSES[2], full_name=NAMES[2],
                       currency="USD")
    records += [month(2, "L-2", "2026-10", product="installment", opened_on="2025-01-05", balance=LARGE,
                      address=ADDRESSES[2], full_name=NAMES[2], currency="USD")]
    furnish(runtime, "BANK_A", records, folder)
    with session_scope(runtime.engine, write=True) as session:
        scoring.register(session, card=card(), actor_code="OPERATOR:test")
        scoring.release(session, version="prescreen-test", actor_code="OPERATOR:test")
        principals = {code: Principal.of_member(get_member(session, code=code)) for code in keys}
    return replace(runtime, policy=US), principals, keys
