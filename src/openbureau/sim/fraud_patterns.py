"""Fraud beyond the rings: bust-out, synthetic identities built over months, account takeover.

Each pattern is planned per block from a stream of its own (``(seed, 4, block)``), its loans are ordinary
accounts of the simulation (monthly records, opened events and the applications before them) and its truth
is written to ``truth/fraud.parquet`` (docs/simulation.md, Fraud patterns):

* ``bust_out``: an established person of below-average latent risk applies for credit at several lenders
  (those that report events) within hours, before the first of them grants anything (stacking: each
  lender's check of the bureau must not yet see the others' loans), and the lenders open the accounts over
  the following days; from the month after the last one every line is drawn to its limit and nothing is
  repaid on any account. ``stacked_applications`` gives the applications' moments to the event feed.
* ``built_identity``: a file that appears months before the fraud (no account before ``built_start``),
  starts with small pay-later and BNPL accounts, then a credit line, pays well (low latent risk), then borrows
  at several lenders within days and stops paying everything the next month. Its address is an unrelated
  person's (fraudsters use a real address they can collect mail at).
* ``takeover``: a fraudster puts their own phone number on one of an established person's open credit
  accounts (the account taken over: its lender holds the new number from that day and, when it reports
  events, furnishes the change), then takes loans at several lenders within days, giving that number; those
  loans are never repaid, the person's own accounts go on as before and the person keeps their number.

The rings' synthetic identities are in the truth too (``ring``), from their first account. Persons are
chosen among honest persons with a credit history (no ring member, no namesake, no over-borrower). Nothing
loops in Python per person: only over the few lenders when slots are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from openbureau.intake.standard import PRODUCT_TYPES
from openbureau.sim.config import FraudPatternParams, Kind
from openbureau.sim.events import LOCAL_OFFSET_SECONDS, opening_second
from openbureau.sim.identities import NO_CHANGE, Population
from openbureau.sim.timeline import month_end, month_start

if TYPE_CHECKING:
    from openbureau.sim.behaviour import BlockSimulation, Market
    from openbureau.sim.defects import Relations

PATTERNS: tuple[str, ...] = ("bust_out", "built_identity", "takeover")
BUST_OUT, BUILT, TAKEOVER = range(len(PATTERNS))
RING = "ring"
_SECURED = ("mortgage", "auto")
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class PatternPlan:
    """A block's fraud patterns: per person (arrays of the block's size) and per planned loan."""

    pattern: np.ndarray  # index into PATTERNS, -1 for none
    built_start: np.ndarray  # month of a built identity's first account, NO_CHANGE otherwise
    bust_all: np.ndarray  # month from which none of the person's accounts is paid, NO_CHANGE otherwise
    changed_on: np.ndarray  # day of a takeover's phone change, -1 otherwise
    person: np.ndarray  # per loan: index in the block
    slot: np.ndarray
    day: np.ndarray
    month: np.ndarray
    fraud: np.ndarray  # the fraud proper (not a built identity's early accounts): the truth's began_at
    never_repaid: np.ndarray  # a takeover's loans: nothing is ever paid on them
    stacked: np.ndarray  # a bust-out's loans: seconds from the application to the person's first opening
    serial: np.ndarray  # filled in as the simulation opens each loan (-1 before)
    phone_from: np.ndarray  # the relations' (``Relations.phone_from``): a takeover's account gets the new number
    rng: np.random.Generator

    @property
    def new_file(self) -> np.ndarray:
        """Persons whose file starts with the fraud (built identities)."""
        return self.built_start < NO_CHANGE


def plan_patterns(*, pop: Population, rel: Relations, market: Market, params: FraudPatternParams,
                  excluded: np.ndarray, first_month: int, end: int, history_start: int,
                  rng: np.random.Generator) -> PatternPlan:
    """Choose the block's fraudsters and their loans (months ``first_month``..``end``), and change what the
    patterns change in ``pop`` and ``rel`` (a built identity's address and risk, a takeover's phone)."""
    n, n_f = pop.size, len(market.furnishers)
    pattern = np.full(n, -1, dtype=np.int64)
    candidates = np.flatnonzero(~pop.synthetic & ~pop.thin & (pop.namesake_of < 0) & ~excluded)
    candidates = candidates[np.argsort(rng.random(len(candidates)))]
    counts = [int(round(n * s)) for s in (params.bust_out_share, params.built_share, params.takeover_share)]
    good = candidates[pop.risk[candidates] < 0]  # bust-out needs a good history
    bust = good[: counts[BUST_OUT]]
    rest = candidates[~np.isin(candidates, bust)]
    built, takeover = rest[: counts[BUILT]], rest[counts[BUILT]: counts[BUILT] + counts[TAKEOVER]]
    pattern[bust], pattern[built], pattern[takeover] = BUST_OUT, BUILT, TAKEOVER
    first_day, last_day = int(month_start(first_month)), int(month_end(end))

    lenders = np.flatnonzero(market.events)
    secured = np.isin(market.ptype, [PRODUCT_TYPES.index(p) for p in _SECURED])
    credit = (market.kind != Kind.BILL) & ~secured
    per_lender = [np.flatnonzero(credit & (market.slot_furnisher == f)) for f in lenders]
    parts: list[dict[str, np.ndarray]] = []

    def loans(who: np.ndarray, sizes: tuple[int, int], days: tuple[int, int], start: np.ndarray | None,
              **flags: bool) -> np.ndarray:
        """Loans at distinct lenders, the first on the start day and the last `span` days later; the start
        days (drawn when not given) and the loans' days per person."""
        k, n_l = len(who), len(lenders)
        size = rng.integers(sizes[0], min(sizes[1], n_l) + 1, k)
        span = rng.integers(days[0], days[1] + 1, k)
        if start is None:
            start = first_day + (rng.random(k) * np.maximum(last_day - first_day + 1 - span, 1)).astype(np.int64)
        order = np.argsort(rng.random((k, n_l)), axis=1)
        draws = np.sort((rng.random((k, n_l)) * span[:, None]).astype(np.int64), axis=1)
        uniform = rng.random((k, n_l))
        row, pos = np.nonzero(np.arange(n_l)[None, :] < size[:, None])
        offset = np.select([pos == 0, pos == size[row] - 1], [0, span[row] - 1], draws[row, pos])
        day = np.minimum(start[row] + offset, last_day)
        parts.append(_loan_rows(who[row], order[row, pos], uniform[row, pos], per_lender, day, **flags))
        return day

    # Bust-out: every account unpaid from the month after the last new one.
    bust_all = np.full(n, NO_CHANGE, dtype=np.int64)
    if len(bust):
        day = loans(bust, params.bust_out_lenders, params.bust_out_days, None, fraud=True)
        last = np.zeros(n, dtype=np.int64)
        np.maximum.at(last, parts[-1]["person"], _month(day))
        bust_all[bust] = last[bust] + 1

    # Built identities: a young file, small accounts first, the big borrowing months later.
    built_start = np.full(n, NO_CHANGE, dtype=np.int64)
    if len(built):
        day = loans(built, params.built_lenders, params.built_days, None, fraud=True)
        began = np.full(n, _NEVER, dtype=np.int64)
        np.minimum.at(began, parts[-1]["person"], day)
        last = np.zeros(n, dtype=np.int64)
        np.maximum.at(last, parts[-1]["person"], _month(day))
        bust_all[built] = last[built] + 1
        ahead = rng.integers(params.built_months[0], params.built_months[1] + 1, len(built))
        built_start[built] = np.maximum(_month(began[built]) - ahead, history_start + 1)
        small = np.flatnonzero(market.thin_ok & (market.kind != Kind.BILL))
        line = np.flatnonzero(~market.thin_ok & (market.kind == Kind.REVOLVING))
        first = (month_start(built_start[built]) + rng.integers(0, 20, len(built))).astype(np.int64)
        early = [(first, small[rng.integers(0, len(small), len(built))]),
                 (first + rng.integers(3, 25, len(built)), small[rng.integers(0, len(small), len(built))]),
                 (month_start(built_start[built] + 2) + rng.integers(0, 25, len(built)),
                  line[rng.integers(0, len(line), len(built))])]
        for d, s in early:
            parts.append(_rows(built, s, d.astype(np.int64), fraud=False))
        pop.risk[built] = np.minimum(pop.risk[built], -1.2)  # they pay well until the fraud
        donors = np.flatnonzero((pattern < 0) & ~pop.synthetic)
        donor = donors[rng.integers(0, len(donors), len(built))]
        _share_address(pop, built, donor)

    # Takeover: the fraudster's number on one existing account (chosen when the month is simulated,
    # `open_loans`), then new loans within days carrying it, never repaid. The person keeps their own number.
    changed_on = np.full(n, -1, dtype=np.int64)
    if len(takeover):
        span = params.takeover_days[1] + 2
        start = first_day + (rng.random(len(takeover)) * np.maximum(last_day - first_day - span, 1)).astype(np.int64)
        changed_on[takeover] = start
        pop.phone_change[takeover] = _month(start)  # the truth's phone_new: the fraudster's number
        rel.phone_changed_on[takeover] = NO_CHANGE
        at = (takeover[:, None] * n_f + np.arange(n_f)[None, :]).reshape(-1)
        rel.phone_from[at] = NO_CHANGE
        rel.phone_missing[at] = False
        # The applications (0-2 days before each opening) come after the change: the first opening 2 days on.
        loans(takeover, params.takeover_lenders, params.takeover_days, start + 2, fraud=True, never_repaid=True)
        # Each lender of those loans has the number from its application (0-2 days before the opening).
        lender = market.slot_furnisher[parts[-1]["slot"]]
        np.minimum.at(rel.phone_from, parts[-1]["person"] * n_f + lender, parts[-1]["day"] - 2)
    fraudsters = np.flatnonzero(pattern >= 0)
    at = (fraudsters[:, None] * n_f + np.arange(n_f)[None, :]).reshape(-1)
    rel.consent[at] = True  # the fraudster consents to whatever a lender asks, at once (the application's
    rel.consent_delay[at] = 0  # events are then furnished, not held for want of a consent)
    bust_fraud = np.full(n, NO_CHANGE, dtype=np.int64)
    bust_fraud[takeover] = _month(changed_on[takeover])
    cols = {k: np.concatenate([p[k] for p in parts]) if parts else np.empty(0, dtype=np.int64)
            for k in ("person", "slot", "day", "fraud", "never_repaid")}
    bust_loan = pattern[cols["person"]] == BUST_OUT if len(cols["person"]) else np.zeros(0, dtype=bool)
    stacked = np.where(bust_loan, rng.integers(600, max(params.bust_out_apply_hours, 1) * 3600 + 1,
                                               len(cols["person"])), -1)
    return PatternPlan(
        pattern=pattern, built_start=built_start, bust_all=np.minimum(bust_all, bust_fraud), changed_on=changed_on,
        person=cols["person"], slot=cols["slot"], day=cols["day"], month=_month(cols["day"]),
        fraud=cols["fraud"].astype(bool), never_repaid=cols["never_repaid"].astype(bool), stacked=stacked,
        serial=np.full(len(cols["person"]), -1, dtype=np.int64), phone_from=rel.phone_from, rng=rng,
    )


