"""Lending events of a block's month, derived from the monthly account simulation.

A lender that reports events (``FurnisherProfile.events``) tells the bureau the day something happens to
a credit account; the events follow from what the month's step did to each account, compared with the
state it was in before (``BlockSimulation.before``):

* ``opened`` on the opening day (at a moment drawn from the account's serial, so the truth of the
  over-borrowing episodes names the same moment), after an ``application`` the same day or a day or two
  before (a bust-out's stacked applications: hours before its first opening, ``fraud_patterns``);
  ``application`` also for loans never granted (``EventParams.decline_rate``), and for the offers a person
  compared before taking a loan: the same kind of credit at one or two other lenders in the days before
  (``EventParams.shopping_share``).
* ``repayment`` on the due date of every month the account was paid (a settlement is one ``settled``).
* ``delinquent`` the day days past due reach 1, 30, 60 and 90, from the due date of the oldest unpaid
  instalment, exactly as the monthly record counts them (a payment that leaves an older instalment unpaid
  moves that date, and the thresholds are crossed again).
* ``closed`` when a loan is repaid at maturity or a line is cancelled; ``settled`` when a loan is paid
  off early or a charged-off debt is settled; ``written_off`` the day an account passes the charge-off
  limit, for its balance.

Amounts are those of the monthly records (amount lent or limit, amount paid, balance), so events and
records agree; `event_defects` breaks a few of them on purpose. Everything is vectorised over accounts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from openbureau.intake.standard import PRODUCT_TYPES
from openbureau.sim.behaviour import CHARGED_OFF, CLOSED, OPEN, BlockSimulation
from openbureau.sim.config import EventParams, Kind
from openbureau.sim.defects import Relations
from openbureau.sim.records import account_ids, digits, person_description, phone_known_from, scramble
from openbureau.sim.timeline import NO_DAY, days_in_month, month_end, month_start

EVENT_TYPES: tuple[str, ...] = ("application", "opened", "repayment", "delinquent", "settled", "closed",
                                "written_off", "contact_changed")
(APPLICATION, OPENED, REPAYMENT, DELINQUENT, SETTLED, CLOSED_EVENT, WRITTEN_OFF,
 CONTACT_CHANGED) = range(len(EVENT_TYPES))
DPD_THRESHOLDS = (1, 30, 60, 90)
LOCAL_OFFSET_SECONDS = 8 * 3600  # the furnishers' clocks: China Standard Time, UTC+08:00
LOCAL_OFFSET = "+08:00"
_HOUR = 3600
_EVENT_BITS = 48  # block (14 bits) and the block's event counter (34 bits)
_SECURED = ("mortgage", "auto")
_PARTS = ("acc", "p", "f", "slot", "serial", "declined", "etype", "day", "sec", "amount", "term", "opened_on",
          "amount_due", "balance", "dpd", "past_due")


def opening_second(serial: np.ndarray, furnisher: np.ndarray) -> np.ndarray:
    """Second of the local day (09:00-22:00) at which each account was opened, from its serial and
    furnisher alone (no draw), so that the opened event and the episodes' truth name the same moment."""
    return 9 * _HOUR + scramble((serial << 6) | furnisher, 43, salt=4242) % (13 * _HOUR)  # 64 furnishers at most


