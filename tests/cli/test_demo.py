"""The demo: from an empty directory to a bureau whose printed keys work against its API."""

from __future__ import annotations

import re
from collections import Counter

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from openbureau.accounts.models import AccountState
from openbureau.api.app import create_app
from openbureau.audit.service import terminal_operator
from openbureau.cli.main import app
from openbureau.disputes.models import Dispute
from openbureau.intake.events.files import EVENTS_KIND
from openbureau.intake.models import Finding, Submission
from openbureau.intake.service import intake_statistics
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings, get_settings
from openbureau.members.service import get_member
from openbureau.monitoring.models import Trigger, WebhookAttempt, WebhookDelivery
from openbureau.rights.models import SecurityFreeze
from openbureau.runtime import open_runtime
from openbureau.sim import FURNISHERS, read_event_manifest, read_manifest
from tests.web.factories import member_sign_in

runner = CliRunner()


def test_demo_builds_a_bureau_whose_keys_work(tmp_path) -> None:
    data_dir = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--persons", "300", "--months", "3", "--data-dir", str(data_dir),
                                 "--no-serve"])
    assert result.exit_code == 0, result.output
    for f in FURNISHERS:
        assert re.search(rf"^\s*{f.code}\s+ob_\w+_\S+", result.output, re.M), f.code
        assert re.search(rf"^ ?{f.code}\s+[\d,]+\s+[\d,]+\s+", result.output, re.M), f.code
    keys = dict(re.findall(r"^\s*([A-Z_]+)\s+(ob_\w+_\S+)", result.output, re.M))
    runtime = open_runtime(Settings(data_dir=data_dir))
    with session_scope(runtime.engine) as session:
        monthly = select(func.count()).select_from(Submission).where(Submission.kind != EVENTS_KIND)
        # Every monthly file of the market, and the correction BANK_A sends in the person's scene.
        assert session.scalar(monthly) == len(read_manifest(data_dir / "market")) + 1
        daily = select(func.count()).select_from(Submission).where(Submission.kind == EVENTS_KIND)
        assert session.scalar(daily) == sum(1 for e in read_event_manifest(data_dir / "market") if e.rows) > 0
        stats = {row.furnisher: row for row in intake_statistics(session, principal=terminal_operator())}
    # The super-app holds consents of about a quarter of its customers: most of its records are held.
    assert stats["SUPERAPP"].records_held > 0 and stats["SUPERAPP"].consent_coverage < stats["BANK_A"].consent_coverage
    with TestClient(create_app(runtime)) as client:
        own = client.get("/v1/submissions", headers={"X-API-Key": keys["SUPERAPP"]})
        assert own.status_code == 200 and sum(s["kind"] != EVENTS_KIND for s in own.json()) == 3
        assert client.get("/v1/members/me", headers={"X-API-Key": keys["REGULATOR"]}).json()["roles"] == [
            "regulator"]
    # The portal's page for each audience, as printed, answers (the demo serves the portal's app).
    from openbureau.web.app import create_app as create_portal

    with TestClient(create_portal(runtime)) as portal:
        for audience in ("a person", "a lender", "the regulator"):
            page = re.search(rf"^\s*{audience}:\s+http://127\.0\.0\.1:\d+(/\S+)", result.output, re.M)
            assert page, (audience, result.output)
            assert portal.get(page.group(1)).status_code == 200, page.group(1)
    assert re.search(r"the operator:\s+.*serve --operator-console.*members console-code", result.output)
    # The printed second factor works: BANK_A's staff sign in to the workspace with its key and a code of it.
    secret = re.search(r"^\s*BANK_A\s+([A-Z2-7]{16,})\s+otpauth://", result.output, re.M)
    assert secret, result.output
    with TestClient(create_portal(runtime), base_url="https://testserver") as portal:
        signed = member_sign_in(portal, keys["BANK_A"], path="/lender/signin", code=pyotp.TOTP(secret.group(1)).now())
        assert (signed.status_code, signed.headers["location"]) == (303, "/lender/workspace"), signed.text
        assert portal.get("/lender/submissions").status_code == 200
    assert re.search(r"Built: [\d,]+ persons, [\d,]+ accounts", result.output)
    assert re.search(r"Lending events: [\d,]+ daily files of 10 lenders, [\d,]+ events, [\d,]+ stored", result.output)
    assert "No scoring model: 3 months of history" in result.output
    assert "No fraud-risk model:" in result.output  # too few frauds among 300 persons to train on
    # The monitored portfolio: BANK_A registered its borrowers after its first file; the triggers the later files
    # and events wrote reached its webhook receiver, signed, each delivered once.
    found = re.search(r"Monitoring: BANK_A registered ([\d,]+) borrowers .*?([\d,]+) triggers reached its webhook "
                      r"at \S+ \(([\d,]+) of ([\d,]+) requests with a valid signature;", result.output)
    assert found, result.output
    registered, reached, valid, requests = (int(g.replace(",", "")) for g in found.groups())
    assert registered > 0 and reached > 0 and valid == requests == reached
    with session_scope(runtime.engine) as session:
        bank = get_member(session, code="BANK_A").id
        statuses = Counter(session.scalars(select(WebhookDelivery.status).where(WebhookDelivery.subscriber_id == bank)))
        attempts = session.scalar(select(func.count()).select_from(WebhookAttempt))
        kinds = Counter(session.scalars(select(Trigger.kind).where(Trigger.subscriber_id == bank,
                                                                   Trigger.kind != "freeze")))
    assert statuses["delivered"] == reached == attempts == sum(kinds.values())
    assert re.search(rf"by kind: new_credit {kinds['new_credit']:,} \(", result.output)
    # The printed loan application works: LENDER_X holds the borrower's consent and gets the report.
    application = re.search(r"-H 'X-API-Key: (\S+)' -H 'Content-Type: application/json' -d '(\{[^']*loan_origination"
                            r"[^']*\})'", result.output)
    assert application, result.output
    with TestClient(create_app(runtime)) as client:
        answer = client.post("/v1/inquiries", headers={"X-API-Key": application.group(1),
                                                       "Content-Type": "application/json"},
                             content=application.group(2), params={"format": "html"})
    assert answer.status_code == 201 and "Subscriber view" in answer.text and "Risk signals" in answer.text
    log = re.search(r"curl -H 'X-API-Key: (\S+)' '\S+(/webhooks/deliveries\?limit=5)'", result.output)
    assert log and log.group(1) == keys["BANK_A"], result.output
    with TestClient(create_app(runtime)) as client:
        shown = client.get("/v1" + log.group(2), headers={"X-API-Key": log.group(1)}).json()
    assert len(shown) == 5 and {d["status"] for d in shown} <= {"delivered", "pending"}
    assert re.search(r"openbureau report --id-type CN_RESIDENT_ID --id-number \d{17}[\dX]", result.output)
    # The person's scene: signed in, disputed a month that BANK_A corrected, froze the file; refused credit.
    assert re.search(r"1\. A borrower signs in .* the code arrives on their phone", result.output)
    assert "answers it corrected" in result.output and "is refused: 403 FROZEN" in result.output
    assert re.search(r"6\. They are told of each step: .*dispute\.filed, dispute\.answered, .*freeze\.placed",
                     result.output)
    with session_scope(runtime.engine) as session:
        (dispute,) = session.scalars(select(Dispute)).all()
        (freeze,) = session.scalars(select(SecurityFreeze)).all()
    assert (dispute.status, dispute.outcome, dispute.channel) == ("resolved", "corrected", "portal")
    assert freeze.person_id == dispute.person_id and freeze.removed_at is None
    # The printed sign-in works: the code reaches the notifications folder, and the borrower reads their report.
    signin = re.search(r"-d '(\{\"document\"[^']*\})' (\S+)/me/signin", result.output)
    assert signin and "notifications dispatch" in result.output, result.output
    portal = re.search(r"Or in a browser: (\S+)/signin with the document number (\S+)", result.output)
    assert portal and portal.group(1) + "/v1" == signin.group(2) and portal.group(2) in signin.group(1)
    with TestClient(create_app(runtime)) as client:
        challenge = client.post("/v1/me/signin", content=signin.group(1),
                                headers={"Content-Type": "application/json"}).json()["challenge"]
        get_settings.cache_clear()
        try:
            sent = runner.invoke(app, ["notifications", "dispatch"], env={"OPENBUREAU_DATA_DIR": str(data_dir)})
        finally:
            get_settings.cache_clear()
        assert sent.exit_code == 0 and re.search(r"file: [\d,]+ sent", sent.output), sent.output
        codes = sorted((int(p.stem), found.group(1)) for p in (data_dir / "notifications").glob("*.json")
                       if (found := re.search(r"Your code is (\d{6})", p.read_text("utf-8"))))
        assert len(codes) == 2  # the scene's person's, then this one (the newest)
        code = codes[-1][1]
        token = client.post("/v1/me/signin/verify", json={"challenge": challenge, "code": code}).json()["token"]
        own = client.get("/v1/me/report", headers={"Authorization": f"Bearer {token}"})
        assert own.status_code == 200 and own.json()["view"] == "consumer"


