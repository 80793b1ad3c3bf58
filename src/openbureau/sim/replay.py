"""Replay a simulated market into a bureau: register its members, then submit every furnishing file and
every daily lending-event file in the order the furnishers would have sent them. The demo's main job, and a
fixture for tests and benchmarks.

A monthly file arrives at 09:00 UTC (17:00 in Beijing) on its simulated submission day; a lender's events of
a day arrive as one file at the end of that day (23:59:59+08:00), after that day's monthly files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from openbureau.audit.service import terminal_operator
from openbureau.intake import quarantine
from openbureau.intake import service as intake
from openbureau.intake.events.files import submit_event_file
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.members.models import Role, Vetting
from openbureau.members.schemas import MemberCreate
from openbureau.members.service import add_member, get_member
from openbureau.policy import Policy
from openbureau.sim.config import FURNISHERS, SUBSCRIBERS
from openbureau.sim.event_files import EventFileEntry, read_event_manifest
from openbureau.sim.metro2_files import Metro2Lender
from openbureau.sim.replay_applications import ApplicationTotals, replay_applications
from openbureau.sim.writer import ManifestEntry, read_manifest

# The bureau's own operator and the regulator are members too.
BUREAU_MEMBERS = (("OPERATOR", "OpenBureau operations", (Role.OPERATOR,)),
                  ("REGULATOR", "Credit reporting regulator", (Role.REGULATOR,)))
_NAMES = {f.code: f.name for f in FURNISHERS}
MONTHLY_ARRIVAL = time(9, tzinfo=UTC)  # a monthly file's moment on its submission day
EVENTS_ARRIVAL = time(23, 59, 59, tzinfo=timezone(timedelta(hours=8)))  # a day's events: end of the local day


@dataclass(frozen=True, slots=True)
class IssuedMember:
    """A member registered for the demo and its API key."""

    code: str
    name: str
    roles: tuple[str, ...]
    api_key: str


@dataclass(slots=True)
class FurnisherTotals:
    """What one furnisher's files came to."""

    files: int = 0
    received: int = 0
    accepted: int = 0
    warnings: int = 0
    rejected: int = 0
    quarantined: int = 0
    consents: int = 0
    released: int = 0
    event_files: int = 0
    events: int = 0  # events received
    events_stored: int = 0  # stored (held ones included)
    events_duplicates: int = 0
    events_rejected: int = 0
    events_held: int = 0
    metro2_files: int = 0  # monthly files sent as Metro 2
    metro2_left_out: int = 0  # records the Metro 2 writer could not write (defective values): not sent


@dataclass(slots=True)
class ReplayResult:
    """Totals per furnisher, in the order of first appearance."""

    totals: dict[str, FurnisherTotals] = field(default_factory=lambda: defaultdict(FurnisherTotals))
    applications: ApplicationTotals = field(default_factory=ApplicationTotals)


def register_members(engine: Engine) -> list[IssuedMember]:
    """Register the market's furnishers and subscribers, the operator and the regulator."""
    wanted = [(f.code, f.name, tuple(Role(r) for r in f.roles)) for f in FURNISHERS]
    wanted += [(s.code, s.name, tuple(Role(r) for r in s.roles)) for s in SUBSCRIBERS]
    wanted += list(BUREAU_MEMBERS)
    issued, operator = [], terminal_operator()
    with session_scope(engine, write=True) as session:
        for code, name, roles in wanted:
            member, key = add_member(session, principal=operator, data=MemberCreate(
                code=code, name=name, roles=list(roles), vetting=Vetting.APPROVED))  # the synthetic market is vetted
            issued.append(IssuedMember(code, name, tuple(sorted(r.value for r in member.roles)), key.api_key))
    return issued


