"""The person is told of every new negative item a monthly file publishes, in the publishing transaction: a first
delinquency once, a worsening, a delinquency after a cure; never a repeat, never another person's item, never
an identifier. Held records are told of when they are released."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from openbureau.consent import service as consents
from openbureau.consent.profiles import PROFILES
from openbureau.identity.repository import find_person
from openbureau.intake import loader, quarantine, service
from openbureau.kit.db import session_scope
from openbureau.kit.periods import period_end
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.notifications.models import Notification
from openbureau.notifications.service import message_text
from tests.consent.factories import consent_data, grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

TODAY = date(2026, 11, 22)
ACCOUNT = "ACC-0001234"


def late(index: int, period: str, dpd: int, status: str, **overrides: str | None) -> dict[str, str | None]:
    """A valid record of a person's account ``dpd`` days past due at the end of ``period``, the person told."""
    end = period_end(period)
    fields = dict(furnisher_account_id=ACCOUNT, reporting_period=period, days_past_due=str(dpd),
                  payment_status=status, past_due_amount="12000" if dpd else "0",
                  first_delinquency_date=(end - timedelta(days=dpd - 1)).isoformat() if dpd else None,
                  negative_notice_date=(end - timedelta(days=dpd - 1)).isoformat() if dpd else None)
    return person(index, **{**fields, **overrides})


def current(index: int, period: str, **overrides: str | None) -> dict[str, str | None]:
    """A valid record of the account paid as agreed in ``period``."""
    return person(index, furnisher_account_id=ACCOUNT, reporting_period=period, **overrides)


def submit(runtime, tmp_path, name: str, rows: list[dict], *, furnisher: str = "BANK_A", policy=None,
           received_at: datetime | None = None):
    """Load a file; every record must be stored."""
    s = service.submit(runtime.engine, settings=runtime.settings, policy=policy or runtime.policy,
                       furnisher_code=furnisher, path=write_file(tmp_path / f"{name}.csv", rows), today=TODAY,
                       received_at=received_at).submission
    assert (s.status, s.records_rejected) == ("loaded", 0), s.finding_counts
    return s


def notices(runtime) -> list[tuple[int | None, str]]:
    """(person id, body) of every new-negative-item notice, in the order written."""
    with session_scope(runtime.engine) as session:
        rows = session.scalars(select(Notification).where(Notification.kind == "negative.new")
                               .order_by(Notification.id)).all()
        return [(n.person_id, message_text(runtime.vault, n.message_enc)["body"]) for n in rows]


def person_id(runtime, index: int) -> int:
    """The person id of one of the known people."""
    with session_scope(runtime.engine) as session:
        return find_person(session, id_type="CN_RESIDENT_ID",
                           id_index=runtime.vault.blind_index(PEOPLE[index][0], domain="CN_RESIDENT_ID")).id


@pytest.fixture
def bank(runtime):
    make_member(runtime, "BANK_A", Role.FURNISHER, name="Bank A Ltd")
    make_member(runtime, "BANK_B", Role.FURNISHER, name="Bank B Ltd")
    for index in (0, 1):
        grant(runtime, "BANK_A", PEOPLE[index][0])
        grant(runtime, "BANK_B", PEOPLE[index][0])
    return runtime


def test_first_delinquency_once_then_a_worsening_then_again_after_a_cure(bank, tmp_path) -> None:
    submit(bank, tmp_path, "03", [current(0, "2026-03")])
    assert notices(bank) == []  # nothing adverse
    submit(bank, tmp_path, "04", [late(0, "2026-04", 10, "1")])
    (first,) = notices(bank)
    assert first[0] == person_id(bank, 0)
    assert first[1] == ("Bank A Ltd reported to the credit bureau that your revolving credit account ending 1234 was "
                        "1-30 days past due in 2026-04. The lender had to tell you before reporting it. If it is "
                        "wrong, dispute it with the bureau free of charge: the lender must answer within 20 days.")
    submit(bank, tmp_path, "05", [late(0, "2026-05", 25, "1")])
    assert len(notices(bank)) == 1  # the same level the next month is not new
    submit(bank, tmp_path, "06", [late(0, "2026-06", 55, "2")])
    assert len(notices(bank)) == 2 and "31-60 days past due in 2026-06" in notices(bank)[1][1]  # a worsening
    submit(bank, tmp_path, "07", [late(0, "2026-07", 40, "2", past_due_amount="6000")])
    assert len(notices(bank)) == 2  # better than or as bad as before: not new
    submit(bank, tmp_path, "08", [current(0, "2026-08")])
    submit(bank, tmp_path, "09", [late(0, "2026-09", 5, "1")])
    assert len(notices(bank)) == 3 and "1-30 days past due in 2026-09" in notices(bank)[2][1]  # cured, then late


