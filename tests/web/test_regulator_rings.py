"""The regulator's page of fraud rings: the API's aggregates (by size band and by region, with the exposure across
lenders), the same cells suppressed, nothing about any one ring or person; a lender signed in to its workspace
is refused the page."""

from __future__ import annotations

import dataclasses

from openbureau.policy import QualitySettings
from openbureau.web.app import create_app
from tests.fraud.conftest import market  # noqa: F401
from tests.fraud.factories import build
from tests.web.factories import english, member_sign_in, regulator_sign_in


def _with_k(runtime, k: int):
    return dataclasses.replace(runtime, policy=dataclasses.replace(runtime.policy,
                                                                   quality=QualitySettings(min_cell_persons=k)))


def test_the_regulator_reads_the_rings_as_the_api_gives_them(market) -> None:  # noqa: F811
    runtime, keys = market
    runtime = _with_k(runtime, 3)
    with english(create_app(runtime)) as client:
        assert regulator_sign_in(client, keys["REG"]).status_code == 303
        assert 'data-testid="no-rings"' in client.get("/regulator/rings").text
        build(runtime)
        shown = client.get("/regulator/rings")
        api = client.get("/v1/fraud/rings/statistics", headers={"X-API-Key": keys["REG"]}).json()
    assert shown.status_code == 200 and "<script" not in shown.text
    assert (api["rings"], api["persons"]) == (1, 3)
    assert "1 rings of 3 persons" in shown.text
    (cell,) = api["by_size"]
    row = f'<th scope="row">{cell["group"]}</th><td>{cell["rings"]}</td><td>{cell["persons"]}</td><td>{cell["lenders"]}</td>'
    assert row in shown.text
    for name in ("钱伟", "吴敏", "13900000003"):  # no member of the ring is named
        assert name not in shown.text


def test_small_cells_are_suppressed_and_a_lenders_session_is_refused(market) -> None:  # noqa: F811
    runtime, keys = market
    build(runtime)
    with english(create_app(runtime)) as client:  # the bureau's k of 10
        assert regulator_sign_in(client, keys["REG"]).status_code == 303
        shown = client.get("/regulator/rings").text
        assert "suppressed rings of suppressed persons" in shown and 'class="suppressed"' in shown
    with english(create_app(runtime)) as lender:
        assert member_sign_in(lender, keys["LENDER"], path="/lender/signin").status_code == 303
        refused = lender.get("/regulator/rings")
        assert refused.status_code == 403 and 'data-testid="by-size"' not in refused.text