def _month(day: np.ndarray) -> np.ndarray:
    return np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _rows(person: np.ndarray, slot: np.ndarray, day: np.ndarray, *, fraud: bool,
          never_repaid: bool = False) -> dict[str, np.ndarray]:
    k = len(person)
    return {"person": person, "slot": slot, "day": day, "fraud": np.full(k, fraud),
            "never_repaid": np.full(k, never_repaid)}


def _loan_rows(person: np.ndarray, lender: np.ndarray, uniform: np.ndarray, per_lender: list[np.ndarray],
               day: np.ndarray, *, fraud: bool, never_repaid: bool = False) -> dict[str, np.ndarray]:
    slot = np.empty(len(person), dtype=np.int64)
    for i, slots in enumerate(per_lender):
        here = lender == i
        slot[here] = slots[(uniform[here] * len(slots)).astype(np.int64)]
    return _rows(person, slot, day, fraud=fraud, never_repaid=never_repaid)


def _share_address(pop: Population, built: np.ndarray, donor: np.ndarray) -> None:
    """Give each built identity its donor's address (every written form of it)."""
    s = pop.strings
    columns = ("address", "address_short", "address_abbreviated")
    idx = np.arange(pop.size)
    idx[built] = donor
    object.__setattr__(pop, "strings", s.with_columns(pl.col(c).gather(pl.Series(idx)) for c in columns))


