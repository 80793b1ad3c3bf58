"""Replay a simulated market into a bureau: register its members, then submit every furnishing file in
the order the furnishers would have sent them. The demo's main job, and a fixture for tests and benchmarks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import Engine

from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.members.models import Role
from openbureau.members.schemas import MemberCreate
from openbureau.members.service import add_member
from openbureau.sim.config import FURNISHERS, SUBSCRIBERS
from openbureau.sim.writer import ManifestEntry, read_manifest

# The bureau's own operator and the regulator are members too.
BUREAU_MEMBERS = (("OPERATOR", "OpenBureau operations", (Role.OPERATOR,)),
                  ("REGULATOR", "Credit reporting regulator", (Role.REGULATOR,)))


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


@dataclass(slots=True)
class ReplayResult:
    """Totals per furnisher, in the order of first appearance."""

    totals: dict[str, FurnisherTotals] = field(default_factory=lambda: defaultdict(FurnisherTotals))


def register_members(engine: Engine) -> list[IssuedMember]:
    """Register the market's furnishers and subscribers, the operator and the regulator."""
    wanted = [(f.code, f.name, tuple(Role(r) for r in f.roles)) for f in FURNISHERS]
    wanted += [(s.code, s.name, tuple(Role(r) for r in s.roles)) for s in SUBSCRIBERS]
    wanted += list(BUREAU_MEMBERS)
    issued = []
    with session_scope(engine, write=True) as session:
        for code, name, roles in wanted:
            member, key = add_member(session, data=MemberCreate(code=code, name=name, roles=list(roles)))
            issued.append(IssuedMember(code, name, tuple(sorted(r.value for r in member.roles)), key.api_key))
    return issued


def replay(
    engine: Engine, *, settings: Settings, market: Path, today: date | None = None,
    on_file: Callable[[ManifestEntry], None] | None = None,
    on_records: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Submit every furnishing file of ``market`` in simulated submission order."""
    result = ReplayResult()
    for entry in read_manifest(market):
        if on_file is not None:
            on_file(entry)
        submitted = intake.submit(
            engine, settings=settings, furnisher_code=entry.furnisher, path=entry.path, today=today,
            received_at=datetime.combine(entry.submitted_on, time(9), tzinfo=UTC), progress=on_records,
        ).submission
        totals = result.totals[entry.furnisher]
        totals.files += 1
        totals.received += submitted.records_received
        totals.accepted += submitted.records_accepted
        totals.warnings += submitted.records_warnings
        totals.rejected += submitted.records_rejected
        totals.quarantined += submitted.records_quarantined
    return result
