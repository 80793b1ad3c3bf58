"""Under-reporting findings from a bureau's own tables, on both engines: four lenders that look up 40
applicants each in January and grant 24 loans; SHY reports 6 of its loans from its first file on. Its
scorecard flags it by its inquiries, its own opened events and the consents it recorded; the regulator's
statistics show the per-furnisher figures with small counts suppressed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from openbureau.accounts.models import LendingEvent
from openbureau.consent.profiles import Purpose
from openbureau.documents import resident_id
from openbureau.identity.models import Person
from openbureau.inquiries.models import Inquiry
from openbureau.intake import quarantine, service
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.present.quality import html_report
from openbureau.principals import Principal
from openbureau.quality import service as quality
from openbureau.quality.schemas import ScorecardReport
from tests.consent.factories import consent_data
from tests.intake.factories import record, write_file
from tests.members.factories import make_member

LENDERS = ("HONEST_A", "HONEST_B", "HONEST_C", "SHY")
APPLICANTS, GRANTED, SHY_REPORTS = 40, 24, 6
PERIODS = ("2026-01", "2026-02", "2026-03")
OPERATOR = Principal.operator("OPERATOR:test")


def _id(lender: int, i: int) -> str:
    return resident_id("110101", f"1980{lender + 1:02d}{i % 28 + 1:02d}", f"{i:03d}")


def _build(bureau, tmp_path: Path) -> None:
    for code in ("BASE", *LENDERS):
        make_member(bureau, code, Role.FURNISHER, Role.SUBSCRIBER)
    rows: dict[str, list[dict]] = {code: [] for code in ("BASE", *LENDERS)}
    for n, code in enumerate(LENDERS):
        for i in range(APPLICANTS):
            number = _id(n, i)
            who = {"id_number": number, "birth_date": f"1980-{n + 1:02d}-{i % 28 + 1:02d}", "full_name": "王小明",
                   "consent_ref": None}
            rows["BASE"].append(record(**who, furnisher_account_id=f"CARD-{n}-{i:03d}"))  # everyone has a file
            if i < GRANTED and (code != "SHY" or i < SHY_REPORTS):
                rows[code].append(record(**who, furnisher_account_id=f"LOAN-{n}-{i:03d}", product_type="installment",
                                         opened_on=f"2026-01-{i % 28 + 3:02d}", credit_limit=None,
                                         original_amount="1200000", term_months="12", balance="1000000"))
    for period in PERIODS:
        for code, records in rows.items():
            path = write_file(tmp_path / f"{code}-{period}.csv",
                              [r | {"reporting_period": period} for r in records])
            loaded = service.submit(bureau.engine, settings=bureau.settings, policy=bureau.policy,
                                    furnisher_code=code, path=path, today=date(2026, 4, 20),
                                    received_at=datetime(2026, int(period[5:]) + 1, 5, tzinfo=UTC)).submission
            assert (loaded.status, loaded.records_rejected) == ("loaded", 0)
    with session_scope(bureau.engine, write=True) as session:
        persons = {bureau.vault.decrypt(p.id_enc): p.id for p in session.query(Person)}
        for n, code in enumerate(LENDERS):
            member = get_member(session, code=code)
            for i in range(APPLICANTS):
                asked = datetime(2026, 1, 1 + i % 28, 10, tzinfo=UTC)
                person = persons[_id(n, i)]
                session.add(Inquiry(subscriber_id=member.id, person_id=person, purpose="loan_origination", hard=1,
                                    basis="consent", created_at=asked))
                if code in ("HONEST_B", "SHY"):  # they record a consent to furnish at the application
                    quarantine.grant_consent(session, vault=bureau.vault, profile=bureau.policy.profile,
                                             actor=member, data=consent_data(_id(n, i), Purpose.FURNISH,
                                                                             ref=f"FURNISH-{n}-{i:03d}"), now=asked)
                if i < GRANTED and code in ("HONEST_C", "SHY"):  # they send an opened event for each loan
                    account = f"LOAN-{n}-{i:03d}" if i != 0 else f"LOAN-{n}-X"  # one mis-keyed account number
                    session.add(LendingEvent(
                        furnisher_id=member.id, event_id=f"E-{n}-{i}", event_type="opened",
                        occurred_at=asked + timedelta(days=2), furnisher_account_id=account, person_id=person,
                        id_type="CN_RESIDENT_ID", id_index=bytes(16), id_enc=b"-", identity_enc=b"-",
                        digest=bytes(16)))


def test_a_lender_that_under_reports_is_flagged_in_its_scorecard_and_the_regulators_statistics(
        runtime, tmp_path) -> None:
    _build(runtime, tmp_path)
    with session_scope(runtime.engine) as session:
        report = quality.scorecards(session, principal=OPERATOR, policy=runtime.policy, period="2026-03", months=3)
        market = quality.market(session, principal=OPERATOR, policy=runtime.policy, period="2026-03")
    cards = {c.furnisher: c for c in report.scorecards}
    flagged = {(f, u.code) for f, c in cards.items() for u in c.under_reporting if u.flagged}
    assert flagged == {("SHY", "INQUIRY_WITHOUT_ACCOUNT"), ("SHY", "EVENT_WITHOUT_RECORD"),
                       ("SHY", "CONSENT_WITHOUT_RECORD")}
    shy = {u.code: u for u in cards["SHY"].under_reporting}
    inquiries = shy["INQUIRY_WITHOUT_ACCOUNT"]
    assert (inquiries.observations, inquiries.count, inquiries.baseline) == (40, 34, 0.4)
    assert inquiries.corroborated == 18  # its own opened events for the person show it lent to every one of them
    assert (shy["EVENT_WITHOUT_RECORD"].observations, shy["EVENT_WITHOUT_RECORD"].count) == (24, 19)
    assert (shy["CONSENT_WITHOUT_RECORD"].observations, shy["CONSENT_WITHOUT_RECORD"].count) == (40, 34)
    assert shy["EVENT_WITHOUT_RECORD"].examples[0] == "LOA***-X (2026-01-03)"  # masked account number, dated
    for finding in shy.values():
        assert len(finding.examples) == 3 and "flagged" in finding.message
        assert not any(_id(3, i) in e or "王" in e for i in range(APPLICANTS) for e in finding.examples)
    honest_c = {u.code: u for u in cards["HONEST_C"].under_reporting}
    assert (honest_c["EVENT_WITHOUT_RECORD"].count, honest_c["EVENT_WITHOUT_RECORD"].flagged) == (1, False)
    assert cards["BASE"].under_reporting == []  # it asked about no one, sent no event, recorded no consent
    cells = {(c.furnisher, c.code): c for c in market.under_reporting}
    assert market.under_reporting_periods[-1] == "2026-03"
    assert cells[("SHY", "INQUIRY_WITHOUT_ACCOUNT")].count == 34 and cells[("SHY", "INQUIRY_WITHOUT_ACCOUNT")].flagged
    small = cells[("HONEST_C", "EVENT_WITHOUT_RECORD")]  # one person: fewer than k = 10
    assert (small.suppressed, small.count, small.rate, small.persons) == (True, None, None, None)
    assert cells[("HONEST_A", "INQUIRY_WITHOUT_ACCOUNT")].suppressed is False
    page = html_report(report, market)  # the HTML page of `openbureau quality report --html`
    assert "<h2>Under-reporting</h2>" in page and "LOA***-X (2026-01-03)" in page
    assert "INQUIRY_WITHOUT_ACCOUNT" in page.split("Under-reporting by furnisher")[1]
    wire = ScorecardReport.model_validate_json(report.model_dump_json())  # the API's response body
    assert {u.code for c in wire.scorecards for u in c.under_reporting if u.flagged} == {
        "INQUIRY_WITHOUT_ACCOUNT", "EVENT_WITHOUT_RECORD", "CONSENT_WITHOUT_RECORD"}
    with session_scope(runtime.engine) as session:  # a furnisher sees its own findings only
        member = get_member(session, code="HONEST_C")
        own = quality.scorecards(session, principal=Principal.of_member(member), policy=runtime.policy,
                                 period="2026-03", months=3)
    assert [c.furnisher for c in own.scorecards] == ["HONEST_C"]
    assert {u.code: u.count for u in own.scorecards[0].under_reporting}["EVENT_WITHOUT_RECORD"] == 1