def open_loans(sim: BlockSimulation, plan: PatternPlan, month: int) -> None:
    """Take over the accounts and open the planned loans of `month` (called by the simulation after the month's
    ordinary openings)."""
    _take_over(sim, plan, month)
    idx = np.flatnonzero(plan.month == month)
    if len(idx) == 0:
        return
    start = len(sim.acc["person"])
    sim.open_planned(plan.person[idx], plan.slot[idx], month, plan.day[idx], plan.rng, fraud=plan.never_repaid[idx])
    plan.serial[idx] = sim.acc["serial"][start:]


def _take_over(sim: BlockSimulation, plan: PatternPlan, month: int) -> None:
    """The fraudster puts their number on one of the person's open credit accounts, drawn among those opened
    before the day of the change (an account they can reach: its lender then holds the new number)."""
    from openbureau.sim.behaviour import CLOSED

    changing = (plan.changed_on >= 0) & (_month(np.maximum(plan.changed_on, 0)) == month)
    if not changing.any():
        return
    acc, n_f = sim.acc, len(sim.market.furnishers)
    day = plan.changed_on[acc["person"]]
    held = np.flatnonzero(changing[acc["person"]] & (acc["kind"] != Kind.BILL) & (acc["status"] != CLOSED)
                          & (acc["opened"] < day) & ~acc["fraud"])
    if len(held) == 0:
        return
    held = held[np.lexsort((plan.rng.random(len(held)), acc["person"][held]))]
    person = acc["person"][held]
    last = np.r_[person[1:] != person[:-1], True]  # one account per person, at random
    taken = held[last]
    pf = acc["person"][taken] * n_f + acc["furnisher"][taken]
    plan.phone_from[pf] = np.minimum(plan.phone_from[pf], plan.changed_on[acc["person"][taken]])


