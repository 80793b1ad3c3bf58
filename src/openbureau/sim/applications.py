"""Credit applications: every account a lender opens was applied for first, some persons shop for a rate
with several lenders, and some applications are declined and lead to no account.

Drawn per block after each simulated month from the accounts opened that month, with a random generator of
its own (seed, 5, block), so the furnishing files do not change. Written to ``truth/applications.parquet``
(one row per application; see docs/simulation.md, Applications); the replay records each as a hard inquiry
of the lender at ``applied_at`` under the person's consent to that lender for loan origination.

The dependence on risk is mild and causal, never the outcome: a person's rate of applications that lead to
no account grows with their latent risk and with their income shock (the distress that may, or may not, end
in default), as persons short of money look for credit more often.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from openbureau.sim.behaviour import BlockSimulation
from openbureau.sim.config import Kind
from openbureau.sim.timeline import days_in_month, month_start

APPLICATIONS_FILE = "applications.parquet"
OUTCOMES = ("opened", "declined", "not_taken")  # not_taken: a quote of a rate-shopping burst not taken up
SHOPPING_DAYS = 14  # a burst's applications all fall within this many days (scoring counts them once)

APPLICATION_SCHEMA = {
    "application_id": pl.String, "person_key": pl.String, "id_type": pl.String, "id_number": pl.String,
    "full_name": pl.String, "furnisher": pl.String, "applied_at": pl.Datetime("us", "UTC"),
    "outcome": pl.String, "burst_id": pl.String, "opened_on": pl.Date,
}


@dataclass(frozen=True, slots=True)
class ApplicationParams:
    """How persons apply for credit."""

    lead_days: int = 7  # an opened account's application comes 0..lead_days days before it is opened
    shop_share_instalment: float = 0.30  # share of instalment loans shopped for with other lenders
    shop_share_revolving: float = 0.10  # share of credit lines shopped for
    declined_monthly: float = 0.015  # base monthly rate of applications that lead to no account
    risk_slope: float = 0.35  # the rate grows by exp(risk_slope * latent risk)
    distress_factor: float = 2.0  # and by this factor while the person's income shock lasts
    months_before_window: int = 12  # applications are drawn from this many months before the window


class ApplicationTracker:
    """Collects one block's applications month by month."""

    def __init__(self, sim: BlockSimulation, params: ApplicationParams, *, first_month: int,
                 rng: np.random.Generator) -> None:
        self.sim, self.params, self.first_month, self.rng = sim, params, first_month, rng
        furnishers = sim.market.furnishers
        credit = {int(f) for f, k in zip(sim.market.slot_furnisher, sim.market.kind, strict=True) if k != Kind.BILL}
        self.lenders = np.array([i for i, f in enumerate(furnishers) if "subscriber" in f.roles and i in credit],
                                dtype=np.int64)
        self.seen = np.empty(0, dtype=np.int64)
        self.parts: list[dict[str, np.ndarray]] = []

    def after_step(self, month: int) -> None:
        """Draw the applications of ``month``: those behind the accounts opened in it, shopping quotes and
        declined applications."""
        acc, p, rng = self.sim.acc, self.params, self.rng
        key = acc["serial"] * len(self.sim.market.furnishers) + acc["furnisher"]  # serials count per lender
        fresh = ~np.isin(key, self.seen)
        self.seen = np.concatenate([self.seen, key[fresh]])
        if month < self.first_month:
            return
        start = int(month_start(month))
        new = np.flatnonzero(fresh & (acc["kind"] != Kind.BILL) & (acc["opened"] >= start)
                             & np.isin(acc["furnisher"], self.lenders))
        person, lender, opened = acc["person"][new], acc["furnisher"][new], acc["opened"][new]
        applied = opened - rng.integers(0, p.lead_days + 1, len(new))
        # Rate shopping: 1..4 other lenders quoted within SHOPPING_DAYS, all before the account was opened.
        share = np.where(acc["kind"][new] == Kind.INSTALLMENT, p.shop_share_instalment, p.shop_share_revolving)
        shop = np.flatnonzero(rng.random(len(new)) < share) if len(self.lenders) > 1 else np.empty(0, np.int64)
        burst_of = np.full(len(new), -1, dtype=np.int64)
        burst_of[shop] = key[new[shop]]
        self._add(person, lender, applied, 0, opened, burst_of)
        if len(shop):
            extra = rng.integers(1, min(4, len(self.lenders) - 1) + 1, len(shop))
            first = applied[shop] - rng.integers(0, SHOPPING_DAYS - p.lead_days, len(shop))
            lo = np.repeat(first, extra)
            hi = np.repeat(np.minimum(first + SHOPPING_DAYS - 1, opened[shop]), extra)
            day = lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)
            burst = np.repeat(shop, extra)
            # other lenders than the one that opened the account, each quoting once
            pos = np.searchsorted(self.lenders, lender[burst])
            other = self.lenders[(pos + 1 + _distinct_offsets(extra, len(self.lenders) - 1, rng)) % len(self.lenders)]
            self._add(person[burst], other, day, 2, opened[burst], burst_of[burst])
        # Applications that lead to no account: more often for riskier persons and during an income shock.
        n = self.sim.pop.size
        rate = p.declined_monthly * np.exp(p.risk_slope * self.sim.pop.risk) * np.where(
            self.sim.stage > 0, p.distress_factor, 1.0)
        count = rng.poisson(rate)
        who = np.repeat(np.arange(n), count)
        day = start + (rng.random(len(who)) * days_in_month(month)).astype(np.int64)
        none = np.full(len(who), -1, dtype=np.int64)
        self._add(who, self.lenders[rng.integers(0, len(self.lenders), len(who))], day, 1, none, none)

    def _add(self, person: np.ndarray, lender: np.ndarray, day: np.ndarray, outcome: int, opened: np.ndarray,
             burst: np.ndarray) -> None:
        seconds = self.rng.integers(8 * 3600, 22 * 3600, len(person))  # business hours, local time written as UTC
        self.parts.append({"person": person.astype(np.int64), "lender": lender.astype(np.int64),
                           "day": day.astype(np.int64), "seconds": seconds, "outcome": np.full(len(person), outcome),
                           "opened": opened.astype(np.int64), "burst": burst.astype(np.int64)})

    def truth(self, block: int) -> pl.DataFrame:
        """The block's applications, in time order, with the applicant's true identity."""
        if not self.parts:
            return pl.DataFrame(schema=APPLICATION_SCHEMA)
        cols = {k: np.concatenate([part[k] for part in self.parts]) for k in self.parts[0]}
        strings = self.sim.pop.strings
        codes = [f.code for f in self.sim.market.furnishers]
        frame = pl.DataFrame(cols).sort(["day", "seconds", "person", "lender"])
        return frame.with_row_index("_i").select(
            application_id=pl.format("AP{}-{}", pl.lit(block), pl.col("_i")),
            person_key=strings["person_key"].gather(frame["person"]),
            id_type=pl.lit("CN_RESIDENT_ID"),
            id_number=strings["resident_id"].gather(frame["person"]),
            full_name=strings["name"].gather(frame["person"]),
            furnisher=pl.col("lender").replace_strict(list(range(len(codes))), codes, return_dtype=pl.String),
            applied_at=(pl.col("day").cast(pl.Int32).cast(pl.Date).cast(pl.Datetime("us", "UTC"))
                        + pl.duration(seconds=pl.col("seconds"))),
            outcome=pl.col("outcome").replace_strict(list(range(3)), list(OUTCOMES), return_dtype=pl.String),
            burst_id=pl.when(pl.col("burst") >= 0).then(pl.format("B{}", pl.col("burst"))),
            opened_on=pl.when(pl.col("opened") >= 0).then(pl.col("opened").cast(pl.Int32).cast(pl.Date)),
        )


def _distinct_offsets(extra: np.ndarray, span: int, rng: np.random.Generator) -> np.ndarray:
    """For each burst of ``extra[i]`` quotes, that many distinct offsets in 0..span-1 (a lender quotes once)."""
    start = rng.integers(0, span, len(extra))
    within = np.arange(int(extra.sum())) - np.repeat(np.cumsum(extra) - extra, extra)
    return (np.repeat(start, extra) + within) % span


class ApplicationWriter:
    """Appends each block's applications to ``truth/applications.parquet``."""

    def __init__(self, out: Path) -> None:
        self.path = out / "truth" / APPLICATIONS_FILE
        self.writer = pq.ParquetWriter(self.path, pl.DataFrame(schema=APPLICATION_SCHEMA).to_arrow().schema)
        self.rows = 0

    def append(self, frame: pl.DataFrame) -> None:
        """Write one block's rows."""
        if frame.height:
            self.writer.write_table(frame.select(list(APPLICATION_SCHEMA)).cast(APPLICATION_SCHEMA).to_arrow())
            self.rows += frame.height

    def close(self) -> None:
        """Finish the file."""
        self.writer.close()
