"""Over-borrowing episodes: a person takes loans from several platforms within a few days.

Some persons (``OverBorrowingParams.share``, weighted towards high latent risk) borrow from 3-8 distinct
online platforms within 1-10 days, as people do when one loan repays another. The loans are ordinary
accounts of the simulation (they appear in the monthly files and as opened events) and the truth lists
them in ``truth/episodes.parquet``, one row per loan.

`detect` is the benchmark's measure: given the episodes and a callable that says whether an inquiry by a
lender at a moment would flag the person for ``MULTI_LENDING``, the share of episodes flagged before their
last loan was granted. It knows no database; the callable does the querying.

Example:
    >>> episodes = load_episodes("data/sim")  # doctest: +SKIP
    >>> result = detect(episodes, lambda lender, at, person_key: ask_bureau(lender, at, person_key))  # doctest: +SKIP
    >>> result.share  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from openbureau.intake.standard import PRODUCT_TYPES
from openbureau.sim.config import Kind, OverBorrowingParams
from openbureau.sim.events import LOCAL_OFFSET_SECONDS, opening_second
from openbureau.sim.identities import Population
from openbureau.sim.records import account_ids, digits

if TYPE_CHECKING:
    from openbureau.sim.behaviour import Market

_SECURED = ("mortgage", "auto")


@dataclass(frozen=True)
class EpisodeLoans:
    """The loans of a block's over-borrowing episodes, one entry per loan (arrays), episode by episode.

    `serial` is filled in as the simulation opens each loan (-1 before).
    """

    episode: np.ndarray  # global index of the episode's person (the episode id's number)
    person: np.ndarray  # index in the block
    slot: np.ndarray  # product slot (its furnisher is a platform)
    day: np.ndarray  # opening day number
    month: np.ndarray  # month index of the opening day
    position: np.ndarray  # order by day within the episode (1..n; truth orders by the opening moment)
    distress: np.ndarray  # the episode comes with a financial shock
    serial: np.ndarray
    rng: np.random.Generator  # draws of the loans' amounts and terms (the block's stream is left alone)

    @property
    def persons(self) -> np.ndarray:
        """Block indices of the persons with an episode."""
        return np.unique(self.person)


def plan_episodes(*, pop: Population, market: Market, params: OverBorrowingParams, first_day: int, last_day: int,
                  rng: np.random.Generator) -> EpisodeLoans:
    """Choose the block's over-borrowers and their loans: which platforms, which products, which days.

    Episodes fall between `first_day` and `last_day` (day numbers). Thin files (no credit history) and
    synthetic identities have none.
    """
    codes = [f.code for f in market.furnishers]
    platforms = np.array([codes.index(c) for c in params.platforms if c in codes], dtype=np.int64)
    secured = np.isin(market.ptype, [PRODUCT_TYPES.index(p) for p in _SECURED])
    loan_slot = (market.kind == Kind.INSTALLMENT) & ~secured
    per_platform = [np.flatnonzero(loan_slot & (market.slot_furnisher == f)) for f in platforms]
    keep = [i for i, slots in enumerate(per_platform) if len(slots)]
    platforms, per_platform = platforms[keep], [per_platform[i] for i in keep]
    n, n_platforms = pop.size, len(platforms)
    lo, hi = params.lenders[0], min(params.lenders[1], n_platforms)
    weight = 2.0 / (1.0 + np.exp(-pop.risk))  # averages about 1 over the population
    chosen = np.flatnonzero((rng.random(n) < params.share * weight) & ~pop.thin & ~pop.synthetic)
    if hi < lo or last_day - first_day + 1 < params.days[1]:
        chosen = chosen[:0]
    e = len(chosen)
    sizes = np.arange(lo, hi + 1)
    odds = params.lender_decay ** (sizes - lo)
    size = rng.choice(sizes, size=e, p=odds / odds.sum()) if e else np.empty(0, dtype=np.int64)
    span = rng.integers(params.days[0], params.days[1] + 1, e)
    start = first_day + (rng.random(e) * (last_day - first_day + 2 - span)).astype(np.int64)
    lenders = np.argsort(rng.random((e, n_platforms)), axis=1)  # a random order of the platforms per episode
    loan = np.arange(n_platforms)[None, :] < size[:, None]
    draws = np.where(loan, (rng.random((e, n_platforms)) * span[:, None]).astype(np.int64), np.iinfo(np.int64).max)
    offsets = np.sort(draws, axis=1)  # the loans' days, in order, from the episode's first day
    distress = rng.random(e) < params.distress
    uniform = rng.random((e, n_platforms))

    ep, pos = np.nonzero(loan)
    # The first loan opens the episode on its first day and the last one falls on its last day.
    offset = np.select([pos == 0, pos == size[ep] - 1], [0, span[ep] - 1], offsets[ep, pos])
    platform = lenders[ep, pos]
    slot = np.empty(len(ep), dtype=np.int64)
    for i, slots in enumerate(per_platform):
        here = platform == i
        slot[here] = slots[(uniform[ep[here], pos[here]] * len(slots)).astype(np.int64)]
    day = start[ep] + offset
    return EpisodeLoans(
        episode=(chosen + pop.first_index)[ep].astype(np.int64), person=chosen[ep], slot=slot, day=day,
        month=day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64), position=pos + 1,
        distress=distress[ep], serial=np.full(len(ep), -1, dtype=np.int64), rng=rng,
    )


def episodes_truth(plan: EpisodeLoans, pop: Population, market: Market) -> pl.DataFrame:
    """The block's episodes for ``truth/episodes.parquet``: one row per loan, in the order granted."""
    codes = pl.Series([f.code for f in market.furnishers])
    local = plan.day * 86_400 + opening_second(plan.serial, market.slot_furnisher[plan.slot])
    return pl.DataFrame({
        "episode_id": "EP" + digits(plan.episode, 8),
        "person_key": pop.strings["person_key"].gather(plan.person),
        "furnisher": codes.gather(market.slot_furnisher[plan.slot]),
        "furnisher_account_id": account_ids(market, plan.slot, plan.serial),
        "opened_at": pl.Series((local - LOCAL_OFFSET_SECONDS) * 1000).cast(pl.Datetime("ms", "UTC")),
    }).sort("episode_id", "opened_at", "furnisher").with_columns(
        position=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("episode_id"),
    ).with_columns(last=pl.col("position") == pl.col("position").max().over("episode_id"))