def stacked_applications(plan: PatternPlan, market: Market, serial: np.ndarray, furnisher: np.ndarray
                         ) -> np.ndarray:
    """The local moment (seconds) of the application of each account (``serial``, ``furnisher``: an account's
    serial counts per furnisher) that is a bust-out's stacked loan: its offset before the person's first
    opening of the bust-out; -1 for every other account. Only loans opened already are known (their serials);
    the first opening is always among them."""
    loan = np.flatnonzero((plan.stacked >= 0) & (plan.serial >= 0))
    out = np.full(len(serial), -1, dtype=np.int64)
    if len(loan) == 0:
        return out
    lender = market.slot_furnisher[plan.slot[loan]]
    moment = plan.day[loan] * 86_400 + opening_second(plan.serial[loan], lender)
    first = np.full(len(plan.pattern), _NEVER, dtype=np.int64)
    np.minimum.at(first, plan.person[loan], moment)
    applied = first[plan.person[loan]] - plan.stacked[loan]
    keys = (plan.serial[loan] << 6) | lender
    order = np.argsort(keys)
    known = keys[order]
    wanted = (np.asarray(serial) << 6) | np.asarray(furnisher)
    at = np.clip(np.searchsorted(known, wanted), 0, len(known) - 1)
    hit = known[at] == wanted
    out[hit] = applied[order][at[hit]]
    return out


def mark_bust(sim: BlockSimulation, plan: PatternPlan, month: int) -> None:
    """From a bust-out's or built identity's bust month, none of the person's accounts is paid."""
    busting = ((plan.pattern == BUST_OUT) | (plan.pattern == BUILT)) & (month >= plan.bust_all)
    if busting.any():
        sim.acc["fraud"] |= busting[sim.acc["person"]]


