"""The regulator's aggregates of rings: correct on hand-built rings, small cells suppressed, for the regulator
and the operator only; no endpoint lists a ring's members."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.audit import service as audit
from openbureau.fraud.statistics import (
    EXPOSURE_SCHEMA,
    MEMBER_SCHEMA,
    ring_statistics,
    ring_tables,
    size_band,
)
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, Unprocessable
from openbureau.members.service import get_member
from openbureau.policy import QualitySettings
from openbureau.principals import Principal
from tests.fraud.factories import NOW, build

# Hand-built rings: (ring, size, delinquent persons, region) and each member's live accounts (lender, balance,
# past due).
RINGS = [(1, 3, 1, "31"), (2, 3, 0, "31"), (3, 6, 4, "44"), (4, 12, 6, "11")]


def _frames():
    members, exposure = [], []
    person = 0
    for ring, size, delinquent, region in RINGS:
        for i in range(size):
            person += 1
            members.append((person, ring, size, delinquent, region))
            exposure.append((person, 100 + ring, 1_000, False))
            if i == 0:
                exposure.append((person, 200, 500, True))
    return (pl.DataFrame(members, schema=MEMBER_SCHEMA, orient="row"),
            pl.DataFrame(exposure, schema=EXPOSURE_SCHEMA, orient="row"))


def _cell(frame: pl.DataFrame, group: str) -> dict:
    return frame.filter(pl.col("group") == group).row(0, named=True)


def test_the_tables_add_up_on_hand_built_rings() -> None:
    members, exposure = _frames()
    tables = ring_tables(members, exposure, k=1)
    assert tables["rings"] == 4 and tables["persons"] == 24
    small = _cell(tables["by_size"], "2-4")
    assert (small["rings"], small["persons"], small["delinquent_persons"]) == (2, 6, 1)
    assert (small["lenders"], small["open_accounts"], small["open_balance"], small["past_due_balance"]) == (
        3, 8, 7_000, 1_000)
    big = _cell(tables["by_size"], "11 or more")
    assert (big["rings"], big["persons"], big["lenders"], big["open_balance"], big["delinquent_persons"]) == (
        1, 12, 2, 12_500, 6)
    assert _cell(tables["by_region"], "31")["persons"] == 6 and _cell(tables["by_region"], "44")["rings"] == 1
    assert [size_band(s) for s in (2, 4, 5, 10, 11, 40)] == ["2-4", "2-4", "5-7", "8-10", "11 or more", "11 or more"]


def test_small_cells_are_suppressed_with_a_second_cell_to_protect_them() -> None:
    members, exposure = _frames()
    tables = ring_tables(members, exposure, k=7)
    by_size = {r["group"]: r for r in tables["by_size"].iter_rows(named=True)}
    # 5-7 (6 persons) is under k; the smallest other cell (2-4, 6 persons) is suppressed too, or the published
    # totals would give it away.
    assert by_size["5-7"]["suppressed"] and by_size["5-7"]["persons"] is None and by_size["5-7"]["open_balance"] is None
    assert by_size["2-4"]["suppressed"] and by_size["2-4"]["rings"] is None
    assert not by_size["11 or more"]["suppressed"] and by_size["11 or more"]["persons"] == 12
    by_region = {r["group"]: r for r in tables["by_region"].iter_rows(named=True)}
    assert by_region["31"]["suppressed"] and by_region["44"]["suppressed"] and not by_region["11"]["suppressed"]
    tiny = ring_tables(members.head(3), exposure.head(4), k=10)
    assert tiny["rings"] is None and tiny["persons"] is None and tiny["by_size"]["suppressed"].all()


def _principal(runtime, code: str) -> Principal:
    with session_scope(runtime.engine) as session:
        return Principal.of_member(get_member(session, code=code))


def test_the_regulator_reads_the_market_s_ring_and_its_exposure(market) -> None:
    runtime, _ = market
    build(runtime)
    regulator = _principal(runtime, "REG")
    policy = dataclasses.replace(runtime.policy, quality=QualitySettings(min_cell_persons=3))
    with session_scope(runtime.engine, write=True) as session:
        found = ring_statistics(session, vault=runtime.vault, principal=regulator, policy=policy, now=NOW)
    assert (found.rings, found.persons, found.k, found.min_ring_size) == (1, 3, 3, 3)
    [cell] = found.by_size
    # Persons 1 and 2 at BANK_A (person 1 45 days past due), person 3 at BANK_B; 1,200.00 yuan each.
    assert (cell.group, cell.rings, cell.persons, cell.lenders, cell.open_accounts) == ("2-4", 1, 3, 2, 3)
    assert (cell.open_balance, cell.past_due_balance, cell.delinquent_persons) == (360_000, 120_000, 1)
    assert [c.group for c in found.by_region] == ["31"] and not cell.suppressed
    with session_scope(runtime.engine, write=True) as session:  # the bureau's k of 10: all suppressed
        default = ring_statistics(session, vault=runtime.vault, principal=regulator, policy=runtime.policy, now=NOW)
        with pytest.raises(Unprocessable):
            ring_statistics(session, vault=runtime.vault, principal=regulator, policy=runtime.policy, k=2, now=NOW)
    assert default.rings is None and default.persons is None and default.by_size[0].suppressed
    assert default.by_size[0].open_balance is None
    with session_scope(runtime.engine) as session:
        entries = audit.list_entries(session, action="fraud.ring_statistics")
    assert entries and entries[0].actor_code == regulator.code and entries[0].person_id is None


def test_a_lender_may_not_read_the_aggregates_and_no_endpoint_lists_a_ring(market) -> None:
    runtime, keys = market
    build(runtime)
    for code in ("LENDER", "BANK_A"):
        with session_scope(runtime.engine, write=True) as session, pytest.raises(Forbidden):
            ring_statistics(session, vault=runtime.vault, principal=_principal(runtime, code),
                            policy=runtime.policy, now=NOW)
    app = create_app(runtime)
    with TestClient(app) as client:
        for code in ("LENDER", "BANK_A", "BANK_B"):  # subscribers and furnishers
            r = client.get("/v1/fraud/rings/statistics", headers={"X-API-Key": keys[code]})
            assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
        assert client.get("/v1/fraud/rings/statistics").status_code == 401
        for code in ("REG", "OPS"):
            r = client.get("/v1/fraud/rings/statistics", headers={"X-API-Key": keys[code]})
            assert r.status_code == 200 and r.json()["rings"] is None  # one ring of 3: under the bureau's k
            assert "person_id" not in r.text and "ring_id" not in r.text
        assert client.get("/v1/fraud/rings/statistics?k=2",
                          headers={"X-API-Key": keys["REG"]}).json()["code"] == "K_TOO_SMALL"
        for guess in ("/v1/fraud/rings", "/v1/fraud/rings/1", "/v1/fraud/rings/1/members"):
            assert client.get(guess, headers={"X-API-Key": keys["LENDER"]}).status_code in (404, 405)
        paths = client.get("/v1/openapi.json").json()["paths"]
    assert {p for p in paths if "/rings" in p} == {"/v1/fraud/rings/statistics"}
