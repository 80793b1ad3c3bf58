"""Service rules that need no market: an empty bureau, and bad arguments."""

from __future__ import annotations

import pytest

from openbureau.kit.db import session_scope
from openbureau.kit.errors import NotFound, Unprocessable
from openbureau.quality import service
from openbureau.quality.tasks import QualitySettings


def test_an_empty_bureau_has_no_period_to_report(sqlite_runtime) -> None:
    with session_scope(sqlite_runtime.engine) as session:
        with pytest.raises(NotFound) as caught:
            service.scorecards(session, member=None)
        assert caught.value.code == "PERIOD_NOT_FOUND" and caught.value.field == "period"
        with pytest.raises(NotFound):
            service.market(session, member=None)


def test_arguments_are_checked_before_any_read(sqlite_runtime) -> None:
    with session_scope(sqlite_runtime.engine) as session:
        with pytest.raises(Unprocessable) as caught:
            service.scorecards(session, member=None, months=0)
        assert caught.value.code == "INVALID_MONTHS"
        with pytest.raises(Unprocessable) as caught:
            service.market(session, member=None, k=5, settings=QualitySettings(min_cell_persons=20))
        assert caught.value.code == "K_TOO_SMALL" and caught.value.field == "k"


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("OPENBUREAU_QUALITY_MIN_CELL_PERSONS", "25")
    assert QualitySettings().min_cell_persons == 25 and QualitySettings().due_days == 15
