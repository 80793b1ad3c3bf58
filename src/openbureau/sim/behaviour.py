"""Monthly account dynamics for one block of persons, vectorised over all accounts at once.

Model (parameters in config.BehaviourParams and config.Product):

* Each person has a latent risk. A financial shock ("distress") arrives with monthly hazard
  ``distress_hazard * exp(risk_beta * risk) * macro(month)``, where macro is a credit cycle of period
  ``macro_period_months``. In the first ``stacking_stages`` months after a shock the person opens accounts
  at lenders they did not use before (loan stacking, ``stacking_multiplier``); from stage
  ``miss_start_stage`` on they miss payments with probability ``distress_miss`` and rarely cure, until they
  recover (``recovery``). Others miss a due payment with probability ``normal_miss * exp(0.5 * risk)``.
* A current account with something due either pays or misses. A delinquent account cures (pays all that is
  past due), holds (pays the current due only, staying in its bucket) or rolls one bucket further.
* Days past due are measured from the due date of the oldest unpaid instalment, so payment_status
  (PBoC buckets of 30 days) always agrees with them. Past 180 days an account is charged off; charged-off
  accounts are later settled (C), repaid with assets (Z, secured loans) or by a guarantor (D).
* Revolving lines: purchases towards a person's target utilisation, minimum payment ``min_payment`` of the
  statement, transactors pay in full, interest on revolved balances; balance never exceeds 110% of the
  limit. Instalment loans amortise with equal instalments; bills (utility, telecom) are monthly charges
  whose arrears are the balance.
* Fraud rings: synthetic identities open accounts at many lenders within ``ring_open_months``, then bust
  out: revolving lines are maxed and nothing is ever repaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from openbureau.intake.standard import PAYMENT_STATUSES, PRODUCT_TYPES
from openbureau.sim.config import BehaviourParams, FurnisherProfile, Kind, PopulationParams
from openbureau.sim.identities import NO_CHANGE, Population
from openbureau.sim.timeline import NO_DAY, days_in_month, month_end, month_start

if TYPE_CHECKING:
    from openbureau.sim.episodes import EpisodeLoans
    from openbureau.sim.fraud_patterns import PatternPlan

OPEN, CLOSED, CHARGED_OFF = 0, 1, 2  # account states; CLOSED accounts are reported once, then dropped
STATUS_CODE = {code: i for i, code in enumerate(PAYMENT_STATUSES)}

_TRACKED = ("status", "k", "past_due", "balance", "paid_n")  # what `BlockSimulation.before` keeps
_ACCOUNT_FIELDS: dict[str, type] = {
    "person": np.int64, "slot": np.int64, "furnisher": np.int64, "kind": np.int64, "serial": np.int64,
    "opened": np.int64, "due_day": np.int64, "limit": np.int64, "principal": np.int64, "term": np.int64,
    "rate": np.float64, "instalment": np.int64, "bill": np.int64, "util": np.float64, "transactor": np.bool_,
    "fraud": np.bool_, "status": np.int64, "balance": np.int64, "paid_n": np.int64, "k": np.int64,
    "past_due": np.int64, "closed_on": np.int64, "close_code": np.int64, "notice": np.int64, "due": np.int64,
    "paid": np.int64,
}


@dataclass(frozen=True)
class Market:
    """The product slots of all furnishers as arrays, indexed by slot."""

    furnishers: tuple[FurnisherProfile, ...]
    slot_furnisher: np.ndarray
    kind: np.ndarray
    ptype: np.ndarray  # index into standard.PRODUCT_TYPES
    prefixes: tuple[str, ...]
    reach: np.ndarray
    open_rate: np.ndarray
    apr: np.ndarray
    multiple: np.ndarray
    low: np.ndarray
    high: np.ndarray
    step: np.ndarray
    terms: tuple[np.ndarray, ...]
    term_days: tuple[np.ndarray, ...]  # short loans: days from opening to the one payment
    short: np.ndarray  # the slot's loans are short (repaid in one payment within weeks)
    thin_ok: np.ndarray
    risk_tilt: np.ndarray
    income_tilt: np.ndarray
    stackable: np.ndarray
    min_payment: np.ndarray
    prepay: np.ndarray
    close: np.ndarray
    miss_factor: np.ndarray
    notice: np.ndarray  # per furnisher: sends negative notices
    events: np.ndarray  # per furnisher: reports lending events

    @classmethod
    def build(cls, furnishers: tuple[FurnisherProfile, ...]) -> Market:
        """Flatten the furnishers' products into slot arrays."""
        slots = [(i, p) for i, f in enumerate(furnishers) for p in f.products]

        def col(fn, dtype=np.float64) -> np.ndarray:
            return np.array([fn(p) for _, p in slots], dtype=dtype)

        return cls(
            furnishers=furnishers,
            slot_furnisher=np.array([i for i, _ in slots], dtype=np.int64),
            kind=col(lambda p: int(p.kind), np.int64),
            ptype=col(lambda p: PRODUCT_TYPES.index(p.product_type), np.int64),
            prefixes=tuple(p.prefix for _, p in slots),
            reach=col(lambda p: p.reach), open_rate=col(lambda p: p.open_rate), apr=col(lambda p: p.apr),
            multiple=col(lambda p: p.amount_multiple), low=col(lambda p: p.amount_range[0]),
            high=col(lambda p: p.amount_range[1]), step=col(lambda p: p.amount_step),
            terms=tuple(np.array(p.terms or (1,), dtype=np.int64) for _, p in slots),
            term_days=tuple(np.array(p.term_days or (0,), dtype=np.int64) for _, p in slots),
            short=col(lambda p: bool(p.term_days), bool),
            thin_ok=col(lambda p: p.thin_ok, bool), risk_tilt=col(lambda p: p.risk_tilt),
            income_tilt=col(lambda p: p.income_tilt), stackable=col(lambda p: p.stackable, bool),
            min_payment=col(lambda p: p.min_payment), prepay=col(lambda p: p.prepay_rate),
            close=col(lambda p: p.close_rate), miss_factor=col(lambda p: p.miss_factor),
            notice=np.array([f.negative_notice for f in furnishers], dtype=bool),
            events=np.array([f.events for f in furnishers], dtype=bool),
        )

    @property
    def n_slots(self) -> int:
        """Number of product slots."""
        return len(self.kind)


