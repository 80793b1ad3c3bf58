"""The 24-month payment history profile of a Metro 2 record, on both engines: stored with the account state,
shown in the report's repayment grid for months the bureau holds no state of, never over a month it holds,
written back from the store; kept only from Metro 2 files, and not under the CN notice rule when negative."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from openbureau.accounts.models import AccountState
from openbureau.audit import service as audit
from openbureau.consent.schemas import Subject
from openbureau.intake import service
from openbureau.intake.metro2_out import write_period
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.metro2 import base, read
from openbureau.people.export import export_person
from openbureau.principals import Principal
from openbureau.reports import service as reports
from tests.intake.factories import person, write_file
from tests.members.factories import make_member
from tests.metro2.factories import CONSUMERS, consumer_values, valid_file

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
AT_COUNTER = Principal.operator("OPERATOR:test")
# Newest month first, 2026-08 back to 2024-09: 30 days late in 2026-05, nothing reported in 2024-10 (D), no
# history before (B).
PROFILE = "0001" + "0" * 18 + "DB"


def _submit(bureau, tmp_path, name: str, *records) -> None:
    path = tmp_path / name
    path.write_bytes(valid_file(list(records)))
    loaded = service.submit(bureau.engine, settings=bureau.settings, policy=bureau.policy, furnisher_code="BANK_US",
                            path=path, today=TODAY).submission
    assert (loaded.status, loaded.records_rejected) == ("loaded", 0)


def _card(bureau):
    with session_scope(bureau.engine, write=True) as session:
        report = reports.own_report(session, vault=bureau.vault, principal=AT_COUNTER, policy=bureau.policy, now=NOW,
                                    subject=Subject(id_type="OTHER", id_number=CONSUMERS[0][0]))
    return report.accounts[0], report.summary


def test_a_first_file_gives_the_report_its_repayment_record_and_a_later_state_wins(us_bureau, tmp_path) -> None:
    _submit(us_bureau, tmp_path, "september.m2", base(consumer_values(0, "CARD-1", payment_history_profile=PROFILE)))
    card, summary = _card(us_bureau)
    # 2024-10 (D) and nothing before it; 2026-05 late; 2026-09 the state itself
    assert card.payment_history_start == "2024-10"
    assert card.payment_history == "/" + "N" * 18 + "1NNN" + "N"
    assert card.balance_history[:-1] == [None] * 23 and card.balance_history[-1] == 120000
    assert summary.worst_status_24m == "1"  # the summary and the signals read the same months

    # The furnisher then furnishes 2026-05 itself (current): the state wins over the profile's month.
    _submit(us_bureau, tmp_path, "may.m2", base(consumer_values(
        0, "CARD-1", date_of_account_information=date(2026, 5, 31), payment_history_profile="B" * 24)))
    card, summary = _card(us_bureau)
    assert card.payment_history == "/" + "N" * 23 and summary.worst_status_24m == "N"

    with session_scope(us_bureau.engine) as session:
        stored = dict(session.execute(select(AccountState.reporting_period, AccountState.history_profile)).all())
    assert stored == {"2026-09": PROFILE, "2026-05": None}  # a profile of B only is no history: not stored

    out = tmp_path / "written.m2"
    write_period(us_bureau.engine, vault=us_bureau.vault, principal=audit.terminal_operator(),
                 furnisher_code="BANK_US", period="2026-09", out=out)
    written = [r.main["payment_history_profile"] for r in read(out) if r.kind == "base"]
    assert written == [PROFILE]
    # the person's export (right of access) holds the profile as furnished
    with session_scope(us_bureau.engine, write=True) as session:
        doc = json.loads(export_person(session, vault=us_bureau.vault, principal=AT_COUNTER, policy=us_bureau.policy,
                                       now=NOW, subject=Subject(id_type="OTHER", id_number=CONSUMERS[0][0])))
    records = {r["reporting_period"]: r["history_profile"] for a in doc["accounts"] for r in a["records"]}
    assert records == {"2026-09": PROFILE, "2026-05": None}


def test_a_csv_column_named_like_the_profile_stores_nothing(us_bureau, tmp_path) -> None:
    columns = [*person(0), "_history_profile"]
    row = {**person(0, consent_ref=None), "_history_profile": "1" * 24}
    path = write_file(tmp_path / "september.csv", [row], columns=columns)
    service.submit(us_bureau.engine, settings=us_bureau.settings, policy=us_bureau.policy, furnisher_code="BANK_US",
                   path=path, today=TODAY)
    with session_scope(us_bureau.engine) as session:
        assert session.scalars(select(AccountState.history_profile)).all() == [None]


def test_under_the_cn_notice_rule_a_profile_with_a_negative_month_is_not_kept(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_US", Role.FURNISHER)
    _submit(runtime, tmp_path, "september.m2", base(consumer_values(0, "LATE-1", payment_history_profile=PROFILE)),
            base(consumer_values(1, "GOOD-1")))
    with session_scope(runtime.engine) as session:
        stored = dict(session.execute(select(AccountState.furnisher_account_id, AccountState.history_profile)).all())
    assert stored == {"LATE-1": None, "GOOD-1": "0" * 24}