def test_a_correction_that_makes_a_month_worse_is_new_and_a_charge_off_is_new(bank, tmp_path) -> None:
    submit(bank, tmp_path, "a", [late(0, "2026-05", 20, "1")])
    submit(bank, tmp_path, "b", [late(0, "2026-05", 20, "1", correction="1", past_due_amount="13000")])
    assert len(notices(bank)) == 1  # the same month again, no worse
    submit(bank, tmp_path, "c", [late(0, "2026-05", 31, "2", correction="1")])
    submit(bank, tmp_path, "d", [late(0, "2026-06", 200, "7", account_status="charged_off",
                                      first_delinquency_date="2025-12-13")])
    bodies = [body for _, body in notices(bank)]
    assert len(bodies) == 3 and "31-60 days past due in 2026-05" in bodies[1]
    assert "charged off (written off as a loss) in 2026-06" in bodies[2]


def test_one_message_per_account_lists_each_new_item_of_a_file_in_order(bank, tmp_path) -> None:
    rows = [late(0, "2026-06", 40, "2"), current(0, "2026-04"), late(0, "2026-05", 10, "1"),
            late(0, "2026-07", 45, "2"), late(0, "2026-05", 3, "1", furnisher_account_id="OTHER-77")]
    submit(bank, tmp_path, "file", rows)  # three months of one account, out of order, and another account
    assert sorted(body for _, body in notices(bank)) == sorted([
        "Bank A Ltd reported to the credit bureau that your revolving credit account ending 1234 was 1-30 days past "
        "due in 2026-05; then 31-60 days past due in 2026-06. The lender had to tell you before reporting it. If it "
        "is wrong, dispute it with the bureau free of charge: the lender must answer within 20 days.",
        "Bank A Ltd reported to the credit bureau that your revolving credit account ending R-77 was 1-30 days past "
        "due in 2026-05. The lender had to tell you before reporting it. If it is wrong, dispute it with the bureau "
        "free of charge: the lender must answer within 20 days."])


def test_another_persons_records_never_notify_this_person(bank, tmp_path) -> None:
    submit(bank, tmp_path, "a", [late(0, "2026-05", 10, "1")])
    # Person 1's account of the same number at another lender, and person 1's records at this lender.
    submit(bank, tmp_path, "b", [late(1, "2026-05", 10, "1")], furnisher="BANK_B")
    submit(bank, tmp_path, "c", [late(1, "2026-06", 10, "1", furnisher_account_id="P1-ACC-9"),
                                 late(0, "2026-06", 12, "1")])
    # The same account number furnished under person 1 the next month: person 1's first, not person 0's.
    submit(bank, tmp_path, "d", [late(1, "2026-07", 14, "1")])
    assert [p for p, _ in notices(bank)] == [person_id(bank, 0), person_id(bank, 1), person_id(bank, 1),
                                             person_id(bank, 1)]
    assert "Bank B Ltd" in notices(bank)[1][1]


def test_the_text_names_no_identifier_and_at_most_four_characters_of_the_account(bank, tmp_path) -> None:
    number = PEOPLE[0][0]
    submit(bank, tmp_path, "a", [late(0, "2026-05", 10, "1", furnisher_account_id=f"ID{number}"),
                                 late(0, "2026-05", 10, "1", furnisher_account_id="X7")])
    bodies = [body for _, body in notices(bank)]
    for body in bodies:
        for secret in (number, number[-6:], PEOPLE[0][2], "13800138000", "北京", "1949-12-31"):
            assert secret not in body
    assert "ending 002X was" in bodies[0] and "ending 7 was" in bodies[1]


