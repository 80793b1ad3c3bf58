"""Tradeline rules: newest version per month, deletions, the notice hold, and the retention period."""

from __future__ import annotations

from datetime import date

from openbureau.tradelines.history import build_tradelines, expired_periods, rank
from tests.tradelines.factories import TODAY, row


def lines(rows, **kwargs):
    return build_tradelines(rows, as_of=kwargs.pop("as_of", TODAY), retention_years=kwargs.pop("years", 5), **kwargs)


def test_the_newest_version_of_a_month_is_the_record_and_dates_are_parsed() -> None:
    (line,) = lines([row("2026-09", "1"), row("2026-09", "N", version=2), row("2026-10")])
    assert [m.status for m in line.months] == ["N", "N"]
    assert line.opened_on == date(2015, 1, 10) and line.latest.period == "2026-10"


def test_a_deleted_month_is_left_out_and_a_deleted_latest_month_removes_the_account() -> None:
    (line,) = lines([row("2026-08"), row("2026-09", "2"), row("2026-09", account_status="deleted", version=2),
                     row("2026-10")])
    assert line.history("2026-10", 3) == "N/N"
    assert lines([row("2026-09"), row("2026-10", account_status="deleted")]) == []


def test_negative_status_without_a_notice_is_held_until_a_later_record_of_the_account_has_one() -> None:
    held = [row("2026-08", "1", held=1), row("2026-09", "2", held=1)]
    (line,) = lines(held)
    assert [m.status for m in line.months] == ["#", "#"] and line.latest.past_due_amount == 0
    (line,) = lines([*held, row("2026-10", "3", notice="2026-09-02")])
    assert line.history("2026-10", 3) == "123"  # the notice published the earlier months too


def test_the_payment_history_is_oldest_first_and_marks_months_without_a_record() -> None:
    (line,) = lines([row("2026-07"), row("2026-09", "1"), row("2026-10")])
    assert line.history("2026-10", 6) == "//N/1N"
    assert line.worst_since("2026-08") == "1" and rank("7") > rank("1") > rank("Z") > rank("D") > rank("N") == 0


def test_negative_information_expires_five_years_after_the_adverse_event_ended() -> None:
    cured_2021 = [row("2021-01"), row("2021-02", "2"), row("2021-03", "3"), row("2021-04"), row("2021-05")]
    (line,) = lines(cured_2021, as_of=date(2026, 4, 30))  # ended 2021-04-30: 5 years are not yet over
    assert line.history("2021-05", 5) == "N23NN" and line.hidden_months == 0
    (line,) = lines(cured_2021, as_of=date(2026, 5, 1))
    assert line.history("2021-05", 5) == "N//NN" and line.hidden_months == 2
    assert expired_periods(cured_2021, as_of=date(2026, 5, 1), retention_years=5) == [
        (1, "A", "2021-02"), (1, "A", "2021-03")]
    assert lines(cured_2021, as_of=date(2026, 5, 1), years=7)[0].hidden_months == 0  # the US profile's 7 years


def test_an_event_that_has_not_ended_never_expires_and_a_closing_date_ends_one() -> None:
    unpaid = [row("2019-01"), row("2019-02", "4"), row("2019-03", "7", account_status="charged_off")]
    assert lines(unpaid, as_of=date(2030, 1, 1))[0].hidden_months == 0
    closed = [row("2019-01"), row("2019-02", "4", account_status="closed", closed_on="2019-02-20")]
    assert expired_periods(closed, as_of=date(2024, 2, 21), retention_years=5) == [(1, "A", "2019-02")]
    assert expired_periods(closed, as_of=date(2024, 2, 20), retention_years=5) == []


def test_a_file_as_it_stood_at_a_period_leaves_out_later_months() -> None:
    (line,) = lines([row("2026-08"), row("2026-09", "1"), row("2026-10")], until_period="2026-09")
    assert line.latest.period == "2026-09" and line.latest.status == "1"


def test_a_deleted_month_neither_extends_an_event_nor_is_purged_by_retention() -> None:
    rows = [row("2020-10"), row("2020-11", "2"), row("2020-12", "3", account_status="deleted"), row("2021-01"),
            row("2021-02")]
    # Without the deleted month the event is 2020-11 alone, cured by 2021-01; the deleted month is not shown,
    # so it is nothing the retention job must delete.
    assert expired_periods(rows, as_of=date(2026, 11, 20), retention_years=5) == [(1, "A", "2020-11")]
    (line,) = lines(rows, as_of=date(2026, 11, 20))
    assert line.history("2021-02", 5) == "N//NN" and line.hidden_months == 1  # "/": nothing shown
