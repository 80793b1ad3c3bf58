"""Joint lending in the quality figures from a bureau's own tables, on both engines. PLATFORM originates 12 loans
that BANK (70%) and SILENT (30%) fund, and INQUIRER funds one; BANK reports its funded loans naming PLATFORM, two
of them loans PLATFORM's files lack; SILENT furnishes a file but none of its funded loans; INQUIRER furnishes
nothing. Scorecards charge PLATFORM and SILENT; the regulator sees each funder's exposure, small cells blank."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.documents import resident_id
from openbureau.intake import service
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.present.quality import html_report
from openbureau.principals import Principal
from openbureau.quality import service as quality
from openbureau.web.app import create_app as create_web_app
from tests.consent.factories import grant_many
from tests.intake.factories import record, write_file
from tests.members.factories import make_member
from tests.web.factories import english, regulator_sign_in

PERIODS = ("2026-02", "2026-03")
OPERATOR = Principal.operator("OPERATOR:test")
LOANS, BANK_NAMES = 12, 14  # BANK names two loans PLATFORM never reported
JOINT = ("JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR", "JOINT_LOAN_NOT_REPORTED_BY_FUNDER")


def _id(i: int) -> str:
    return resident_id("110101", f"1985{i % 12 + 1:02d}{i % 28 + 1:02d}", f"{i:03d}")


def _who(i: int) -> dict:
    return {"id_number": _id(i), "birth_date": f"1985-{i % 12 + 1:02d}-{i % 28 + 1:02d}", "full_name": "李娜"}


LOAN = {"product_type": "installment", "opened_on": "2026-01-05", "credit_limit": None, "original_amount": "1200000",
        "term_months": "12", "balance": "1000000"}


def _funders(i: int) -> dict[str, str]:
    """BANK 70% and SILENT 30%; the first loan BANK 60%, SILENT 30% and INQUIRER 10%."""
    shares = [("BANK", 7000), ("SILENT", 3000)] if i else [("BANK", 6000), ("SILENT", 3000), ("INQUIRER", 1000)]
    return {k: v for n, (code, share) in enumerate(shares, 1)
            for k, v in ((f"funder_{n}_code", code), (f"funder_{n}_share", str(share)))}


@pytest.fixture
def joint(runtime, tmp_path):
    keys = {code: make_member(runtime, code, *roles) for code, roles in (
        ("PLATFORM", (Role.FURNISHER,)), ("BANK", (Role.FURNISHER, Role.SUBSCRIBER)),
        ("SILENT", (Role.FURNISHER, Role.SUBSCRIBER)), ("INQUIRER", (Role.SUBSCRIBER,)), ("REG", (Role.REGULATOR,)))}
    people = [_id(i) for i in range(BANK_NAMES)]
    for code in ("PLATFORM", "BANK", "SILENT"):
        grant_many(runtime, code, people)
    files = {"PLATFORM": [record(**_who(i), **LOAN, **_funders(i), furnisher_account_id=f"PL-{i:05d}")
                          for i in range(LOANS)],
             "BANK": [record(**_who(i), **LOAN, furnisher_account_id=f"BK-{i:05d}", facilitator_code="PLATFORM",
                             facilitator_account_id=f"PL-{i:05d}") for i in range(BANK_NAMES)],
             "SILENT": [record(**_who(0), furnisher_account_id="SI-CARD-1")]}
    for period in PERIODS:
        for code, records in files.items():
            path = write_file(tmp_path / f"{code}-{period}.csv", [r | {"reporting_period": period} for r in records])
            loaded = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy,
                                    furnisher_code=code, path=path, today=date(2026, 4, 20),
                                    received_at=datetime(2026, int(period[5:]) + 1, 5, tzinfo=UTC)).submission
            assert (loaded.status, loaded.records_rejected) == ("loaded", 0)
    return runtime, keys


def test_scorecards_charge_the_platform_and_the_silent_funder_with_examples_of_their_own(joint) -> None:
    runtime, _ = joint
    with session_scope(runtime.engine) as session:
        report = quality.scorecards(session, principal=OPERATOR, policy=runtime.policy, period="2026-03", months=2)
    found = {(c.furnisher, u.code): u for c in report.scorecards for u in c.under_reporting if u.code in JOINT}
    platform = found[("PLATFORM", JOINT[0])]
    assert (platform.observations, platform.count) == (BANK_NAMES, 2)
    assert sorted(platform.examples) == ["PL-***12 (2026-02-01)", "PL-***13 (2026-02-01)"]
    silent = found[("SILENT", JOINT[1])]
    assert (silent.observations, silent.count, silent.flagged) == (LOANS, LOANS, True)
    assert all(e.startswith("PLATFORM PL-***") for e in silent.examples) and len(silent.examples) == 3
    assert found[("BANK", JOINT[1])].count == 0
    assert not any(f == "INQUIRER" for f, _ in found)  # it furnishes nothing: not judged
    for finding in found.values():
        assert not any(_id(i) in e or "李" in e for i in range(BANK_NAMES) for e in finding.examples)
    page = html_report(report)
    assert JOINT[0] in page and "PL-***12 (2026-02-01)" in page


def test_the_regulator_sees_each_funders_exposure_with_small_cells_suppressed(joint) -> None:
    runtime, keys = joint
    with session_scope(runtime.engine) as session:
        market = quality.market(session, principal=OPERATOR, policy=runtime.policy, period="2026-03")
    cells = {(e.funder, e.facilitator): e for e in market.funder_exposure}
    bank = cells[("BANK", "PLATFORM")]
    assert (bank.loans, bank.persons, bank.balance) == (LOANS, LOANS, LOANS * 1_000_000)
    assert bank.funded_balance == 11 * 700_000 + 600_000 and bank.past_due_share == 0.0
    assert cells[("SILENT", "PLATFORM")].funded_balance == LOANS * 300_000
    small = cells[("INQUIRER", "PLATFORM")]  # one loan of one person: fewer than k
    assert small.suppressed and (small.loans, small.balance, small.funded_balance) == (None, None, None)
    under = {(c.furnisher, c.code): c for c in market.under_reporting}
    assert under[("SILENT", JOINT[1])].count == LOANS and under[("SILENT", JOINT[1])].flagged
    assert under[("PLATFORM", JOINT[0])].suppressed and under[("PLATFORM", JOINT[0])].count is None  # 2 persons
    with english(create_web_app(runtime)) as browser:  # the regulator's page shows the same cells
        assert regulator_sign_in(browser, keys["REG"]).status_code == 303
        board = browser.get("/regulator?months=1").text  # two periods on file: a longer window is refused
    exposure = board.split('data-testid="funder-exposure"')[1].split("</table>")[0]
    assert '<tr><th scope="row">BANK</th><td>PLATFORM</td><td>12</td>' in exposure
    assert '<tr class="suppressed"><th scope="row">INQUIRER</th><td>PLATFORM</td><td>suppressed</td>' in exposure
    with TestClient(create_app(runtime)) as client:
        body = client.get("/v1/quality/market", params={"period": "2026-03"},
                          headers={"X-API-Key": keys["REG"]}).json()
        assert {(e["funder"], e["suppressed"]) for e in body["funder_exposure"]} == {
            ("BANK", False), ("SILENT", False), ("INQUIRER", True)}
        # A funder is not the regulator: the market, exposures included, is refused to it.
        assert client.get("/v1/quality/market", headers={"X-API-Key": keys["BANK"]}).status_code == 403
        # A furnisher's scorecard shows its own joint-loan findings and no one else's.
        own = client.get("/v1/quality/scorecards", params={"period": "2026-03", "months": 2},
                         headers={"X-API-Key": keys["SILENT"]}).json()
        assert [c["furnisher"] for c in own["scorecards"]] == ["SILENT"]
        assert [u["code"] for u in own["scorecards"][0]["under_reporting"]] == [JOINT[1]]
