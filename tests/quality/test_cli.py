"""``openbureau quality report``: the table, the flags, the market summary and the HTML page."""

from __future__ import annotations

from typer.testing import CliRunner

from openbureau.cli import quality
from openbureau.sim import FURNISHERS
from tests.quality.conftest import ReplayedMarket

runner = CliRunner()


def test_report_prints_grades_and_writes_a_self_contained_page(replayed: ReplayedMarket, tmp_path,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(quality, "open_runtime", lambda: replayed.runtime)
    monkeypatch.setenv("COLUMNS", "200")
    page = tmp_path / "quality.html"
    result = runner.invoke(quality.app, ["report", "--months", "3", "--html", str(page)])
    assert result.exit_code == 0, result.output
    for f in FURNISHERS:
        assert f.code in result.output
    assert "Computed in" in result.output and "HHI" in result.output
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3 and "<script" not in html and "http" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_report_refuses_a_bad_period(replayed: ReplayedMarket, monkeypatch) -> None:
    monkeypatch.setattr(quality, "open_runtime", lambda: replayed.runtime)
    result = runner.invoke(quality.app, ["report", "--period", "June"])
    assert result.exit_code == 1 and "INVALID_PERIOD" in result.output


def test_report_covers_the_demos_12_months_by_default(replayed: ReplayedMarket, monkeypatch) -> None:
    from openbureau.kit.db import session_scope
    from openbureau.principals import Principal
    from openbureau.quality import service

    monkeypatch.setattr(quality, "open_runtime", lambda: replayed.runtime)
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(quality.app, ["report"])
    assert result.exit_code == 0, result.output
    with session_scope(replayed.runtime.engine) as session:
        twelve = service.scorecards(session, principal=Principal.operator("OPERATOR:test"),
                                    policy=replayed.runtime.policy, months=12)
    assert len(twelve.periods) == 12 and f"Data quality, {twelve.periods[0]} to {twelve.period}" in result.output
