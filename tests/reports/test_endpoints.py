"""The report over HTTP: inquiries as JSON, HTML and PDF; a subscriber's own log; the person's own report."""

from __future__ import annotations

import io
import time

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from openbureau.api.app import create_app
from openbureau.consent.profiles import Purpose
from openbureau.kit.pacing import LatencyBoard
from tests.adapters import embedded_runtime  # noqa: F401
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.reports.conftest import ID

SUBJECT = {"id_type": "CN_RESIDENT_ID", "id_number": ID}
ASK = {"subject": SUBJECT, "purpose": "loan_origination", "consent_ref": "L-1", "declared_monthly_income": 300_000}


@pytest.fixture
def api(market):
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        yield client, keys


def _post(client, key, url="/v1/inquiries", body=ASK, **params):
    return client.post(url, json=body, headers={"X-API-Key": key}, params=params)


def test_an_inquiry_answers_with_the_report_and_its_signals_and_is_in_the_lenders_log(api) -> None:
    client, keys = api
    answer = _post(client, keys["LENDER"])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["hard"] and body["basis"] == "consent:L-1" and answer.headers["X-Inquiry-Id"] == str(body["inquiry_id"])
    report = body["report"]
    assert report["schema_version"] == "1" and [a["lender"] for a in report["accounts"]] == ["Lender 1", "Lender 2"]
    signals = {s["code"]: s for s in report["signals"]}
    assert signals["OVER_INDEBTEDNESS"]["values"]["debt_to_income"] == round(122_000 / 300_000, 4)
    assert signals["OVER_INDEBTEDNESS"]["triggered"] and signals["RECENT_DELINQUENCY"]["values"]["worst_status"] == "2"
    log = client.get("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}).json()
    assert [(i["id"], i["purpose"], i["hard"], i["person_found"]) for i in log] == [
        (body["inquiry_id"], "loan_origination", True, True)]
    assert client.get("/v1/inquiries", headers={"X-API-Key": keys["BANK_A"]}).json() == []  # only one's own


def test_the_report_renders_as_a_page_and_as_a_pdf(api) -> None:
    client, keys = api
    page = _post(client, keys["LENDER"], format="html")
    assert page.status_code == 201 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Subscriber view" in html and "Lender 1" in html and "BANK_A" not in html and ID not in html
    assert html.count('class="s-2"') == 1 and "Over-indebtedness" in html
    assert "* nothing due that month" in html  # the legend explains every status the grid can show
    pdf = _post(client, keys["LENDER"], format="pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Personal credit report" in text and PEOPLE[0][2] in text  # the CJK font is embedded


def test_bad_requests_name_the_field(api) -> None:
    client, keys = api
    too_long = _post(client, keys["LENDER"], body={**ASK, "history_months": 61})
    assert too_long.status_code == 422 and too_long.json()["field"] == "history_months"
    assert _post(client, keys["LENDER"], format="docx").json()["field"] == "format"
    refused = _post(client, keys["OTHER"])
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_REQUIRED"


def test_the_bureau_counter_gets_the_persons_own_report_and_lenders_cannot(api) -> None:
    client, keys = api
    _post(client, keys["LENDER"])
    own = _post(client, keys["OPS"], "/v1/self-reports", {"subject": SUBJECT})
    assert own.status_code == 200, own.text
    report = own.json()
    assert report["view"] == "consumer" and report["person"]["id_number"] == ID
    assert [(q["lender"], q["basis"]) for q in report["inquiries"]] == [("Lender Ltd (LENDER)", "your consent L-1")]
    assert _post(client, keys["LENDER"], "/v1/self-reports", {"subject": SUBJECT}).json()["code"] == "ROLE_REQUIRED"
    unknown = _post(client, keys["OPS"], "/v1/self-reports",
                    {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[3][0]}})
    assert unknown.status_code == 404 and unknown.json()["code"] == "PERSON_NOT_FOUND"
    page = _post(client, keys["OPS"], "/v1/self-reports", {"subject": SUBJECT}, format="html").text
    assert "Your own report" in page and "Who looked at your file" in page and "A-1" in page


def test_an_inquiry_about_a_person_the_bureau_does_not_know_is_logged_before_it_is_answered(market) -> None:
    runtime, keys = market
    grant(runtime, "LENDER", PEOPLE[3][0], Purpose.LOAN_ORIGINATION, ref="L-3")
    with TestClient(create_app(runtime)) as client:
        answer = _post(client, keys["LENDER"], body={**ASK, "consent_ref": "L-3", "subject": {
            "id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[3][0]}})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert not body["person_found"] and body["report"] is None and body["inquiry_id"] > 0
        log = client.get("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}).json()
    assert [(i["id"], i["purpose"], i["hard"], i["person_found"]) for i in log] == [
        (body["inquiry_id"], "loan_origination", True, False)]


def test_answered_inquiries_are_timed_for_the_latency_board_and_refusals_are_not(market) -> None:
    runtime, keys = market
    board = LatencyBoard(runtime.settings.serving_latency_dir)
    with TestClient(create_app(runtime)) as client:
        for _ in range(2):  # an outsider's quick refusals, two windows apart: no figure
            assert _post(client, "ob_nobody_x").status_code == 401
            time.sleep(1.05)
        assert _post(client, "ob_nobody_x").status_code == 401
        assert board.p99() is None
        for _ in range(2):  # answered inquiries, two windows apart: the second publishes the first's figure
            assert _post(client, keys["LENDER"]).status_code == 201
            time.sleep(1.05)
        assert _post(client, keys["LENDER"]).status_code == 201
        assert client.get("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}).status_code == 200  # a read
        published = board.p99()
    assert published is not None and 0 < published < 5.0
    assert not any(runtime.settings.serving_latency_dir.iterdir())  # a server that stops withdraws its figure
