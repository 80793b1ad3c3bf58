"""The regulator's pages: sign in once with the member's key (a server-side session, the key kept nowhere),
the market over time with its tables, the league table and a furnisher's scorecard, intake statistics; a
lender's key and a stale session are refused; small cells are suppressed as the API suppresses them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.kit.db import session_scope, utcnow
from openbureau.members import service as members
from openbureau.members.models import ConsoleSession, Role
from openbureau.policy import QualitySettings, build_policy
from openbureau.web.app import create_app
from tests.members.factories import make_member
from tests.reports.conftest import market  # noqa: F401
from tests.web.factories import csrf, english, regulator_sign_in

COOKIE = "__Host-obm_session"


@pytest.fixture
def regulated(market):  # noqa: F811
    runtime, keys = market
    keys["REG"] = make_member(runtime, "REG", Role.REGULATOR)
    with english(create_app(runtime)) as client:
        yield client, runtime, keys


def test_a_regulator_signs_in_once_and_reads_the_market_league_table_and_intake(regulated) -> None:
    client, runtime, keys = regulated
    assert client.get("/regulator", follow_redirects=False).headers["location"] == "/regulator/signin"
    signed = regulator_sign_in(client, keys["REG"])
    assert (signed.status_code, signed.headers["location"]) == (303, "/regulator"), signed.text
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/", "max-age=900"} <= attributes
    assert keys["REG"] not in cookie and keys["REG"].split("_", 2)[2] not in cookie  # the key is not in the cookie

    board = client.get("/regulator?months=3")
    assert board.status_code == 200, board.text
    assert "<script" not in board.text and board.text.count("<svg") == 4
    for key in ("shares", "delinquency", "multi", "hhi"):
        assert f'data-testid="chart-{key}"' in board.text
    assert re.search(r"<th scope=\"col\">2026-0[89]</th>", board.text)  # the periods over time
    api = client.get("/v1/quality/market", headers={"X-API-Key": keys["REG"]}).json()
    assert f"Cells about fewer than {api['k']} persons" in board.text
    suppressed = [c for c in api["by_furnisher"] if c["suppressed"]]
    assert board.text.count('class="suppressed"') == len(suppressed)  # the API's suppression, cell for cell
    assert keys["REG"] not in board.text

    # A window longer than the bureau's history charts the months it holds, not an error for the others.
    wide = client.get("/regulator?months=12")
    assert wide.status_code == 200, wide.text
    held = sorted(set(re.findall(r"<th scope=\"col\">(\d{4}-\d{2})</th>", wide.text)))
    assert held and held[-1] == api["period"] and len(held) <= 12

    league = client.get("/regulator/furnishers")
    assert league.status_code == 200
    cards = client.get("/v1/quality/scorecards", headers={"X-API-Key": keys["REG"]}).json()["scorecards"]
    for card in cards:
        assert f'href="/regulator/furnishers/{card["furnisher"]}"' in league.text
    grades = re.findall(r'data-testid="grade">([^<]+)<', league.text)
    assert sorted(grades) == sorted(c["grade"] or "n.a." for c in cards)
    drill = client.get("/regulator/furnishers/BANK_A")
    assert drill.status_code == 200 and "BANK_A: grade" in drill.text and 'data-testid="metrics"' in drill.text
    assert client.get("/regulator/furnishers/NOBODY").status_code == 404

    intake = client.get("/regulator/intake")
    stats = client.get("/v1/stats/intake", headers={"X-API-Key": keys["REG"]}).json()
    assert intake.status_code == 200 and all(f">{row['furnisher']}</a>" in intake.text for row in stats)

    out = client.post("/regulator/signout", data={"csrf": csrf(client, "/regulator")}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/regulator", follow_redirects=False).status_code == 303  # ended


def test_a_lenders_key_cannot_open_the_regulators_pages(regulated) -> None:
    client, runtime, keys = regulated
    for code in ("LENDER", "TELCO"):
        refused = regulator_sign_in(client, keys[code])
        assert refused.status_code == 403 and COOKIE not in client.cookies
    wrong = regulator_sign_in(client, keys["LENDER"][:-4] + "AAAA")
    assert wrong.status_code == 401 and COOKIE not in client.cookies
    # a session opened for a member that later loses nothing but its key: refused at the next page
    assert regulator_sign_in(client, keys["REG"]).status_code == 303
    assert client.get("/regulator/intake").status_code == 200
    with session_scope(runtime.engine, write=True) as session:
        from openbureau.audit.service import terminal_operator

        members.revoke_key(session, principal=terminal_operator(), prefix=keys["REG"].split("_")[1])
    assert client.get("/regulator/intake", follow_redirects=False).headers["location"] == "/regulator/signin"


def test_a_console_form_without_its_csrf_token_is_refused(regulated) -> None:
    client, _, keys = regulated
    no_token = client.post("/regulator/signin", data={"api_key": keys["REG"]})
    assert no_token.status_code == 403 and "CSRF_FAILED" in no_token.text
    assert regulator_sign_in(client, keys["REG"]).status_code == 303
    for sent in ({}, {"csrf": "0" * 64}):
        refused = client.post("/regulator/signout", data=sent)
        assert refused.status_code == 403 and "CSRF_FAILED" in refused.text
    assert client.get("/regulator/intake").status_code == 200  # still signed in


def test_a_console_session_ends_when_it_expires(regulated) -> None:
    client, runtime, keys = regulated
    assert regulator_sign_in(client, keys["REG"]).status_code == 303
    with session_scope(runtime.engine, write=True) as session:
        rows = list(session.scalars(select(ConsoleSession)))
        assert [(r.kind, r.key_prefix, r.actor_code) for r in rows] == [("member", keys["REG"].split("_")[1], "REG")]
        assert all(keys["REG"] not in str(v) for r in rows for v in vars(r).values())  # the key is stored nowhere
        rows[0].expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/regulator/intake", follow_redirects=False).headers["location"] == "/regulator/signin"


def test_the_pages_suppress_the_cells_the_api_suppresses_and_show_the_others(market) -> None:  # noqa: F811
    runtime, keys = market
    runtime = replace(runtime, policy=build_policy(runtime.settings, quality=QualitySettings(min_cell_persons=2)))
    reg = make_member(runtime, "REG", Role.REGULATOR)
    with english(create_app(runtime)) as client:
        api = client.get("/v1/quality/market", headers={"X-API-Key": reg}).json()
        assert regulator_sign_in(client, reg).status_code == 303
        board = client.get("/regulator").text
    rows = {code: flag for flag, code in re.findall(
        r'<tr( class="suppressed")?><th scope="row"><a href="/regulator/furnishers/(\w+)"', board)}
    for cell in api["by_furnisher"]:
        assert (rows[cell["furnisher"]] != "") == cell["suppressed"], cell
        if not cell["suppressed"]:
            assert f"<td>{cell['credit_share']:.1%}</td>" in board
    assert {c["suppressed"] for c in api["by_furnisher"]} == {True, False}  # both kinds are on the page