def replay(
    engine: Engine, *, settings: Settings, policy: Policy, vault: PiiVault, market: Path, today: date | None = None,
    on_file: Callable[[ManifestEntry], None] | None = None,
    on_records: Callable[[int], None] | None = None,
    events: bool = True,
    on_event_file: Callable[[EventFileEntry], None] | None = None,
    after: Callable[[ManifestEntry | EventFileEntry], None] | None = None,
    metro2: frozenset[str] = frozenset(),
    applications: bool = True,
) -> ReplayResult:
    """Submit every furnishing file of ``market`` in simulated submission order, and (``events``) every
    daily lending-event file in time order beside them.

    Before each file, the furnisher's consents granted (and revoked) by the file's arrival are imported,
    as the furnisher would have sent them, so records held for want of consent are released when the
    consent arrives. Each load judges consent at the file's simulated arrival time, under the bureau's
    ``policy``, and each event file is received at the end of its day. A day's event file without events
    is not sent. The monthly files of the furnishers named in ``metro2`` are written as Metro 2 by the codec
    and submitted as such (``sim.metro2_files``). ``after`` is called once each file is in (the demo's lender
    registers its portfolio for monitoring after its first file, and its webhooks are delivered between files).
    """
    result = ReplayResult()
    monthly = [(datetime.combine(e.submitted_on, MONTHLY_ARRIVAL), 0, e) for e in read_manifest(market)]
    daily = [(datetime.combine(e.date, EVENTS_ARRIVAL).astimezone(UTC), 1, e)
             for e in (read_event_manifest(market) if events else []) if e.rows]
    arrivals = sorted(monthly + daily, key=lambda a: (a[0], a[1]))
    feeds = {code: _ConsentFeed(market / "consents" / f"{code}.csv")
             for code in {a[2].furnisher for a in arrivals}}
    profile = policy.profile
    work = Path(tempfile.mkdtemp(prefix="consents-", dir=settings.data_dir))
    lenders: dict[str, Metro2Lender] = {}
    for arrival, _, entry in arrivals:
        totals = result.totals[entry.furnisher]
        batch = feeds[entry.furnisher].due(arrival, work / f"{entry.furnisher}-{arrival:%Y%m%d%H%M%S}.csv")
        if batch is not None:
            with session_scope(engine) as session:
                actor = get_member(session, code=entry.furnisher)
            outcome, released = quarantine.import_consents(engine, vault=vault, profile=profile, actor=actor, path=batch,
                                                         now=arrival)
            totals.consents += outcome.created
            totals.released += released
        if isinstance(entry, EventFileEntry):
            if on_event_file is not None:
                on_event_file(entry)
            _, taken, _ = submit_event_file(engine, settings=settings, vault=vault, profile=profile, path=entry.path,
                                            furnisher_code=entry.furnisher, received_at=arrival)
            totals.event_files += 1
            totals.events += taken.received
            totals.events_stored += taken.stored
            totals.events_duplicates += taken.duplicates
            totals.events_rejected += taken.rejected
            totals.events_held += taken.held
            if after is not None:
                after(entry)
            continue
        if on_file is not None:
            on_file(entry)
        path = entry.path
        if entry.furnisher in metro2:
            lender = lenders.setdefault(entry.furnisher, Metro2Lender(entry.furnisher,
                                                                      reporter_name=_NAMES[entry.furnisher]))
            written = lender.write(entry, work / f"{entry.furnisher}-{entry.period}.m2")
            path, totals.metro2_files, totals.metro2_left_out = (written.path, totals.metro2_files + 1,
                                                                 totals.metro2_left_out + written.left_out)
        submitted = intake.submit(
            engine, settings=settings, policy=policy, furnisher_code=entry.furnisher, path=path, today=today,
            received_at=arrival, progress=on_records,
        ).submission
        totals.files += 1
        totals.received += submitted.records_received
        totals.accepted += submitted.records_accepted
        totals.warnings += submitted.records_warnings
        totals.rejected += submitted.records_rejected
        totals.quarantined += submitted.records_quarantined
        if after is not None:
            after(entry)
    if applications:
        result.applications = replay_applications(engine, vault=vault, market=market)
    shutil.rmtree(work, ignore_errors=True)
    return result


class _ConsentFeed:
    """One furnisher's consent file, handed out in the order the consents were given and withdrawn."""

    def __init__(self, path: Path) -> None:
        frame = pl.read_csv(path, infer_schema=False) if path.exists() else pl.DataFrame(
            schema={"consent_ref": pl.String, "granted_at": pl.String, "revoked_at": pl.String})
        self.frame = frame.with_columns(
            pl.col("granted_at").str.to_datetime(time_zone="UTC", time_unit="us").alias("_granted"),
            pl.col("revoked_at").str.to_datetime(time_zone="UTC", time_unit="us", strict=False).alias("_revoked"),
        )
        self.until: datetime | None = None

    def due(self, moment: datetime, out: Path) -> Path | None:
        """Write the consent lines that arrived since the last call (new grants, new revocations)."""
        after = pl.lit(self.until, dtype=pl.Datetime("us", "UTC")) if self.until else None
        granted_now = pl.col("_granted") <= moment
        revoked_now = pl.col("_revoked").is_not_null() & (pl.col("_revoked") <= moment)
        new_grant = granted_now if after is None else granted_now & (pl.col("_granted") > after)
        new_revocation = revoked_now if after is None else revoked_now & (pl.col("_revoked") > after)
        rows = self.frame.filter(new_grant | new_revocation).with_columns(
            pl.when(revoked_now).then(pl.lit("revoked")).otherwise(pl.lit("active")).alias("status"),
            pl.when(revoked_now).then(pl.col("revoked_at")).otherwise(None).alias("revoked_at"),
        ).drop("_granted", "_revoked")
        self.until = moment
        if rows.height == 0:
            return None
        rows.write_csv(out)
        return out