def load_episodes(market: Path | str) -> pl.DataFrame:
    """``truth/episodes.parquet`` of a simulated market with each person's true resident ID (`id_number`),
    so that a caller can ask the bureau about the person."""
    truth = Path(market) / "truth"
    persons = pl.read_parquet(truth / "persons.parquet", columns=["person_key", "id_number"])
    return pl.read_parquet(truth / "episodes.parquet").join(persons, on="person_key", how="left")


Inquiry = Callable[[str, datetime, str], bool]
"""(lender code, moment, person_key) -> would an inquiry by that lender then flag ``MULTI_LENDING``."""


@dataclass(frozen=True, slots=True)
class EpisodeDetection:
    """How many over-borrowing episodes the bureau would have flagged in time."""

    episodes: int
    flagged: int  # flagged by an inquiry before the episode's last loan was granted
    share: float  # flagged / episodes (0 when there are none)
    first_flag: dict[int, int]  # position of the loan whose inquiry flagged first -> episodes
    loans_after_flag: int  # loans granted from the first flagged inquiry on: each could have been declined


def detect(episodes: pl.DataFrame, flags: Inquiry) -> EpisodeDetection:
    """Share of episodes flagged for ``MULTI_LENDING`` before their last loan was granted.

    Each loan's lender is taken to inquire about the person at the loan's `opened_at`, just before it
    grants it; `flags` answers whether that inquiry would flag the person, and must count only what the
    bureau had received before that moment. Loans are asked in order and an episode stops at its first
    flag, so the callable is asked at most once per loan.

    Args:
        episodes: ``truth/episodes.parquet`` (or `load_episodes`): episode_id, person_key, furnisher,
            opened_at, position.
        flags: (lender code, moment, person_key) -> bool.

    Returns:
        The number of episodes, how many were flagged in time, the share, and where the first flag came.

    Example: ``detect(load_episodes(out), lambda lender, at, person: False).share`` is ``0.0``.
    """
    first: dict[int, int] = {}
    after = 0
    ordered = episodes.sort("episode_id", "position")
    for (_,), loans in ordered.partition_by("episode_id", as_dict=True, maintain_order=True).items():
        rows = loans.select("furnisher", "opened_at", "person_key", "position").rows()
        for lender, at, person_key, position in rows:
            if flags(lender, _aware(at), person_key):
                first[position] = first.get(position, 0) + 1
                after += len(rows) - position + 1
                break
    total = ordered["episode_id"].n_unique()
    flagged = sum(first.values())
    return EpisodeDetection(episodes=total, flagged=flagged, share=flagged / total if total else 0.0,
                            first_flag=dict(sorted(first.items())), loans_after_flag=after)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
