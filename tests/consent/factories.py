"""Factories of the consent domain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from openbureau.audit.models import AuditEntry
from openbureau.consent.models import Consent
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import ConsentCreate, Evidence, Subject
from openbureau.intake import quarantine
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.runtime import Runtime

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def default_ref(id_number: str, purpose: Purpose = Purpose.FURNISH) -> str:
    """The factory's consent reference for a person (no identity number in it)."""
    return f"{purpose.value}-{hashlib.sha256(id_number.encode()).hexdigest()[:10]}"


def consent_data(id_number: str, purpose: Purpose = Purpose.FURNISH, *, ref: str | None = None,
                 valid_from: datetime = EPOCH, valid_until: datetime | None = None,
                 id_type: str = "CN_RESIDENT_ID") -> ConsentCreate:
    """A consent of the person with ``id_number``."""
    return ConsentCreate(
        consent_ref=ref or default_ref(id_number, purpose), subject=Subject(id_type=id_type, id_number=id_number),
        purpose=purpose, valid_from=valid_from, valid_until=valid_until,
        evidence=Evidence(channel="app", captured_at=min(valid_from, datetime.now(UTC)), document_hash="ab" * 32),
    )


def grant(runtime: Runtime, member_code: str, id_number: str, purpose: Purpose = Purpose.FURNISH,
          **kwargs) -> tuple[int, int]:
    """Record a consent to ``member_code``; returns (consent id, records released)."""
    with session_scope(runtime.engine, write=True) as session:
        consent, released = quarantine.grant_consent(
            session, vault=runtime.vault, profile=runtime.policy.profile, actor=get_member(session, code=member_code),
            data=consent_data(id_number, purpose, **kwargs))
        return consent.id, released


def grant_many(runtime: Runtime, member_code: str, id_numbers: list[str], *, days: int | None = None) -> None:
    """Consents to furnish for several people (valid ``days`` from the epoch, or open-ended)."""
    until = EPOCH + timedelta(days=days) if days is not None else None
    for number in id_numbers:
        grant(runtime, member_code, number, valid_until=until)


def stored_imports(runtime: Runtime) -> tuple[int, list[dict]]:
    """How many consents the bureau holds, and the details of every ``consent.import`` audit entry in order."""
    with session_scope(runtime.engine) as session:
        count = session.scalar(select(func.count()).select_from(Consent))
        parts = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "consent.import")
                                .order_by(AuditEntry.seq)).all()
    return count, [json.loads(p) for p in parts]