def empty_accounts() -> dict[str, np.ndarray]:
    """An account table with no rows."""
    return {name: np.empty(0, dtype=dtype) for name, dtype in _ACCOUNT_FIELDS.items()}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def instalment_amount(principal: np.ndarray, rate: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Equal monthly instalment (fen, rounded up) of an amortising loan."""
    safe = np.where(rate > 0, rate, 1.0)
    annuity = principal * safe / (1.0 - (1.0 + safe) ** -term)
    return np.ceil(np.where(rate > 0, annuity, principal / term)).astype(np.int64)


def remaining_principal(acc: dict[str, np.ndarray], paid_n: np.ndarray) -> np.ndarray:
    """Outstanding principal (fen) after `paid_n` instalments."""
    rate, principal, inst = acc["rate"], acc["principal"], acc["instalment"]
    growth = (1.0 + rate) ** np.minimum(paid_n, acc["term"])
    safe = np.where(rate > 0, rate, 1.0)
    left = np.where(rate > 0, principal * growth - inst * (growth - 1.0) / safe, principal - inst * paid_n)
    return np.where(paid_n >= acc["term"], 0, np.clip(np.round(left), 0, principal)).astype(np.int64)


class BlockSimulation:
    """The accounts of one block of persons, stepped month by month."""

    def __init__(self, *, pop: Population, market: Market, behaviour: BehaviourParams,
                 population: PopulationParams, block: int, rng: np.random.Generator,
                 episodes: EpisodeLoans | None = None, patterns: PatternPlan | None = None) -> None:
        self.pop, self.market, self.params, self.rng, self.block = pop, market, behaviour, rng, block
        self.episodes, self.patterns = episodes, patterns
        self.new_file = patterns.new_file if patterns is not None else np.zeros(pop.size, dtype=bool)
        # Before the month's payments (and, for accounts opened this month, as opened): what the events of
        # the month are measured against. Accounts from index `n_prior` on were opened this month.
        self.before: dict[str, np.ndarray] = {}
        self.n_prior = 0
        n, n_f = pop.size, len(market.furnishers)
        self.z_income = pop.income_z
        self.stage = np.zeros(n, dtype=np.int64)  # 0: no distress; s >= 1: s-th month after a shock
        self.first_open = np.full(n * n_f, NO_CHANGE, dtype=np.int64)  # first account day per (person, furnisher)
        self.counters = np.zeros(n_f, dtype=np.int64)
        self.acc = empty_accounts()
        ring_lender = np.isin([f.code for f in market.furnishers], population.ring_lenders)
        secured = np.isin(market.ptype, [PRODUCT_TYPES.index("mortgage"), PRODUCT_TYPES.index("auto")])
        self.ring_slots = np.flatnonzero(ring_lender[market.slot_furnisher] & (market.kind != Kind.BILL) & ~secured)
        lo, hi = behaviour.bust_out_after
        self.bust_month = np.where(pop.synthetic, pop.ring_start + lo + pop.ring % (hi - lo + 1), NO_CHANGE)
        if patterns is not None:
            self.bust_month = np.minimum(self.bust_month, patterns.bust_all)
        self.macro = 1.0
        self.adult_day = pop.birth + 6575  # 18 years

    # -- opening ------------------------------------------------------------------------------------------
    def open_initial(self, month: int) -> None:
        """Give persons the accounts they hold when the simulated history starts at `month`."""
        m, pop = self.market, self.pop
        logit = (np.log(m.reach / (1 - m.reach))[None, :] + m.risk_tilt[None, :] * pop.risk[:, None]
                 + m.income_tilt[None, :] * self.z_income[:, None])
        eligible = np.where(pop.thin[:, None], m.thin_ok[None, :], True) & ~(pop.synthetic | self.new_file)[:, None]
        holds = (self.rng.random(logit.shape) < _sigmoid(logit)) & eligible
        # Everyone else holds at least one credit line (the most common one when nothing else is drawn),
        # so that a file with only BNPL, utility and telecom accounts is a thin file by construction.
        core = (~m.thin_ok) & (m.kind == Kind.REVOLVING)
        fallback_core = int(np.argmax(np.where(core, m.reach, -1)))
        fallback_thin = int(np.argmax(np.where(m.thin_ok, m.reach, -1)))
        regular = ~pop.thin & ~pop.synthetic & ~self.new_file
        holds[regular & ~holds[:, core].any(axis=1), fallback_core] = True
        holds[pop.thin & ~holds.any(axis=1), fallback_thin] = True
        person, slot = np.nonzero(holds)
        self._open(person, slot, np.full(len(slot), month, dtype=np.int64), initial_month=month)

    def open_new(self, month: int) -> None:
        """Open this month's new accounts: ordinary demand, loan stacking after a shock, fraud rings."""
        m, pop, p = self.market, self.pop, self.params
        n, n_f = pop.size, len(m.furnishers)
        acc = self.acc
        live = acc["status"] != CLOSED
        per_slot = np.bincount(acc["person"][live] * m.n_slots + acc["slot"][live],
                               minlength=n * m.n_slots).reshape(n, m.n_slots)
        credit = (m.kind[acc["slot"]] != Kind.BILL) & live
        per_lender = np.bincount(acc["person"][credit] * n_f + acc["furnisher"][credit],
                                 minlength=n * n_f).reshape(n, n_f)
        written_off = np.bincount(acc["person"] * n_f + acc["furnisher"],
                                  weights=acc["status"] == CHARGED_OFF, minlength=n * n_f).reshape(n, n_f) > 0
        rate = m.open_rate[None, :] * np.exp(m.risk_tilt[None, :] * pop.risk[:, None]
                                             + m.income_tilt[None, :] * self.z_income[:, None])
        rate = np.where(pop.thin[:, None], rate * m.thin_ok[None, :], rate)
        rate[~m.stackable[None, :] & (per_slot > 0)] = 0.0
        stacking = (self.stage >= 1) & (self.stage <= p.stacking_stages)
        lender_of_slot = per_lender[:, m.slot_furnisher]
        boost = np.where(lender_of_slot == 0, p.stacking_multiplier, 2.0) * (m.kind != Kind.BILL)[None, :]
        rate = np.where(stacking[:, None] & (boost > 0), rate * boost, rate)
        rate[written_off[:, m.slot_furnisher]] = 0.0
        rate[pop.synthetic] = 0.0
        if self.patterns is not None:
            rate[self.new_file & (month < self.patterns.built_start)] = 0.0  # a built identity has no file yet
        # Fraud rings: members open at every ring lender within ring_open_months of the ring's start.
        opening = pop.synthetic & (month >= pop.ring_start) & (month < pop.ring_start + p.ring_open_months)
        ring_rate = np.zeros(m.n_slots)
        ring_rate[self.ring_slots] = 1.0 - 0.3 ** (1.0 / p.ring_open_months)
        rate[opening] = np.where(per_slot[opening] > 0, 0.0, ring_rate[None, :])
        person, slot = np.nonzero(self.rng.random(rate.shape) < np.minimum(rate, 0.9))
        self._open(person, slot, np.full(len(slot), month, dtype=np.int64), initial_month=None)
        self._open_episode_loans(month)
        if self.patterns is not None:
            from openbureau.sim.fraud_patterns import open_loans
            open_loans(self, self.patterns, month)
        n_prior = len(self.before.get("status", ()))
        self.before = {name: np.concatenate([self.before[name], self.acc[name][n_prior:]]) for name in _TRACKED}
        self.n_prior = n_prior
        # Short loans falling due this month are repaid (or not) this month.
        acc = self.acc
        new = np.arange(n_prior, len(acc["person"]))
        payday = month_start(month) + acc["due_day"][new] - 1
        due_now = new[m.short[acc["slot"][new]] & (payday > acc["opened"][new])]
        if len(due_now):
            self._pay(month, only=due_now)

    def _open_episode_loans(self, month: int) -> None:
        """Open the over-borrowing episodes' loans that fall in `month` (docs/simulation.md, Episodes)."""
        plan = self.episodes
        if plan is None:
            return
        idx = np.flatnonzero(plan.month == month)
        if len(idx) == 0:
            return
        start = len(self.acc["person"])
        self._open(plan.person[idx], plan.slot[idx], np.full(len(idx), month, dtype=np.int64), initial_month=None,
                   opened_day=plan.day[idx], rng=plan.rng)
        plan.serial[idx] = self.acc["serial"][start:]
        # An episode that comes with a shock starts it at the first loan: the person then misses payments.
        shocked = plan.person[idx][plan.distress[idx] & (plan.position[idx] == 1)]
        self.stage[shocked] = np.maximum(self.stage[shocked], 1)

    def open_planned(self, person: np.ndarray, slot: np.ndarray, month: int, day: np.ndarray,
                     rng: np.random.Generator, fraud: np.ndarray) -> None:
        """Open loans planned elsewhere (fraud patterns) on their days, with their own draws."""
        self._open(person, slot, np.full(len(slot), month, dtype=np.int64), initial_month=None, opened_day=day,
                   rng=rng, fraud=fraud)

    def _open(self, person: np.ndarray, slot: np.ndarray, opened_month: np.ndarray,
              initial_month: int | None, opened_day: np.ndarray | None = None,
              rng: np.random.Generator | None = None, fraud: np.ndarray | None = None) -> None:
        m, pop = self.market, self.pop
        rng = rng or self.rng
        k = len(slot)
        if k == 0:
            return
        kind = m.kind[slot]
        furnisher = m.slot_furnisher[slot]
        income = pop.income[person] * np.where(pop.synthetic[person], 3.0, 1.0)
        amount = np.clip(income * m.multiple[slot], m.low[slot], m.high[slot]) * rng.lognormal(0.0, 0.4, k)
        amount = np.clip(np.round(amount / m.step[slot]) * m.step[slot], m.low[slot], m.high[slot])
        amount = (amount * 100).astype(np.int64)  # fen
        term = _draw_terms(m, slot, rng)
        rate = m.apr[slot] / 12.0
        installment = kind == Kind.INSTALLMENT
        principal = np.where(installment, amount, 0)
        inst = np.where(installment, instalment_amount(principal, rate, term), 0)
        paid_n = np.zeros(k, dtype=np.int64)
        if initial_month is not None:
            # Accounts held at the start were opened earlier (after the 18th birthday); instalment loans
            # are part-way through their term.
            max_age = np.where(installment, term, 120)
            adult_month = self.adult_day[person].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            age = np.minimum(1 + (rng.random(k) * max_age).astype(np.int64), initial_month - adult_month - 1)
            age = np.maximum(age, 1)
            opened_month = initial_month - age
            paid_n = np.where(installment, age - 1, 0)
        opened = month_start(opened_month) + (rng.random(k) * days_in_month(opened_month)).astype(np.int64)
        if opened_day is not None:
            opened = opened_day.astype(np.int64)
        due_day = rng.integers(1, 26, k)
        short = m.short[slot]
        if short.any():
            # A short loan is due `days` after it was opened (never on a month's last day, so a missed payment
            # is already past due at the period end); held at the start, it falls due in the first month.
            days = _draw_term_days(m, slot, rng)
            if initial_month is not None:
                maturity = month_start(initial_month) + (rng.random(k) * days_in_month(initial_month)).astype(np.int64)
                opened = np.where(short, maturity - days, opened)
            maturity = opened + days
            maturity_month = maturity.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            maturity = np.where(maturity == month_end(maturity_month), maturity - 1, maturity)
            due_day = np.where(short, maturity - month_start(maturity_month) + 1, due_day)
            rate = np.where(short, m.apr[slot] * days / 365.0, rate)
            inst = np.where(installment, instalment_amount(principal, rate, term), 0)
        util = _sigmoid(rng.normal(-0.6 + 0.6 * pop.risk[person], 0.8))
        limit = np.where(kind == Kind.REVOLVING, amount, 0)
        balance = np.where(kind == Kind.REVOLVING, np.round(limit * util * rng.random(k)), 0).astype(np.int64)
        counters = np.zeros(k, dtype=np.int64)
        for f in np.unique(furnisher):
            sel = furnisher == f
            counters[sel] = self.counters[f] + np.arange(sel.sum())
            self.counters[f] += sel.sum()
        new = {
            "person": person, "slot": slot, "furnisher": furnisher, "kind": kind,
            "serial": (self.block << 23) | counters, "opened": opened,
            "due_day": due_day, "limit": limit, "principal": principal, "term": term,
            "rate": rate, "instalment": inst, "bill": np.where(kind == Kind.BILL, amount, 0), "util": util,
            "transactor": rng.random(k) < _sigmoid(0.3 - 0.9 * pop.risk[person]),
            "fraud": pop.synthetic[person] | (False if fraud is None else fraud), "status": np.zeros(k, dtype=np.int64), "balance": balance,
            "paid_n": paid_n, "k": np.zeros(k, dtype=np.int64), "past_due": np.zeros(k, dtype=np.int64),
            "closed_on": np.full(k, NO_DAY), "close_code": np.zeros(k, dtype=np.int64), "notice": np.full(k, NO_DAY),
            "due": np.zeros(k, dtype=np.int64), "paid": np.zeros(k, dtype=np.int64),
        }
        new["balance"] = np.where(installment, remaining_principal(new, paid_n), balance)
        np.minimum.at(self.first_open, person * len(m.furnishers) + furnisher, opened)
        self.acc = {name: np.concatenate([self.acc[name], new[name].astype(dtype)])
                    for name, dtype in _ACCOUNT_FIELDS.items()}

    # -- monthly step -------------------------------------------------------------------------------------
    def step(self, month: int) -> None:
        """Advance every account through `month`, then open the month's new accounts."""
        keep = self.acc["status"] != CLOSED
        self.acc = {name: col[keep] for name, col in self.acc.items()}
        self.before = {name: self.acc[name] for name in _TRACKED}  # the payments replace these arrays
        self._update_distress(month)
        if self.patterns is not None:
            from openbureau.sim.fraud_patterns import mark_bust
            mark_bust(self, self.patterns, month)
        self._pay(month)
        self.open_new(month)

    def _update_distress(self, month: int) -> None:
        p, pop, rng = self.params, self.pop, self.rng
        macro = np.exp(p.macro_amplitude * np.sin(2 * np.pi * month / p.macro_period_months))
        hazard = p.distress_hazard * np.exp(p.risk_beta * pop.risk) * macro
        u = rng.random(pop.size)
        in_distress = self.stage > 0
        recovered = in_distress & (self.stage >= p.miss_start_stage) & (u < p.recovery)
        self.stage = np.where(in_distress, self.stage + 1, (u < hazard).astype(np.int64))
        self.stage[recovered | pop.synthetic | self.new_file] = 0  # fraudsters keep their files clean
        self.macro = macro

    def _pay(self, month: int, only: np.ndarray | None = None) -> None:
        """Payments, interest, closures and charge-offs of `month`, for every account or those at `only`."""
        acc = self.acc if only is None else {name: col[only] for name, col in self.acc.items()}
        m, p, pop, rng = self.market, self.params, self.pop, self.rng
        n = len(acc["person"])
        person, kind, k0 = acc["person"], acc["kind"], acc["k"]
        is_open, charged = acc["status"] == OPEN, acc["status"] == CHARGED_OFF
        revolving, installment, bill = kind == Kind.REVOLVING, kind == Kind.INSTALLMENT, kind == Kind.BILL
        stmt = acc["balance"]
        min_due = np.where(stmt > 0, np.maximum(np.minimum(stmt, 5_000), np.ceil(stmt * m.min_payment[acc["slot"]])), 0)
        bill_due = np.maximum(np.round(acc["bill"] * rng.lognormal(0.0, 0.15, n)), 100)
        inst_due = np.where(acc["paid_n"] * acc["instalment"] + acc["past_due"] < acc["term"] * acc["instalment"],
                            acc["instalment"], 0)
        due = np.where(revolving, min_due, np.where(installment, inst_due, bill_due)).astype(np.int64)
        due = np.where(is_open, due, 0)

        distressed = self.stage[person] >= p.miss_start_stage
        p_miss = np.where(distressed, p.distress_miss,
                          p.normal_miss * np.exp(0.5 * pop.risk[person]) * self.macro) * m.miss_factor[acc["slot"]]
        busted = acc["fraud"] & (month >= self.bust_month[person])
        u_person = rng.random(pop.size)[person]
        u = np.where(rng.random(n) < 0.7, u_person, rng.random(n))
        cure_p = np.where(distressed, p.distress_cure_hold[0], p.normal_cure_hold[0])
        hold_p = np.where(distressed, p.distress_cure_hold[1], p.normal_cure_hold[1])
        current = is_open & (k0 == 0)
        miss = current & (due > 0) & ((u < p_miss) | busted)
        cure = is_open & (k0 > 0) & (u < cure_p) & ~busted
        hold = is_open & (k0 > 0) & ~cure & (u < cure_p + hold_p) & ~busted
        roll = is_open & (k0 > 0) & ~cure & ~hold
        pay = current & ~miss

        hold_amount = np.where(installment & (due == 0), np.minimum(acc["instalment"], acc["past_due"]), due)
        paid_full = np.where(revolving & acc["transactor"], stmt,
                             due + np.floor((stmt - due).clip(0) * rng.random(n) * 0.5).astype(np.int64))
        paid = np.select([pay & revolving, pay, hold, cure], [paid_full, due, hold_amount, due + acc["past_due"]], 0)
        paid = np.where(revolving, np.minimum(paid, stmt), paid)
        past_due = np.select([miss | roll, cure, hold], [acc["past_due"] + due, 0, acc["past_due"]
                                                        - np.where(installment & (due == 0), hold_amount, 0)],
                             acc["past_due"])
        k = np.select([miss, roll, cure, charged], [1, k0 + 1, 0, k0 + 1], k0)

        # Balances by kind.
        remaining = stmt - paid
        interest = np.where(~acc["transactor"] | (k > 0), np.round(remaining * acc["rate"]), 0)
        spend = acc["limit"] * acc["util"] * rng.lognormal(0.0, 0.5, n) * (rng.random(n) < 0.75)
        headroom = np.maximum(acc["limit"] - remaining, 0)
        bust_now = acc["fraud"] & (month == self.bust_month[person])
        purchases = np.where(bust_now, headroom, np.where((k == 0) & ~busted, np.minimum(spend, headroom), 0))
        rev_balance = np.minimum(remaining + interest + purchases, np.floor(acc["limit"] * 1.1)).astype(np.int64)
        paid_n = acc["paid_n"] + np.where(installment & (acc["instalment"] > 0),
                                          paid // np.maximum(acc["instalment"], 1), 0)
        # An instalment loan owes the principal left after every instalment fallen due, plus the overdue ones.
        unpaid_n = np.where(installment, past_due // np.maximum(acc["instalment"], 1), 0)
        loan_balance = remaining_principal(acc, paid_n + unpaid_n) + past_due
        # Capped at 110% of the amount lent: the furnishing standard's tolerance for accrued interest.
        loan_balance = np.minimum(loan_balance, np.floor(acc["principal"] * 1.1).astype(np.int64))
        balance = np.select([revolving, installment], [rev_balance, loan_balance], past_due)
        balance = np.where(is_open, balance, stmt)
        past_due = np.where(is_open & ~bill, np.minimum(past_due, balance), past_due)
        k = np.where(is_open & (past_due == 0), 0, k)  # paying the last overdue amount ends the delinquency

        # Closures: matured or prepaid loans, settled lines and services, settled charge-offs.
        r = rng.random(n)
        due_date = np.minimum(month_start(month) + acc["due_day"] - 1, month_end(month))
        matured = is_open & installment & (paid_n >= acc["term"]) & (past_due == 0)
        prepaid = is_open & installment & (k == 0) & ~matured & (due > 0) & (r < m.prepay[acc["slot"]]) & ~acc["fraud"]
        paid = np.where(prepaid, paid + balance, paid)
        closing_rate = np.where(revolving & (balance == 0), m.close[acc["slot"]] * 10, m.close[acc["slot"]] * bill)
        voluntary = is_open & ~installment & (k == 0) & (r < closing_rate) & ~acc["fraud"]
        settled = charged & ~acc["fraud"] & (r < p.settle_rate)
        secured = np.isin(m.ptype[acc["slot"]], [PRODUCT_TYPES.index("mortgage"), PRODUCT_TYPES.index("auto")])
        settle_code = np.where(secured & (r < p.settle_rate / 2), STATUS_CODE["Z"],
                               np.where(installment & (r < p.settle_rate / 20), STATUS_CODE["D"], STATUS_CODE["C"]))
        paid = np.where(settled, np.round(balance * (0.3 + 0.7 * rng.random(n))), paid).astype(np.int64)
        closing = matured | prepaid | voluntary | settled
        close_code = np.select([matured | prepaid, voluntary & bill, voluntary, settled],
                               [STATUS_CODE["C"], STATUS_CODE["G"], STATUS_CODE["C"], settle_code], 0)
        closed_day = np.where(settled | voluntary, month_start(month) + (r * 1e6).astype(np.int64)
                              % days_in_month(month), due_date)
        # The month an account is paid off or settled, the payoff is what was due.
        due = np.where(closing & (due == 0), paid, due)
        status = np.where(closing, CLOSED, acc["status"])
        k = np.where(closing, 0, k)
        balance = np.where(closing, 0, balance)
        past_due = np.where(closing, 0, past_due)

        # Days past due from the oldest unpaid due date; charge-off past charge_off_days.
        fdd = month_start(month - k + 1) + acc["due_day"] - 1
        dpd = np.where(k > 0, month_end(month) - fdd, 0)
        newly_charged = (status == OPEN) & (dpd > p.charge_off_days)
        status = np.where(newly_charged, CHARGED_OFF, status)
        past_due = np.where(status == CHARGED_OFF, balance, past_due)
        lag = rng.integers(p.notice_lag_days[0], p.notice_lag_days[1] + 1, n)
        sends = m.notice[acc["furnisher"]]
        # D and Z (repaid by a guarantor or with assets) stay negative information: their notice is kept.
        keeps_notice = settled & np.isin(close_code, [STATUS_CODE["D"], STATUS_CODE["Z"]])
        notice = np.where((k == 0) & ~keeps_notice, NO_DAY, np.where((k0 == 0) & (k > 0), np.minimum(fdd + lag, month_end(month)),
                                               acc["notice"]))
        updates = dict(status=status, balance=balance, paid_n=paid_n, k=k, past_due=past_due.astype(np.int64),
                       closed_on=np.where(closing, np.maximum(closed_day, acc["opened"]), acc["closed_on"]),
                       close_code=close_code, notice=np.where(sends, notice, NO_DAY), due=due, paid=paid)
        if only is None:
            acc.update(updates)
        else:
            for name, values in updates.items():
                self.acc[name][only] = values


def _draw_term_days(market: Market, slot: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    days = np.zeros(len(slot), dtype=np.int64)
    for s in np.unique(slot[market.short[slot]]):
        sel = slot == s
        days[sel] = rng.choice(market.term_days[s], size=int(sel.sum()))
    return days


def _draw_terms(market: Market, slot: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    term = np.ones(len(slot), dtype=np.int64)
    for s in np.unique(slot):
        sel = slot == s
        term[sel] = rng.choice(market.terms[s], size=int(sel.sum()))
    return term


def report_view(acc: dict[str, np.ndarray], month: int) -> dict[str, np.ndarray]:
    """Derived reporting fields of every account after a step: days past due, statuses and dates."""
    k = acc["k"]
    fdd = month_start(month - k + 1) + acc["due_day"] - 1
    dpd = np.where(k > 0, month_end(month) - fdd, 0)
    bucket = np.minimum((dpd + 29) // 30, 7)  # 1-30 -> 1, ..., 151-180 -> 6, over 180 -> 7
    nothing_due = (acc["due"] == 0) & (acc["past_due"] == 0)
    pstatus = np.select(
        [acc["status"] == CLOSED, k > 0, nothing_due],
        [acc["close_code"], STATUS_CODE["1"] + bucket - 1, STATUS_CODE["*"]],
        STATUS_CODE["N"],
    )
    return {"dpd": dpd, "fdd": np.where(k > 0, fdd, NO_DAY), "pstatus": pstatus}
