"""The person is told of every new negative item a batch of lending events publishes (late, written off), in
the batch's transaction; an event and the month's file that says the same thing tell it once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from openbureau.identity.repository import find_person
from openbureau.intake import service
from openbureau.kit.db import intake_lock, session_scope
from openbureau.notifications.models import Notification
from openbureau.notifications.service import message_text
from tests.consent.factories import grant
from tests.events.conftest import NOW
from tests.events.factories import event, receive
from tests.intake.factories import PEOPLE, person, write_file

LOAN = "LOAN-88881234"


def _late(index: int, event_id: str, days_ago: float, dpd: int, **overrides):
    return event(index, event_id, at=NOW - timedelta(days=days_ago), kind="delinquent", account=LOAN,
                 days_past_due=str(dpd), **overrides)


def _notices(runtime) -> list[tuple[int | None, str]]:
    with session_scope(runtime.engine) as session:
        rows = session.scalars(select(Notification).where(Notification.kind == "negative.new")
                               .order_by(Notification.id)).all()
        return [(n.person_id, message_text(runtime.vault, n.message_enc)["body"]) for n in rows]


def _person_id(runtime, index: int) -> int:
    with session_scope(runtime.engine) as session:
        return find_person(session, id_type="CN_RESIDENT_ID",
                           id_index=runtime.vault.blind_index(PEOPLE[index][0], domain="CN_RESIDENT_ID")).id


def test_late_events_notify_on_each_new_level_and_a_write_off_too(platforms) -> None:
    runtime, _ = platforms
    receive(runtime, "P1", [event(0, "O-1", at=NOW - timedelta(days=40), account=LOAN)])
    assert _notices(runtime) == []  # a loan opened: nothing adverse
    receive(runtime, "P1", [_late(0, "L-1", 20, 31)])
    (first,) = _notices(runtime)
    day = (NOW - timedelta(days=20)).date().isoformat()
    assert first == (_person_id(runtime, 0), f"P1 Ltd reported to the credit bureau that your account ending 1234 "
                     f"was 31 days past due on {day}. The lender had to tell you before reporting it. If it is "
                     "wrong, dispute it with the bureau free of charge: the lender must answer within 20 days.")
    receive(runtime, "P1", [_late(0, "L-2", 10, 45)])
    assert len(_notices(runtime)) == 1  # still 31-60 days: not new
    receive(runtime, "P1", [_late(0, "L-3", 5, 61)])
    assert len(_notices(runtime)) == 2 and "61 days past due" in _notices(runtime)[1][1]
    receive(runtime, "P1", [event(0, "R-1", at=NOW - timedelta(days=4), kind="repayment", account=LOAN)])
    receive(runtime, "P1", [_late(0, "L-4", 3, 2)])
    assert len(_notices(runtime)) == 3  # a payment, then late again: new again
    receive(runtime, "P1", [event(0, "W-1", at=NOW - timedelta(days=1), kind="written_off", account=LOAN)])
    assert "charged off (written off as a loss) on" in _notices(runtime)[3][1]
    assert [p for p, _ in _notices(runtime)] == [_person_id(runtime, 0)] * 4


def test_one_batch_tells_each_account_once_and_never_another_persons_items(platforms) -> None:
    runtime, _ = platforms
    receive(runtime, "P1", [_late(0, "A-2", 5, 40), _late(0, "A-1", 10, 10), _late(1, "B-1", 10, 10),
                       _late(1, "B-2", 5, 12)])
    bodies = {p: body for p, body in _notices(runtime)}
    assert len(_notices(runtime)) == 2
    first, second = (NOW - timedelta(days=10)).date(), (NOW - timedelta(days=5)).date()
    assert f"was 10 days past due on {first}; then 40 days past due on {second}." in bodies[_person_id(runtime, 0)]
    assert f"was 10 days past due on {first}." in bodies[_person_id(runtime, 1)]  # 12 days: the same level


def test_held_events_are_told_of_when_their_consent_releases_them(platforms) -> None:
    runtime, _ = platforms
    result = receive(runtime, "P1", [_late(2, "H-1", 5, 35)])
    assert result.held == 1 and _notices(runtime) == []
    grant(runtime, "P1", PEOPLE[2][0])
    (notice,) = _notices(runtime)
    assert notice[0] == _person_id(runtime, 2) and "35 days past due" in notice[1]


def test_an_event_filed_under_no_person_yet_is_told_to_its_identity_document(platforms) -> None:
    runtime, _ = platforms
    with intake_lock(runtime.engine):  # a load is running: no person is numbered for a new subject
        receive(runtime, "P1", [_late(0, "U-1", 5, 35)])
        receive(runtime, "P1", [_late(0, "U-2", 4, 40)])  # the same level again, about the same document
    with session_scope(runtime.engine) as session:
        (row,) = session.scalars(select(Notification).where(Notification.kind == "negative.new")).all()
        assert (row.person_id, row.subject_id_type) == (None, "CN_RESIDENT_ID")
        assert runtime.vault.decrypt(row.subject_id_enc) == PEOPLE[0][0]


def test_the_months_file_that_says_what_an_event_said_is_not_new(platforms, tmp_path) -> None:
    runtime, _ = platforms
    receive(runtime, "P1", [_late(0, "L-1", 20, 35)])  # 2026-10-31: 31-60 days late
    assert len(_notices(runtime)) == 1
    october = person(0, furnisher_account_id=LOAN, reporting_period="2026-10", days_past_due="35",
                     payment_status="2", past_due_amount="12000", first_delinquency_date="2026-09-27",
                     negative_notice_date="2026-09-28")
    loaded = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="P1",
                            path=write_file(tmp_path / "oct.csv", [october]), today=date(2026, 11, 20)).submission
    assert loaded.records_rejected == 0, loaded.finding_counts
    assert len(_notices(runtime)) == 1  # the file says what the event said
    receive(runtime, "P1", [_late(0, "L-2", 15, 40)])  # a November event no worse than the October file
    assert len(_notices(runtime)) == 1
    receive(runtime, "P1", [_late(0, "L-3", 2, 70)])
    assert len(_notices(runtime)) == 2