def test_a_status_held_for_the_furnishers_notice_is_told_with_that_said(bank, tmp_path) -> None:
    submit(bank, tmp_path, "a", [late(0, "2026-05", 10, "1", negative_notice_date=None)])
    (notice,) = notices(bank)
    assert "1-30 days past due in 2026-05. Lenders do not see it until the lender confirms that it told you " \
           "first." in notice[1]


def test_held_records_are_told_of_when_their_consent_releases_them(bank, tmp_path) -> None:
    submit(bank, tmp_path, "a", [late(2, "2026-05", 10, "1"), late(2, "2026-06", 35, "2")])
    assert notices(bank) == []  # no consent of person 2: held, in nobody's file
    _, released = grant(bank, "BANK_A", PEOPLE[2][0])
    assert released == 2
    (notice,) = notices(bank)
    assert notice[0] == person_id(bank, 2)
    assert "1-30 days past due in 2026-05; then 31-60 days past due in 2026-06" in notice[1]
    submit(bank, tmp_path, "b", [late(2, "2026-07", 45, "2")])
    assert len(notices(bank)) == 1  # released months count as the state before


def test_a_month_still_held_is_no_state_before_and_is_told_of_on_its_own_release(bank, tmp_path) -> None:
    begins = datetime.now(UTC) + timedelta(hours=1)
    with session_scope(bank.engine, write=True) as session:  # a consent dated ahead, recorded without a release
        consents.grant(session, vault=bank.vault, actor=get_member(session, code="BANK_A"),
                       data=consent_data(PEOPLE[2][0], valid_from=begins))
    submit(bank, tmp_path, "a", [late(2, "2026-05", 10, "1")])  # before the consent begins: held
    submit(bank, tmp_path, "b", [late(2, "2026-06", 12, "1")], received_at=begins + timedelta(hours=1))
    (june,) = notices(bank)  # May is in nobody's file, so June is the person's first
    assert "1-30 days past due in 2026-06." in june[1]
    with session_scope(bank.engine, write=True) as session:  # ``openbureau consent release``
        assert quarantine.release(session, vault=bank.vault, profile=bank.policy.profile,
                                  moment=begins + timedelta(hours=2)) == 1
    assert len(notices(bank)) == 2 and "1-30 days past due in 2026-05." in notices(bank)[1][1]


def test_the_us_profile_says_the_furnisher_has_30_days_and_disputes_take_30(bank, tmp_path) -> None:
    us = dataclasses.replace(bank.policy, profile=PROFILES["US"])
    submit(bank, tmp_path, "a", [late(3, "2026-05", 10, "1")], policy=us)  # no consent needed under the FCRA
    (notice,) = notices(bank)
    assert notice[1].endswith("The lender must also tell you itself within 30 days of reporting it. If it is "
                              "wrong, dispute it with the bureau free of charge: the lender must answer within 30 "
                              "days.")


def test_a_publish_that_rolls_back_writes_no_notice_and_the_next_load_writes_it_once(bank, tmp_path,
                                                                                      monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    path = write_file(tmp_path / "a.csv", [late(0, "2026-05", 10, "1")])
    with monkeypatch.context() as patched:
        patched.setattr(loader.LoadRepository, "finish", fail)  # the publishing transaction's last statement
        with pytest.raises(RuntimeError):
            service.submit(bank.engine, settings=bank.settings, policy=bank.policy, furnisher_code="BANK_A",
                           path=path, today=TODAY)
    assert notices(bank) == []  # the notices were written in the transaction that rolled back
    again = service.submit(bank.engine, settings=bank.settings, policy=bank.policy, furnisher_code="BANK_A",
                           path=path, today=TODAY).submission
    assert again.status == "loaded" and len(notices(bank)) == 1
