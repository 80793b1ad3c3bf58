"""Orchestration: persons in fixed-size blocks, each simulated month by month and appended to the files.

Cost grows linearly with the number of persons: a block of `SimConfig.block_size` persons is generated,
simulated over burn-in and window, written and dropped before the next one, and every step inside a
block is vectorised over persons or accounts. Randomness comes from one numpy Generator per block seeded
with (seed, 0, block), plus one for the file schedule (seed, 1), one per block for the lending events
(seed, 2, block), one per block for the over-borrowing episodes (seed, 3, block) and one per block for
the fraud patterns (seed, 4, block) and one per block for the credit applications (seed, 5, block), so the
output is
byte-identical for the same seed, size, months, event months and end period, and the event feed's length
changes no monthly file.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from openbureau.sim.applications import ApplicationParams, ApplicationTracker, ApplicationWriter
from openbureau.sim.behaviour import CHARGED_OFF, CLOSED, BlockSimulation, Market, report_view
from openbureau.sim.config import DEFAULT_CONFIG, Kind, SimConfig
from openbureau.sim.defects import (
    DEFECT_TYPES,
    ID_VARIANTS,
    LATE_FILE,
    NAME_VARIANTS,
    defect_rates,
    draw_relations,
    inject_defects,
    plan_files,
)
from openbureau.sim.episodes import episodes_truth, plan_episodes
from openbureau.sim.event_defects import event_defect_rates, inject_event_defects
from openbureau.sim.event_files import EventWriter
from openbureau.sim.events import EventSource
from openbureau.sim.fraud_patterns import PatternTracker, plan_patterns, stacked_applications
from openbureau.sim.identities import NO_CHANGE, IssuedNumbers, Population, make_population
from openbureau.sim.records import consent_frame, month_records
from openbureau.sim.timeline import (
    last_complete_period,
    month_end,
    month_start,
    parse_period,
    period_label,
    to_date,
)
from openbureau.sim.writer import OutputWriter, prepare_output

Progress = Callable[[int, int], None]
_DROPPED = DEFECT_TYPES.index("dropped_account")
_DUPLICATE = DEFECT_TYPES.index("duplicate_record")


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What a run produced."""

    out: Path
    persons: int
    months: int
    seed: int
    end_period: str
    periods: tuple[str, ...]
    files: int
    records: int
    consents: int
    defects: int
    seconds: float
    event_files: int = 0
    events: int = 0
    episodes: int = 0
    applications: int = 0


