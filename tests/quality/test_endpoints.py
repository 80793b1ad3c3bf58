"""GET /v1/quality/scorecards and /v1/quality/market: who sees what, and the error shape (both engines)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openbureau.api import quality
from openbureau.api.app import create_app
from openbureau.audit.service import terminal_operator
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.schemas import MemberCreate
from openbureau.members.service import add_member
from openbureau.sim import FURNISHERS
from tests.quality.conftest import END, ReplayedMarket


@pytest.fixture
def client(replayed: ReplayedMarket):
    app = create_app(replayed.runtime)
    app.include_router(quality.router, prefix="/v1")
    with TestClient(app) as c:
        yield c


def _get(client, replayed, member: str, path: str, **params):
    return client.get(f"/v1/quality/{path}", params=params, headers={"X-API-Key": replayed.keys[member]})


@pytest.mark.parametrize("member", ["REGULATOR", "OPERATOR"])
def test_regulator_and_operator_see_every_scorecard(client, replayed, member) -> None:
    res = _get(client, replayed, member, "scorecards", period=END, months=3)
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["period"] == END and len(body["periods"]) == 3
    assert {c["furnisher"] for c in body["scorecards"]} == {f.code for f in FURNISHERS}
    card = body["scorecards"][0]
    assert card["grade"] in list("ABCDE") and {m["name"] for m in card["metrics"]} >= {
        "completeness", "validity", "consistency", "timeliness", "coverage", "identity", "disputes"}
    disputes = next(m for m in card["metrics"] if m["name"] == "disputes")
    assert disputes["rate"] is None and disputes["score"] is None


def test_a_furnisher_sees_only_its_own_scorecard(client, replayed) -> None:
    res = _get(client, replayed, "SUPERAPP", "scorecards")
    assert res.status_code == 200
    assert [c["furnisher"] for c in res.json()["scorecards"]] == ["SUPERAPP"]
    assert _get(client, replayed, "TELECOM", "scorecards").json()["scorecards"][0]["furnisher"] == "TELECOM"


def test_subscribers_are_refused(client, replayed) -> None:
    for path in ("scorecards", "market"):
        res = _get(client, replayed, "LENDER_X", path)
        assert res.status_code == 403
        assert res.json() == {"code": "ROLE_REQUIRED", "message": res.json()["message"], "field": None}
    assert _get(client, replayed, "SUPERAPP", "market").status_code == 403
    assert client.get("/v1/quality/scorecards").status_code == 401


def test_bad_and_unknown_periods(client, replayed) -> None:
    bad = _get(client, replayed, "REGULATOR", "scorecards", period="2026-13")
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_PERIOD" and bad.json()["field"] == "period"
    unknown = _get(client, replayed, "REGULATOR", "market", period="2031-01")
    assert unknown.status_code == 404 and unknown.json()["code"] == "PERIOD_NOT_FOUND"
    assert _get(client, replayed, "REGULATOR", "scorecards", period="2019-01").status_code == 404
    assert _get(client, replayed, "REGULATOR", "scorecards", months=0).json()["code"] == "INVALID_REQUEST"


def test_market_statistics_suppress_small_cells(client, replayed) -> None:
    res = _get(client, replayed, "REGULATOR", "market", period=END)
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["k"] == 10 and body["hhi_credit"] > 0 and [m["min_lenders"] for m in body["multi_lending"]] == [
        3, 5, 10]
    cells = body["by_furnisher_product"] + body["by_furnisher"] + body["by_product"]
    assert all(c["persons"] is None or c["persons"] >= 10 or c["persons"] == 0 for c in cells)
    assert all(c["balance"] is None for c in cells if c["suppressed"])
    shares = [c["short_term_share"] for c in body["by_furnisher"] if c["short_term_share"] is not None]
    assert sum(shares) == pytest.approx(1.0, abs=0.02)
    stricter = _get(client, replayed, "OPERATOR", "market", period=END, k=500).json()
    assert sum(c["suppressed"] for c in stricter["by_furnisher_product"]) > sum(
        c["suppressed"] for c in body["by_furnisher_product"])
    low = _get(client, replayed, "REGULATOR", "market", k=3)
    assert low.status_code == 422 and low.json()["code"] == "K_TOO_SMALL"


def test_a_furnisher_without_files_gets_an_empty_report(client, replayed) -> None:
    with session_scope(replayed.runtime.engine, write=True) as session:
        _, key = add_member(session, principal=terminal_operator(), data=MemberCreate(code="NEWBANK", name="New bank", roles=[Role.FURNISHER]))
    res = client.get("/v1/quality/scorecards", headers={"X-API-Key": key.api_key})
    assert res.status_code == 200, res.json()
    assert res.json()["scorecards"] == []