def test_demo_refuses_a_directory_it_did_not_make(tmp_path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = runner.invoke(app, ["demo", "--persons", "100", "--data-dir", str(tmp_path), "--no-serve"])
    assert result.exit_code != 0
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_the_demo_under_the_us_profile_loads_one_lenders_files_as_metro2(tmp_path) -> None:
    data_dir = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--persons", "200", "--months", "3", "--event-months", "0", "--data-dir",
                                 str(data_dir), "--no-serve", "--profile", "us"])
    assert result.exit_code == 0, result.output
    assert re.search(r"BANK_B furnished in Metro 2 \(US profile\): 3 files .*, [\d,]+ records received", result.output)
    runtime = open_runtime(Settings(data_dir=data_dir, jurisdiction="US"))
    with session_scope(runtime.engine) as session:
        bank_b = get_member(session, code="BANK_B").id
        sent = session.execute(select(Submission.id, Submission.status, Submission.records_received)
                               .where(Submission.furnisher_id == bank_b, Submission.format == "metro2")).all()
        fields = set(session.scalars(select(Finding.field).where(Finding.submission_id.in_([s.id for s in sent]))))
        profiles = session.scalar(select(func.count(AccountState.history_profile))
                                  .where(AccountState.furnisher_id == bank_b))
    assert len(sent) == 3 and all(s.status == "loaded" and s.records_received > 0 for s in sent)
    # no record fails for want of what the conversion gives (a number, a name, an address in ASCII, no phone)
    converted = ("social_security_number", "surname", "first_name", "first_line_of_address", "city", "state",
                 "postal_zip_code", "telephone_number", "phone")
    assert not {f for f in fields if f and f.split(".")[-1] in converted}, fields
    assert profiles > 0  # the second and third files carry the months before them


def test_the_demo_refuses_an_unknown_profile(tmp_path) -> None:
    result = runner.invoke(app, ["demo", "--persons", "100", "--data-dir", str(tmp_path / "d"), "--no-serve",
                                 "--profile", "XX"])
    assert result.exit_code != 0 and "not a profile" in result.output
