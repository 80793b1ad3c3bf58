"""Tradeline rules: newest version per month, deletions, the notice hold, and the retention period."""

from __future__ import annotations

from collections import namedtuple
from datetime import date

from openbureau.tradelines.history import build_tradelines, expired_periods, rank
from tests.tradelines.factories import TODAY, Row, row

IdRow = namedtuple("IdRow", [*Row._fields, "identity_enc"])  # a state read with its identity description


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


def test_a_month_is_negative_by_its_status_its_charge_off_or_any_day_past_due() -> None:
    as_of = date(2026, 11, 20)
    charged_off = [row("2020-10"), row("2020-11", account_status="charged_off"), row("2020-12")]
    assert expired_periods(charged_off, as_of=as_of, retention_years=5) == [(1, "A", "2020-11")]
    a_day_late = [row("2020-10"), row("2020-11")._replace(days_past_due=1), row("2020-12")]
    assert expired_periods(a_day_late, as_of=as_of, retention_years=5) == [(1, "A", "2020-11")]
    on_time = [row("2020-10"), row("2020-11", account_status="closed"), row("2020-12")]
    assert expired_periods(on_time, as_of=as_of, retention_years=5) == []


def test_events_at_the_edges_of_an_accounts_months_expire_each_on_its_own() -> None:
    as_of = date(2026, 11, 20)
    # Late in the first month and cured in the last; two events one clean month apart; closed while late.
    assert expired_periods([row("2020-10", "2"), row("2020-11")], as_of=as_of, retention_years=5) == [
        (1, "A", "2020-10")]
    apart = [row("2020-10", "1"), row("2020-11"), row("2020-12", "2"), row("2021-01")]
    assert expired_periods(apart, as_of=as_of, retention_years=5) == [(1, "A", "2020-10"), (1, "A", "2020-12")]
    closed = [row("2021-10", "2", closed_on="2021-10-05"), row("2021-11", "2", closed_on="2021-10-05"),
              row("2021-12")]  # ended when closed (2021-10-05), not when the next clean month was reported
    assert expired_periods(closed, as_of=date(2026, 10, 6), retention_years=5) == [
        (1, "A", "2021-10"), (1, "A", "2021-11")]
    assert expired_periods(closed, as_of=date(2026, 10, 5), retention_years=5) == []


def test_a_held_month_shows_its_balance_and_nothing_past_due_and_the_line_keeps_its_furnisher() -> None:
    (line,) = lines([row("2026-08", furnisher=7), row("2026-09", "2", held=1, balance=4321, furnisher=7)])
    held = line.latest
    assert (held.period, held.status, held.balance, held.amount_due, held.past_due_amount, held.days_past_due) == (
        "2026-09", "#", 4321, 100, 0, 0)
    assert (line.furnisher_id, line.account_id, line.months[0].status) == (7, "A", "N")
    # A notice publishes the months up to it, not a later month furnished without one.
    (line,) = lines([row("2026-08", "1", notice="2026-07-20"), row("2026-09", "2", held=1)])
    assert line.history("2026-09", 2) == "1#"


def test_a_deleted_or_an_emptied_account_listed_first_leaves_the_next_accounts_lines() -> None:
    deleted = [row("2026-09", account="A"), row("2026-10", account="A", account_status="deleted")]
    emptied = [row("2019-02", "4", account="E", account_status="closed", closed_on="2019-02-20")]  # all expired
    later = [row("2026-09", account="B"), row("2026-10", account="B")]
    assert [line.account_id for line in lines([*deleted, *later])] == ["B"]
    assert [line.account_id for line in lines([*emptied, *later], as_of=date(2024, 2, 21))] == ["B"]


def test_a_line_takes_its_product_opening_date_and_currency_from_its_last_month() -> None:
    # A correction of the last month changed the product, the opening date and the currency: the line says
    # what the furnisher says now, not what an earlier or a middle month said.
    before = [row("2026-08"), row("2026-09")]
    now = row("2026-10", product="credit_card", opened_on="2015-02-01")._replace(currency="USD")
    (line,) = lines([*before, now])
    assert (line.product_type, line.opened_on, line.currency) == ("credit_card", date(2015, 2, 1), "USD")


def test_a_line_keeps_the_identity_of_each_month_it_shows_when_asked() -> None:
    """The identity descriptions a person's report lists come from the months the report shows: a month past
    its retention period brings none."""
    states = [row("2020-10"), row("2020-11", "2"), row("2020-12"), row("2026-10")]
    with_identity = [IdRow(*s, identity_enc=s.reporting_period.encode()) for s in states]
    (line,) = lines(with_identity, with_identity=True)
    assert line.hidden_months == 1
    assert line.identities == [("2020-10", 1, b"2020-10"), ("2020-12", 1, b"2020-12"), ("2026-10", 1, b"2026-10")]
    assert lines(with_identity)[0].identities == []


def test_a_metro2_profile_fills_months_without_a_state_and_never_one_the_bureau_holds() -> None:
    # 2026-10's profile (newest month first) says 2026-09 late, 2026-08 collection, 2026-07 no history (D)
    newest = row("2026-10", profile="1GD" + "B" * 21)
    (line,) = lines([newest])
    assert line.history("2026-10", 4) == "/71N"
    profiled = [m for m in line.months if m.from_profile]
    assert [(m.period, m.days_past_due, m.balance) for m in profiled] == [("2026-08", 181, None), ("2026-09", 30, None)]
    # a state of 2026-09 wins, and so does a deleted one of 2026-08 (the month is left out, not filled)
    (line,) = lines([newest, row("2026-09"), row("2026-08", account_status="deleted")])
    assert line.history("2026-10", 4) == "//NN"
    # of two profiles, the newest state's gives a month; an older one fills only what the newer leaves
    (line,) = lines([newest, row("2026-06", profile="0000" + "B" * 20)])
    assert line.history("2026-10", 8) == "NNNN/71N"  # 2026-07: the newer says D, the older does not reach it


def test_a_profile_gives_no_month_before_the_account_was_opened_and_its_negatives_expire() -> None:
    (line,) = lines([row("2026-10", profile="0" * 24, opened_on="2026-07-15")])
    assert line.history("2026-10", 5) == "/NNNN"  # from 2026-07, the month it was opened
    # 2018-12's profile: late in 2018-10 and 2018-11, cured by 2018-12 itself: expired after five years
    old = [row("2018-12", profile="12" + "0" * 22, opened_on="2016-01-01"), row("2019-01")]
    (line,) = lines(old, as_of=date(2026, 1, 1))
    assert line.history("2019-01", 4) == "//NN" and line.hidden_months == 2
    assert expired_periods(old, as_of=date(2026, 1, 1), retention_years=5) == []  # only stored months are deleted