class EventSource:
    """Derives a block's lending events month by month and numbers them (ids unique across blocks)."""

    def __init__(self, *, sim: BlockSimulation, rel: Relations, params: EventParams, first_day: int,
                 last_day: int, rng: np.random.Generator,
                 application_moments: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
        self.sim, self.rel, self.params, self.rng = sim, rel, params, rng
        # Accounts (serials, furnishers) -> the local moment (seconds) of their application when planned elsewhere (a
        # bust-out's stacked applications), -1 for the others.
        self.application_moments = application_moments
        self.first_day, self.last_day = first_day, last_day
        self.counter = 0
        self.declined = 0
        m = sim.market
        self.lender = m.events[m.slot_furnisher] & (m.kind != Kind.BILL)  # per slot: its accounts send events
        secured = np.isin(m.ptype, [PRODUCT_TYPES.index(p) for p in _SECURED])
        self.apply_slots = np.flatnonzero(self.lender & ~secured)

    def month(self, month: int) -> pl.DataFrame:
        """The events of `month` (and the applications of its first days' openings that fell in the month
        before), inside the feed's days, as an event frame (`frame`), after `sim.step(month)`."""
        parts = [*self._accounts(month), self._declined(month)]
        raw = {name: np.concatenate([part[name] for part in parts]) for name in _PARTS}
        keep = (raw["day"] >= self.first_day) & (raw["day"] <= self.last_day)
        raw = {name: values[keep] for name, values in raw.items()}
        order = np.lexsort((raw["etype"], raw["sec"], raw["day"]))
        raw = {name: values[order] for name, values in raw.items()}
        n = len(order)
        ids = scramble((self.sim.block << 34) | (self.counter + np.arange(n)), _EVENT_BITS, salt=9090)
        self.counter += n
        return frame(self.sim, self.rel, raw, ids)

    # -- events of existing and new accounts --------------------------------------------------------------
    def _accounts(self, month: int) -> list[dict[str, np.ndarray]]:
        sim, rng, params = self.sim, self.rng, self.params
        acc, before, m = sim.acc, sim.before, sim.market
        n = len(acc["person"])
        lender = self.lender[acc["slot"]]
        kind, instalment_kind = acc["kind"], acc["kind"] == Kind.INSTALLMENT
        ms, me = int(month_start(month)), int(month_end(month))
        payday = np.minimum(ms + acc["due_day"] - 1, me)
        new = np.arange(n) >= sim.n_prior
        amount_lent = np.where(kind == Kind.REVOLVING, acc["limit"], acc["principal"])
        parts = []

        def part(sel: np.ndarray, etype: int, day: np.ndarray, sec: np.ndarray, **values: np.ndarray) -> None:
            idx = np.flatnonzero(sel)
            row = {name: np.full(len(idx), -1, dtype=np.int64) for name in _PARTS}
            row.update(acc=idx, p=acc["person"][idx], f=acc["furnisher"][idx], slot=acc["slot"][idx],
                       serial=acc["serial"][idx], declined=np.zeros(len(idx), dtype=np.int64),
                       etype=np.full(len(idx), etype, dtype=np.int64), day=day[idx], sec=sec[idx],
                       opened_on=np.full(len(idx), NO_DAY, dtype=np.int64))
            row.update({name: np.asarray(v)[idx] for name, v in values.items()})
            parts.append(row)

        # Opened, and the application before it. A loan repaid in one payment with interest owes more than it
        # lent: its scheduled payment is left out (the standard takes amount_due only up to the amount lent).
        opened = lender & new
        opened_sec = opening_second(acc["serial"], acc["furnisher"])
        part(opened, OPENED, acc["opened"], opened_sec, amount=amount_lent,
             term=np.where(instalment_kind, acc["term"], -1), opened_on=acc["opened"],
             amount_due=np.where(instalment_kind & (acc["instalment"] <= amount_lent), acc["instalment"], -1))
        lag = rng.choice(3, size=n, p=np.array(params.application_lag) / sum(params.application_lag))
        app_sec = np.where(lag == 0, opened_sec - rng.integers(120, 5_400, n), rng.integers(8 * _HOUR, 23 * _HOUR, n))
        step = (m.step[acc["slot"]] * 100).astype(np.int64)
        asked = np.where(rng.random(n) < params.asked_more,
                         np.ceil(amount_lent * rng.uniform(1.1, 2.0, n) / step) * step, amount_lent).astype(np.int64)
        app_day = acc["opened"] - lag
        planned = np.zeros(n, dtype=bool)
        if self.application_moments is not None and opened.any():
            moment = np.full(n, -1, dtype=np.int64)
            moment[opened] = self.application_moments(acc["serial"][opened], acc["furnisher"][opened])
            planned = moment >= 0
            app_day, app_sec = np.where(planned, moment // 86_400, app_day), np.where(planned, moment % 86_400, app_sec)
        part(opened, APPLICATION, app_day, app_sec, amount=asked)
        parts.append(self._shopping(np.flatnonzero(opened & ~acc["fraud"] & ~planned), opened_sec, asked))

        # Endings: settled (paid off early, or a charged-off debt settled) or closed (matured, cancelled).
        was_open, now = before["status"], acc["status"]
        closing = lender & (was_open != CLOSED) & (now == CLOSED)
        settled = closing & ((was_open == CHARGED_OFF) | (instalment_kind & (acc["paid_n"] < acc["term"])))
        closed = closing & ~settled
        repaid = lender & (acc["paid"] > 0) & ~settled
        repay_day = np.where(closed, np.minimum(payday, acc["closed_on"]), payday)
        repay_sec = rng.integers(6 * _HOUR, 20 * _HOUR, n)
        after_repayment = (repay_day == acc["closed_on"]) & repaid
        close_sec = np.where(after_repayment, repay_sec + rng.integers(60, 3_600, n),
                             rng.integers(9 * _HOUR, 21 * _HOUR, n))
        left = np.where(kind == Kind.REVOLVING, before["balance"] - acc["paid"], acc["balance"])
        part(repaid, REPAYMENT, repay_day, repay_sec, amount=acc["paid"], balance=np.maximum(left, 0))
        part(settled, SETTLED, acc["closed_on"], close_sec, amount=acc["paid"], balance=np.zeros(n, np.int64))
        part(closed, CLOSED_EVENT, acc["closed_on"], close_sec, balance=np.zeros(n, np.int64))

        # Written off the day days past due pass the charge-off limit.
        k0, k1 = before["k"], acc["k"]
        fdd_prev = month_start(month - k0) + acc["due_day"] - 1
        fdd_now = month_start(month - k1 + 1) + acc["due_day"] - 1
        written_off = lender & (was_open == OPEN) & (now == CHARGED_OFF)
        off_day = np.clip(fdd_now + sim.params.charge_off_days + 1, ms, me)
        part(written_off, WRITTEN_OFF, off_day, rng.integers(3 * _HOUR, 5 * _HOUR, n), amount=acc["balance"],
             balance=acc["balance"])

        # Contact changed: the day the lender learns the person's new number, on each account it held before
        # (a relationship begun after the change started with the new number; a lender that keeps no phone of
        # the person learns none).
        pf = acc["person"] * len(m.furnishers) + acc["furnisher"]
        learnt = phone_known_from(sim, self.rel, pf)
        rel = self.rel
        told = (lender & (learnt >= ms) & (learnt <= me) & (acc["opened"] < learnt) & ~rel.phone_missing[pf]
                & (sim.first_open[pf] < np.minimum(rel.phone_changed_on[acc["person"]], rel.phone_from[pf]))
                & ((acc["status"] != CLOSED) | (acc["closed_on"] >= learnt)))
        told_sec = 8 * _HOUR + scramble((acc["serial"] << 6) | acc["furnisher"], 43, salt=7171) % (14 * _HOUR)
        part(told, CONTACT_CHANGED, learnt, told_sec)

        # Delinquent: before the due date the oldest unpaid instalment is last month's; after it, this
        # month's state (the same date when the account rolled on, a new one when it was missed or held).
        night = rng.integers(1 * _HOUR, 4 * _HOUR, n)
        was_late = lender & (k0 > 0) & (was_open == OPEN)
        same_date = (k1 > 0) & (fdd_now == fdd_prev)
        moved = lender & (k1 > 0) & (was_open == OPEN) & ((k0 == 0) | (fdd_now != fdd_prev))
        for threshold in DPD_THRESHOLDS:
            day = fdd_prev + threshold
            early = was_late & (day >= ms) & (day <= me) & (day < payday)
            rolled = was_late & same_date & (day >= payday) & (day <= me)
            part(early, DELINQUENT, day, night, dpd=np.full(n, threshold), past_due=before["past_due"],
                 balance=np.where(instalment_kind, before["balance"], -1))
            part(rolled, DELINQUENT, day, night, dpd=np.full(n, threshold), past_due=acc["past_due"],
                 balance=np.where(instalment_kind, acc["balance"], -1))
            day = fdd_now + threshold
            later = moved & (day > payday) & (day <= me)
            part(later, DELINQUENT, day, night, dpd=np.full(n, threshold), past_due=acc["past_due"],
                 balance=np.where(instalment_kind, acc["balance"], -1))
        return parts

    # -- applications never granted -----------------------------------------------------------------------
    def _shopping(self, idx: np.ndarray, opened_sec: np.ndarray, asked: np.ndarray) -> dict[str, np.ndarray]:
        """Applications for the same kind of credit at one or two other lenders in the days before a loan
        was granted (``EventParams.shopping_share``), none of them taken: comparing offers."""
        sim, rng, params, m = self.sim, self.rng, self.params, self.sim.market
        acc = sim.acc
        idx = idx[rng.random(len(idx)) < params.shopping_share]
        k = rng.integers(params.shopping_lenders[0], params.shopping_lenders[1] + 1, len(idx))
        idx = np.repeat(idx, k)
        slot = np.full(len(idx), -1, dtype=np.int64)
        pick = rng.random(len(idx))
        for ptype in np.unique(m.ptype[acc["slot"][idx]]):
            here = m.ptype[acc["slot"][idx]] == ptype
            offers = self.apply_slots[m.ptype[self.apply_slots] == ptype]
            if len(offers):
                slot[here] = offers[(pick[here] * len(offers)).astype(np.int64)]
        keep = (slot >= 0)
        keep[keep] = m.slot_furnisher[slot[keep]] != acc["furnisher"][idx[keep]]
        idx, slot = idx[keep], slot[keep]
        n = len(idx)
        back = rng.integers(0, params.shopping_days + 1, n)
        day = acc["opened"][idx] - back
        sec = np.where(back == 0, np.maximum(opened_sec[idx] - rng.integers(600, 6 * _HOUR, n), 0),
                       rng.integers(8 * _HOUR, 23 * _HOUR, n))
        serial = (sim.block << 23) | (self.declined + np.arange(n))
        self.declined += n
        row = {name: np.full(n, -1, dtype=np.int64) for name in _PARTS}
        row.update(p=acc["person"][idx], f=m.slot_furnisher[slot], slot=slot, serial=serial,
                   declined=np.ones(n, np.int64), etype=np.full(n, APPLICATION, dtype=np.int64), day=day, sec=sec,
                   amount=asked[idx], opened_on=np.full(n, NO_DAY, dtype=np.int64))
        return row

    def _declined(self, month: int) -> dict[str, np.ndarray]:
        sim, rng, params = self.sim, self.rng, self.params
        pop, m, b = sim.pop, sim.market, sim.params
        stacking = (sim.stage >= 1) & (sim.stage <= b.stacking_stages)
        rate = params.decline_rate * np.exp(params.decline_risk * pop.risk) * np.where(stacking, params.decline_stacking, 1.0)
        person = np.flatnonzero(rng.random(pop.size) < np.minimum(rate, 0.9))
        if len(self.apply_slots) == 0:
            person = person[:0]
        k = len(person)
        slot = self.apply_slots[rng.integers(0, max(len(self.apply_slots), 1), k)]
        amount = np.clip(pop.income[person] * m.multiple[slot], m.low[slot], m.high[slot]) * rng.lognormal(0.0, 0.4, k)
        amount = (np.clip(np.round(amount / m.step[slot]) * m.step[slot], m.low[slot], m.high[slot]) * 100)
        serial = (sim.block << 23) | (self.declined + np.arange(k))
        self.declined += k
        row = {name: np.full(k, -1, dtype=np.int64) for name in _PARTS}
        row.update(p=person, f=m.slot_furnisher[slot], slot=slot, serial=serial, declined=np.ones(k, np.int64),
                   etype=np.full(k, APPLICATION, dtype=np.int64),
                   day=int(month_start(month)) + (rng.random(k) * days_in_month(month)).astype(np.int64),
                   sec=rng.integers(8 * _HOUR, 23 * _HOUR, k), amount=amount.astype(np.int64),
                   opened_on=np.full(k, NO_DAY, dtype=np.int64))
        return row


def frame(sim: BlockSimulation, rel: Relations, raw: dict[str, np.ndarray], ids: np.ndarray) -> pl.DataFrame:
    """Event rows in the furnishers' format (typed; `event_files.EVENT_COLUMNS` plus helper columns)."""
    m = sim.market
    p, f, day = raw["p"], raw["f"], raw["day"]
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    accounts = account_ids(m, raw["slot"], raw["serial"])
    references = pl.Series(m.prefixes).gather(raw["slot"]) + "R" + digits(scramble(raw["serial"], 37, salt=555), 12)
    values = pl.DataFrame({
        "_event_no": digits(ids, 15),
        "_etype": raw["etype"], "_day": day, "_sec": raw["sec"], "_f": f, "_month": month,
        "_declined": raw["declined"] == 1, "_account": accounts, "_reference": references,
        "_ptype": m.ptype[raw["slot"]],
        "amount": raw["amount"], "term": raw["term"], "opened": raw["opened_on"], "due": raw["amount_due"],
        "balance": raw["balance"], "dpd": raw["dpd"], "past_due": raw["past_due"],
        "_person_key": sim.pop.strings["person_key"].gather(p),
    })
    who = person_description(sim, rel, p, f, day)
    local = (pl.col("_day") * 86_400 + pl.col("_sec")).cast(pl.Int64) * 1000

    def amount(name: str) -> pl.Expr:
        return pl.when(pl.col(name) >= 0).then(pl.col(name))

    amounts = [amount(a) for a in ("amount", "due", "balance", "past_due")]
    return pl.concat([values, who], how="horizontal").select(
        event_id=pl.lit("EV") + pl.col("_event_no"),
        event_type=pl.col("_etype").replace_strict(list(range(len(EVENT_TYPES))), list(EVENT_TYPES),
                                                   return_dtype=pl.String),
        occurred_at=local.cast(pl.Datetime("ms")).dt.strftime("%Y-%m-%dT%H:%M:%S") + pl.lit(LOCAL_OFFSET),
        furnisher_account_id=pl.when(pl.col("_declined")).then(pl.col("_reference")).otherwise(pl.col("_account")),
        id_type=pl.col("id_type"), id_number=pl.col("id_number"), full_name=pl.col("full_name"),
        birth_date=pl.col("birth_date"), phone=pl.col("phone"), address=pl.col("address"),
        product_type=pl.col("_ptype").replace_strict(list(range(len(PRODUCT_TYPES))), list(PRODUCT_TYPES),
                                                     return_dtype=pl.String),
        currency=pl.when(pl.any_horizontal(a.is_not_null() for a in amounts)).then(pl.lit("CNY")),
        amount=amount("amount"),
        term_months=amount("term"),
        opened_on=pl.when(pl.col("opened") > NO_DAY).then(pl.col("opened").cast(pl.Int32).cast(pl.Date)),
        amount_due=amount("due"),
        balance=amount("balance"),
        days_past_due=amount("dpd"),
        past_due_amount=amount("past_due"),
        consent_ref=pl.col("consent_ref"),
        _f=pl.col("_f"), _day=pl.col("_day"), _sec=pl.col("_sec"), _month=pl.col("_month"),
        _etype=pl.col("_etype"), _resident=pl.col("_resident"), _declined=pl.col("_declined"),
        _person_key=pl.col("_person_key"),
    ).with_columns(_account=pl.col("furnisher_account_id"))
