"""Fixtures of the intake tests."""

from __future__ import annotations

import pytest

from openbureau.members.models import Role
from openbureau.runtime import Runtime
from tests.members.factories import make_member


@pytest.fixture
def us_bureau(runtime: Runtime) -> Runtime:
    """The ``runtime`` bureau under the US profile (furnishing without consent), with the furnisher BANK_US."""
    settings = runtime.settings.model_copy(update={"jurisdiction": "US"})
    bureau = Runtime(settings=settings, engine=runtime.engine, vault=runtime.vault)
    assert bureau.policy.profile.code == "US"
    make_member(bureau, "BANK_US", Role.FURNISHER)
    return bureau
