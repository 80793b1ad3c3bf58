"""``openbureau quality report``: the table, the flags, the market summary and the HTML page."""

from __future__ import annotations

import dataclasses
import inspect

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openbureau.api import quality as api_quality
from openbureau.api.app import create_app
from openbureau.cli import quality
from openbureau.kit.db import session_scope
from openbureau.policy import QualitySettings
from openbureau.principals import Principal
from openbureau.quality import service
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


def test_the_cli_and_the_api_grade_the_same_window_by_default_the_policys(replayed: ReplayedMarket,
                                                                            monkeypatch) -> None:
    monkeypatch.setattr(quality, "open_runtime", lambda: replayed.runtime)
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(quality.app, ["report"])
    assert result.exit_code == 0, result.output
    window = replayed.runtime.policy.quality.window_months
    app = create_app(replayed.runtime)
    app.include_router(api_quality.router, prefix="/v1")
    with TestClient(app) as client:
        body = client.get("/v1/quality/scorecards", headers={"X-API-Key": replayed.keys["REGULATOR"]}).json()
    assert window == 12 and body["months"] == window and len(body["periods"]) == window  # the demo's 12
    assert f"Data quality, {body['periods'][0]} to {body['period']}" in result.output


def test_the_window_is_owned_by_the_policy(replayed: ReplayedMarket, monkeypatch) -> None:
    monkeypatch.setenv("OPENBUREAU_QUALITY_WINDOW_MONTHS", "3")
    short = dataclasses.replace(replayed.runtime.policy, quality=QualitySettings())
    with session_scope(replayed.runtime.engine) as session:
        report = service.scorecards(session, principal=Principal.operator("OPERATOR:test"), policy=short)
        asked = service.scorecards(session, principal=Principal.operator("OPERATOR:test"), policy=short, months=5)
    assert (report.months, len(report.periods), asked.months) == (3, 3, 5)
    assert inspect.signature(service.scorecards).parameters["months"].default is None  # no default of its own