class PatternTracker:
    """What the truth needs as the block is stepped: each person's first fraudulent opening, the fraud's
    first missed payment and first default (90+ days past due or charged off) from the bust on, and the first credit account opened at a
    lender that reports events in the patterns' months (everyone's: the honest persons' evaluation moments)."""

    def __init__(self, sim: BlockSimulation, plan: PatternPlan, first_month: int) -> None:
        n = sim.pop.size
        self.sim, self.plan, self.first_month = sim, plan, first_month
        self.began = np.full(n, _NEVER, dtype=np.int64)  # seconds, local time
        self.missed = np.full(n, _NEVER, dtype=np.int64)  # day numbers
        self.defaulted = np.full(n, _NEVER, dtype=np.int64)
        self.first_credit = np.full(n, _NEVER, dtype=np.int64)

    def after_step(self, month: int) -> None:
        """Read the month just stepped."""
        from openbureau.sim.behaviour import CHARGED_OFF, CLOSED, report_view

        sim, m = self.sim, self.sim.market
        acc = sim.acc
        new = np.arange(sim.n_prior, len(acc["person"]))
        moment = acc["opened"][new] * 86_400 + opening_second(acc["serial"][new], acc["furnisher"][new])
        ring = sim.pop.synthetic[acc["person"][new]]
        np.minimum.at(self.began, acc["person"][new][ring], moment[ring])
        if month >= self.first_month:
            at = m.events[acc["furnisher"][new]] & (acc["kind"][new] != Kind.BILL)
            np.minimum.at(self.first_credit, acc["person"][new][at], moment[at])
        view = report_view(acc, month)
        watched = (sim.pop.synthetic | (self.plan.pattern >= 0))[acc["person"]]
        busted = acc["fraud"] & (month >= sim.bust_month[acc["person"]])  # the fraud's own misses only
        late = watched & busted & (acc["status"] != CLOSED) & (acc["kind"] != Kind.BILL) & (acc["k"] > 0)
        since = month_start(np.minimum(sim.bust_month[acc["person"]], month))  # a miss from before counts from the bust
        np.minimum.at(self.missed, acc["person"][late], np.maximum(view["fdd"][late] + 1, since[late]))
        bad = late & ((view["dpd"] >= 90) | (acc["status"] == CHARGED_OFF))
        np.minimum.at(self.defaulted, acc["person"][bad], np.maximum(view["fdd"][bad] + 90, since[bad]))

    def truth(self) -> pl.DataFrame:
        """``truth/fraud.parquet`` rows of the block: one per fraudster."""
        plan, pop, m = self.plan, self.sim.pop, self.sim.market
        fraud = plan.fraud & (plan.serial >= 0)
        moment = plan.day[fraud] * 86_400 + opening_second(plan.serial[fraud], m.slot_furnisher[plan.slot[fraud]])
        began = self.began.copy()
        np.minimum.at(began, plan.person[fraud], moment)
        who = np.flatnonzero((plan.pattern >= 0) | pop.synthetic)
        names = np.array([*PATTERNS, RING])
        return pl.DataFrame({
            "person_key": pop.strings["person_key"].gather(who),
            "pattern": names[np.where(pop.synthetic[who], len(PATTERNS), plan.pattern[who])],
            "began_at": _utc(began[who]),
            "built_since": _day(np.where(plan.new_file[who], month_start(plan.built_start[who]), _NEVER)),
            "phone_changed_on": _day(np.where(plan.changed_on[who] >= 0, plan.changed_on[who], _NEVER)),
            "first_missed_on": _day(self.missed[who]),
            "defaulted_on": _day(self.defaulted[who]),
        })

    def first_credit_truth(self) -> pl.DataFrame:
        """``truth/first_credit.parquet`` rows of the block."""
        who = np.flatnonzero(self.first_credit < _NEVER)
        return pl.DataFrame({"person_key": self.sim.pop.strings["person_key"].gather(who),
                             "opened_at": _utc(self.first_credit[who])})


def _utc(local_seconds: np.ndarray) -> pl.Series:
    ms = np.where(local_seconds < _NEVER, (local_seconds - LOCAL_OFFSET_SECONDS) * 1000, 0)
    return pl.Series(ms).cast(pl.Datetime("ms", "UTC")).set(pl.Series(local_seconds >= _NEVER), None)


def _day(days: np.ndarray) -> pl.Series:
    return pl.Series(np.where(days < _NEVER, days, 0)).cast(pl.Int32).cast(pl.Date).set(
        pl.Series(np.asarray(days) >= _NEVER), None)