def generate(
    *,
    persons: int,
    months: int,
    seed: int,
    out: Path | str,
    end_period: str | None = None,
    progress: Progress | None = None,
    config: SimConfig = DEFAULT_CONFIG,
    event_months: int | None = None,
    applications: ApplicationParams = ApplicationParams(),  # noqa: B008 (frozen)
) -> GenerationSummary:
    """Generate a synthetic consumer credit market into `out`.

    Args:
        persons: number of persons (consumers known to at least one furnisher).
        months: number of monthly reporting periods written, ending at `end_period`.
        seed: random seed; the same arguments give byte-identical files.
        out: output directory; the files of an earlier simulation there are replaced.
        end_period: last reporting period `YYYY-MM`; defaults to the last complete month (UTC).
        progress: called with (persons done, persons total) after each block.
        config: market parameters.
        event_months: months at the end of the window with daily lending-event files (default
            ``config.events.months``; 0 for none). The monthly files do not depend on it.

    Returns:
        A summary with the number of files, records, consents and injected defects.

    Example: ``generate(persons=20_000, months=24, seed=7, out="data/sim")``.
    """
    if persons < 1 or months < 1:
        raise ValueError("persons and months must be at least 1")
    feed_months = min(config.events.months if event_months is None else event_months, months)
    if feed_months < 0:
        raise ValueError("event_months must not be negative")
    started = time.perf_counter()
    out = Path(out)
    end = parse_period(end_period or last_complete_period())
    window_start = end - months + 1
    history_start = window_start - config.behaviour.burn_in_months
    periods = [period_label(m) for m in range(window_start, end + 1)]
    furnishers = config.furnishers
    codes = [f.code for f in furnishers]
    prepare_output(out)
    writer = OutputWriter(out, [(f.code, f.format) for f in furnishers], periods)
    market = Market.build(furnishers)
    rates = defect_rates(furnishers)
    issued = IssuedNumbers()
    last_day = int(month_end(end))
    feed_start = end - feed_months + 1
    feed_first_day = int(month_start(feed_start))
    episode_first_day = int(month_start(max(end - config.over_borrowing.months + 1, window_start)))
    pattern_first_month = max(end - config.fraud_patterns.months + 1, window_start)
    event_codes = [f.code for f in furnishers if f.events]
    events = (EventWriter(out, codes, [i for i, f in enumerate(furnishers) if f.events], feed_first_day, last_day)
              if feed_months and event_codes else None)
    event_rates = event_defect_rates(furnishers)
    applied = ApplicationWriter(out)
    defects = episodes = 0
    try:
        n_blocks = -(-persons // config.block_size)
        for block in range(n_blocks):
            first = block * config.block_size
            count = min(config.block_size, persons - first)
            rng = np.random.default_rng([seed, 0, block])
            pop = make_population(
                first_index=first, count=count, history_start=history_start, window_start=window_start,
                window_months=months, ring_base=block * config.block_size, params=config.population,
                issued=issued, rng=rng,
            )
            rel = draw_relations(pop, furnishers, rng)
            plan = plan_episodes(pop=pop, market=market, params=config.over_borrowing, first_day=episode_first_day,
                                 last_day=last_day, rng=np.random.default_rng([seed, 3, block]))
            patterns = plan_patterns(pop=pop, rel=rel, market=market, params=config.fraud_patterns,
                                     excluded=np.isin(np.arange(pop.size), plan.persons),
                                     first_month=pattern_first_month, end=end, history_start=history_start,
                                     rng=np.random.default_rng([seed, 4, block]))
            sim = BlockSimulation(pop=pop, market=market, behaviour=config.behaviour,
                                  population=config.population, block=block, rng=rng, episodes=plan,
                                  patterns=patterns)
            tracker = PatternTracker(sim, patterns, pattern_first_month)
            event_rng = np.random.default_rng([seed, 2, block])
            source = EventSource(sim=sim, rel=rel, params=config.events, first_day=feed_first_day,
                                 last_day=last_day, rng=event_rng,
                                 application_moments=functools.partial(stacked_applications, patterns, market))
            asked = ApplicationTracker(sim, applications, first_month=window_start - applications.months_before_window,
                                       rng=np.random.default_rng([seed, 5, block]))
            sim.open_initial(history_start)
            in_default = np.zeros((count, months), dtype=bool)
            observed = np.zeros((count, months), dtype=bool)
            for month in range(history_start, end + 1):
                sim.step(month)
                if month >= window_start:
                    tracker.after_step(month)
                asked.after_step(month)
                if month < window_start:
                    continue
                i = month - window_start
                _flag_default(sim, month, in_default[:, i], observed[:, i])
                frame = inject_defects(month_records(sim, rel, month), rates, rng)
                defects += _write_month(writer, frame, codes, periods[i])
                if events is not None and month >= feed_start:
                    events.append(inject_event_defects(source.month(month), event_rates, event_rng))
            consents = consent_frame(sim, rel, last_day, rng)
            for (code,), part in consents.partition_by("_code", as_dict=True, maintain_order=True).items():
                writer.append_consents(str(code), part)
            writer.append_truth("persons", _persons_truth(pop).with_columns(
                over_borrower=pl.Series(np.isin(np.arange(pop.size), plan.persons))))
            found = episodes_truth(plan, pop, market)
            writer.append_truth("episodes", found)
            episodes += found["episode_id"].n_unique()
            writer.append_truth("default_12m", _default_truth(pop, in_default, observed, periods))
            writer.append_truth("fraud", tracker.truth())
            writer.append_truth("first_credit", tracker.first_credit_truth())
            applied.append(asked.truth(block))
            if progress is not None:
                progress(first + count, persons)
        delay, late = plan_files(furnishers, months, np.random.default_rng([seed, 1]))
        submitted: dict[tuple[str, str], date] = {}
        late_rows = []
        for fi, code in enumerate(codes):
            for i, period in enumerate(periods):
                submitted[(code, period)] = to_date(month_end(window_start + i) + delay[fi, i])
                if late[fi, i]:
                    late_rows.append({"furnisher": code, "period": period, "defect_type": LATE_FILE})
        late_frame = pl.DataFrame(late_rows, schema={"furnisher": pl.String, "period": pl.String,
                                                     "defect_type": pl.String})
        writer.append_truth("defects", late_frame.with_columns(
            furnisher_account_id=pl.lit(None, pl.String), row=pl.lit(None, pl.Int64), line=pl.lit(None, pl.Int64),
            field=pl.lit(None, pl.String)))
        defects += late_frame.height
        event_entries: list[dict[str, object]] = []
        if events is not None:
            event_entries, event_defects = events.finish()
            writer.append_truth("defects", event_defects)
            defects += event_defects.height
    except BaseException:
        if events is not None:
            events.abort()
        raise
    finally:
        writer.close()
        applied.close()
    meta = {"generator": "openbureau.sim", "seed": seed, "persons": persons, "months": months,
            "end_period": periods[-1], "periods": periods, "block_size": config.block_size,
            "furnishers": codes, "subscribers": [s.code for s in config.subscribers],
            "event_months": feed_months, "event_furnishers": event_codes if feed_months else []}
    files = writer.write_manifest(submitted=submitted, meta=meta, events=event_entries)
    return GenerationSummary(
        out=out, persons=persons, months=months, seed=seed, end_period=periods[-1], periods=tuple(periods),
        files=len(files), records=sum(writer.rows.values()), consents=sum(writer.consent_rows.values()),
        defects=defects, seconds=time.perf_counter() - started, event_files=len(event_entries),
        events=events.events if events is not None else 0, episodes=episodes,
        applications=applied.rows,
    )


def _flag_default(sim: BlockSimulation, month: int, in_default: np.ndarray, observed: np.ndarray) -> None:
    """Mark persons reported this month, and those in default: a credit account 90+ days past due or
    charged off."""
    acc = sim.acc
    dpd = report_view(acc, month)["dpd"]
    observed[acc["person"]] = True
    bad = (acc["kind"] != Kind.BILL) & (acc["status"] != CLOSED) & ((dpd >= 90) | (acc["status"] == CHARGED_OFF))
    in_default[acc["person"][bad]] = True


def _write_month(writer: OutputWriter, frame: pl.DataFrame, codes: list[str], period: str) -> int:
    """Write one block-month of records per furnisher, and the truth rows that go with them."""
    dropped = frame.filter(pl.col("_defect") == _DROPPED)
    kept = frame.filter(pl.col("_defect") != _DROPPED)
    defect_parts = [dropped.select(
        furnisher=pl.col("_code"), period=pl.col("reporting_period"), furnisher_account_id="furnisher_account_id",
        row=pl.lit(None, pl.Int64), line=pl.lit(None, pl.Int64), defect_type=pl.lit("dropped_account"),
        field=pl.lit(None, pl.String),
    )]
    for (fi,), part in kept.partition_by("_f", as_dict=True, maintain_order=True).items():
        code = codes[int(fi)]  # type: ignore[call-overload]
        before = writer.append_records(code, period, part)
        fmt = writer.formats[code]
        marked = part.with_row_index("_i").filter(pl.col("_defect") >= 0)
        row = pl.col("_i").cast(pl.Int64) + before + 1
        defect_parts.append(marked.select(
            furnisher=pl.col("_code"), period=pl.col("reporting_period"),
            furnisher_account_id="furnisher_account_id", row=row,
            line=row + 1 if fmt == "csv" else row,  # the intake readers' _line: CSV counts its header
            defect_type=pl.col("_defect").replace_strict(list(range(len(DEFECT_TYPES))), list(DEFECT_TYPES),
                                                         return_dtype=pl.String),
            field=pl.col("_field"),
        ))
    found = pl.concat(defect_parts)
    writer.append_truth("defects", found)
    writer.append_truth("records", kept.filter(pl.col("_defect") != _DUPLICATE).select(
        furnisher=pl.col("_code"), period=pl.col("reporting_period"), furnisher_account_id="furnisher_account_id",
        person_key="person_key",
        name_variant=pl.col("_name_var").replace_strict(list(range(len(NAME_VARIANTS))), list(NAME_VARIANTS), return_dtype=pl.String),
        id_variant=pl.col("_id_var").replace_strict(list(range(3)), list(ID_VARIANTS), return_dtype=pl.String),
    ))
    return found.height


def _persons_truth(pop: Population) -> pl.DataFrame:
    s = pop.strings
    changed = pop.phone_change < NO_CHANGE
    change = pl.Series(np.where(changed, pop.phone_change, 0))
    change_label = pl.select(pl.format("{}-{}", (change // 12 + 1970).cast(pl.String),
                                       (change % 12 + 1).cast(pl.String).str.zfill(2))).to_series()
    none = pl.Series([None] * pop.size, dtype=pl.String)
    return pl.DataFrame({
        "person_key": s["person_key"], "id_number": s["resident_id"], "full_name": s["name"],
        "surname": s["surname"], "given_name": s["given_name"],
        "sex": np.where(pop.sex == 1, "M", "F"),
        "birth_date": pl.Series(pop.birth).cast(pl.Int32).cast(pl.Date),
        "region_code": s["region_code"], "address": s["address"], "phone": s["phone_a"],
        "phone_new": s["phone_b"].zip_with(pl.Series(changed), none),
        "phone_changed_period": change_label.zip_with(pl.Series(changed), none),
        "passport_number": s["passport"].zip_with(pl.Series(pop.has_passport), none),
        "income_monthly": np.round(pop.income * 100).astype(np.int64),
        "latent_risk": np.round(pop.risk, 6),
        "thin_file": pop.thin,
        "synthetic": pop.synthetic,
        "ring_id": pl.Series(pop.ring).set(pl.Series(pop.ring < 0), None),
        "namesake_of": s["person_key"].gather(np.maximum(pop.namesake_of, 0)).zip_with(
            pl.Series(pop.namesake_of >= 0), none),
    })


def _default_truth(pop: Population, in_default: np.ndarray, observed: np.ndarray,
                   periods: list[str]) -> pl.DataFrame:
    """Per observed person and month: in default now, and whether in default in any of the next 12 months."""
    n, months = in_default.shape
    cum = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(in_default, axis=1)], axis=1)
    t = np.arange(months)
    horizon = np.minimum(12, months - 1 - t)
    ahead = cum[:, t + horizon + 1] - cum[:, t + 1]
    person, month = np.nonzero(observed)
    return pl.DataFrame({
        "person_key": pop.strings["person_key"].gather(person),
        "period": pl.Series(periods).gather(month),
        "in_default": in_default[person, month],
        "default_12m": ahead[person, month] > 0,
        "horizon_months": horizon[month].astype(np.int64),
    })
