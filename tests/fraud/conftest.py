"""A small market with one ring: three persons sharing a phone and an address, reported by two lenders,
honest persons, and eleven persons sharing a hotline number."""

from __future__ import annotations

import pytest

from openbureau.members.models import Role
from tests.fraud.factories import (
    HOTLINE,
    RING_ADDRESS,
    RING_PHONE,
    applicant,
    consent_to_inquire,
    furnish_consented,
    resident_id,
)
from tests.members.factories import make_member

RING = (1, 2, 3)
HONEST = 4
CALLERS = tuple(range(20, 31))


@pytest.fixture
def market(runtime, tmp_path):
    """The runtime, the members' API keys and the test persons' records furnished."""
    keys = {code: make_member(runtime, code, Role.FURNISHER, Role.SUBSCRIBER) for code in ("BANK_A", "BANK_B")}
    keys["LENDER"] = make_member(runtime, "LENDER", Role.SUBSCRIBER, Role.FURNISHER)
    keys["REG"] = make_member(runtime, "REG", Role.REGULATOR)
    keys["OPS"] = make_member(runtime, "OPS", Role.OPERATOR)
    folder = tmp_path / "files"
    folder.mkdir()
    a = [applicant(1, phone=RING_PHONE, address=RING_ADDRESS, account="A-1", status="2"),
         applicant(2, phone=RING_PHONE, address=RING_ADDRESS, account="A-2", name="钱伟"),
         applicant(HONEST, phone="13700000004", address="北京市海淀区中关村大街1号", account="A-4", name="孙丽",
                   birth="19800101")]
    a += [applicant(n, phone=HOTLINE, address=f"杭州市西湖区文三路{n}号", account=f"A-{n}", name="周杰")
          for n in CALLERS if n % 2]
    b = [applicant(3, phone="13900000003", address=RING_ADDRESS, account="B-3", name="吴敏")]
    b += [applicant(n, phone=HOTLINE, address=f"杭州市西湖区文三路{n}号", account=f"B-{n}", name="周杰")
          for n in CALLERS if not n % 2]
    furnish_consented(runtime, "BANK_A", a, folder)
    furnish_consented(runtime, "BANK_B", b, folder)
    for n in (*RING, HONEST, CALLERS[0]):
        consent_to_inquire(runtime, "LENDER", subject_id(n), f"L-{n}")
    return runtime, keys


def subject_id(n: int) -> str:
    """The resident ID of test person ``n``."""
    return resident_id(n, "19800101" if n == HONEST else None)


@pytest.fixture(scope="package", params=["sqlite"])
def fraud_market(request, sqlite_template, tmp_path_factory):
    """A small simulated market with more synthetic identities than the default (3% of persons, in rings of
    3-8), replayed into a bureau whose rings are built: what the fraud-risk score is trained on."""
    from tests.fraud.score_factories import fraud_market_of

    yield from fraud_market_of(request, sqlite_template, tmp_path_factory)


@pytest.fixture(scope="package")
def fraud_data(fraud_market):
    """The labelled persons' fraud features, read through the inquiry's own assembly."""
    from tests.fraud.score_factories import training_data

    return training_data(fraud_market)


@pytest.fixture(scope="package")
def fraud_card(fraud_data):
    """A fraud-risk scorecard trained on the simulated market."""
    from openbureau.fraud.training import train_fraud

    return train_fraud(fraud_data, version="fraud-test", seed=42)
