"""Over-borrowing episodes: how many a lender's inquiry flags before the episode's last loan is granted,
with the same-day lending events and with the monthly files only, on one simulated market.

1. Simulate a market with daily lending events and over-borrowing episodes (``openbureau.sim``; the
   episodes are kept in ``truth/episodes.parquet``) and replay it into an embedded bureau: every monthly
   file on its submission day and every day's event file at the end of its day, in time order.
2. For each loan of each episode, the lender that grants it is taken to inquire just before it does
   (``openbureau.sim.detect``): the bureau's multi-lending rule (``signals.service.multi_lending``, default
   thresholds) is evaluated on what the bureau had received by that moment: the account states of the
   files received before it and, in the first measure, the events received before it.
3. It prints the share of episodes flagged before their last loan, both ways.

    .venv/bin/python bench/episodes.py --persons 20000 --months 6
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import polars as pl
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from openbureau import sim
    from openbureau.accounts.models import AccountState, LendingEvent
    from openbureau.accounts.repository import STATE_COLUMNS
    from openbureau.kit.db import session_scope
    from openbureau.kit.settings import Settings
    from openbureau.members.models import Member
    from openbureau.policy import SignalSettings
    from openbureau.runtime import open_runtime
    from openbureau.signals.service import multi_lending
    from openbureau.sim.replay import register_members, replay
    from openbureau.tradelines.events import NewCredit
    from openbureau.tradelines.history import build_tradelines

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "episodes")
    args = parser.parse_args()
    data = args.data.resolve()
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    market = data / "market"
    started = time.perf_counter()
    sim.generate(persons=args.persons, months=args.months, seed=args.seed, out=market, end_period="2026-10")
    print(f"simulated {args.persons:,} persons x {args.months} months in {time.perf_counter() - started:.0f} s",
          flush=True)
    settings = Settings(data_dir=data / "bureau", database_url=f"sqlite:///{data / 'bureau.db'}",
                        pii_key=base64.b64encode(os.urandom(32)).decode(),
                        index_key=base64.b64encode(os.urandom(32)).decode())
    settings.data_dir.mkdir()
    runtime = open_runtime(settings)
    register_members(runtime.engine)
    started = time.perf_counter()
    replay(runtime.engine, settings=settings, policy=runtime.policy, vault=runtime.vault, market=market)
    print(f"replayed files and events in {time.perf_counter() - started:.0f} s", flush=True)

    episodes = sim.load_episodes(market)
    thresholds = SignalSettings()
    with session_scope(runtime.engine) as session:
        codes = dict(session.execute(select(Member.code, Member.id)).all())
        accounts = episodes.select(pl.col("furnisher").replace_strict(codes).alias("furnisher_id"),
                                   "furnisher_account_id", "person_key")
        person_of: dict[str, int] = {}
        for furnisher_id, account, person_key in accounts.iter_rows():
            if person_key in person_of:
                continue
            found = session.scalar(select(AccountState.person_id).where(
                AccountState.furnisher_id == furnisher_id, AccountState.furnisher_account_id == account).limit(1))
            if found is not None:
                person_of[person_key] = found
        states = {pid: session.execute(select(*STATE_COLUMNS, AccountState.stored_at).where(
            AccountState.person_id == pid, AccountState.held_reason.is_(None))).all() for pid in person_of.values()}
        events = {pid: session.execute(select(
            LendingEvent.furnisher_id, LendingEvent.furnisher_account_id, LendingEvent.event_type,
            LendingEvent.occurred_at, LendingEvent.received_at).where(
            LendingEvent.person_id == pid, LendingEvent.held_reason.is_(None),
            LendingEvent.event_type.in_(("application", "opened")))).all() for pid in person_of.values()}

    def flags(with_events: bool):
        def ask(_lender: str, at: datetime, person_key: str) -> bool:
            pid = person_of.get(person_key)
            if pid is None:
                return False
            rows = [r for r in states[pid] if r.stored_at < at]
            lines = build_tradelines(rows, as_of=at.date(), retention_years=5)
            credit = [NewCredit(f, a, kind, occurred) for f, a, kind, occurred, received in events[pid]
                      if received < at] if with_events else []
            return multi_lending(tradelines=lines, hard_inquiries=[], now=at, settings=thresholds,
                                 new_credit=credit).triggered
        return ask

    live = sim.detect(episodes, flags(True))
    monthly = sim.detect(episodes, flags(False))
    print()
    print(f"Over-borrowing episodes of {args.persons:,} persons x {args.months} months: "
          f"{live.episodes:,} episodes, {episodes.height:,} loans")
    print(f"{'measure':<34}{'flagged before the last loan':>30}{'share':>9}")
    print(f"{'lending events and monthly files':<34}{live.flagged:>30,}{live.share:>9.1%}")
    print(f"{'monthly files only':<34}{monthly.flagged:>30,}{monthly.share:>9.1%}")


if __name__ == "__main__":
    main()
