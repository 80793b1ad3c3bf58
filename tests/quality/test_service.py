"""Service rules that need no market: an empty bureau, and bad arguments."""

from __future__ import annotations

import pytest

from openbureau.kit.db import session_scope
from openbureau.kit.errors import NotFound, Unprocessable
from openbureau.policy import Policy, QualitySettings
from openbureau.principals import Principal
from openbureau.quality import service

OPERATOR = Principal.operator("OPERATOR:test")


def test_an_empty_bureau_has_no_period_to_report(sqlite_runtime) -> None:
    with session_scope(sqlite_runtime.engine) as session:
        with pytest.raises(NotFound) as caught:
            service.scorecards(session, principal=OPERATOR, policy=sqlite_runtime.policy)
        assert caught.value.code == "PERIOD_NOT_FOUND" and caught.value.field == "period"
        with pytest.raises(NotFound):
            service.market(session, principal=OPERATOR, policy=sqlite_runtime.policy)


def test_arguments_are_checked_before_any_read(sqlite_runtime) -> None:
    with session_scope(sqlite_runtime.engine) as session:
        with pytest.raises(Unprocessable) as caught:
            service.scorecards(session, principal=OPERATOR, policy=sqlite_runtime.policy, months=0)
        assert caught.value.code == "INVALID_MONTHS"
        policy = Policy(profile=sqlite_runtime.policy.profile, reciprocity=False,
                        quality=QualitySettings(min_cell_persons=20))
        with pytest.raises(Unprocessable) as caught:
            service.market(session, principal=OPERATOR, policy=policy, k=5)
        assert caught.value.code == "K_TOO_SMALL" and caught.value.field == "k"


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("OPENBUREAU_QUALITY_MIN_CELL_PERSONS", "25")
    assert QualitySettings().min_cell_persons == 25 and QualitySettings().due_days == 15
    assert QualitySettings().window_months == 12
    monkeypatch.setenv("OPENBUREAU_QUALITY_WINDOW_MONTHS", "37")  # past the longest window
    with pytest.raises(ValueError, match="window_months"):
        QualitySettings()


def test_scorecards_report_the_identity_conflicts_charged_to_each_furnisher(runtime, tmp_path) -> None:
    from openbureau.identity.models import IdentityConflict
    from openbureau.intake import service as intake
    from openbureau.kit.db import session_scope
    from openbureau.members.models import Role
    from openbureau.members.service import get_member
    from openbureau.quality import service as quality
    from tests.consent.factories import grant
    from tests.intake.factories import PEOPLE, person, write_file
    from tests.members.factories import make_member

    make_member(runtime, "BANK_A", Role.FURNISHER)
    grant(runtime, "BANK_A", PEOPLE[0][0])
    intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                  path=write_file(tmp_path / "a.csv", [person(0)]))
    with session_scope(runtime.engine, write=True) as session:
        bank = get_member(session, code="BANK_A")
        session.add(IdentityConflict(kind="name_mismatch", person_id=1, furnisher_id=bank.id))
    with session_scope(runtime.engine) as session:
        cards = quality.scorecards(session, principal=OPERATOR, policy=runtime.policy).scorecards
    assert [(c.furnisher, c.identity_conflicts) for c in cards] == [("BANK_A", 1)]
