"""Factories of the authorities tests: a request at a chosen moment, the signed-in person's view of the
requests about them, and the outbox rows of the requests' notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from openbureau.authorities import service
from openbureau.authorities.models import AuthorityRequest
from openbureau.kit.db import session_scope
from openbureau.notifications.models import Notification
from openbureau.principals import Principal
from tests.disputes.factories import SUBJECT, member
from tests.people.factories import principal, sign_in
from tests.reports.conftest import ID, NOW

ORDER_HASH = "ab" * 32
CITATION = "Criminal Procedure Law of the PRC, Art. 54"
REFERENCE = "HD-2026-刑-0042"


def request(runtime, code: str = "COURT", *, now: datetime = NOW, subject=SUBJECT, by: Principal | None = None,
            **fields):
    """Authority ``code`` requests the subject's report at ``now``; the answer."""
    values = {"basis": "court_order", "citation": CITATION, "reference": REFERENCE, "order_hash": ORDER_HASH,
              **fields}
    with session_scope(runtime.engine, write=True) as session:
        return service.request_report(session, vault=runtime.vault, principal=by or member(runtime, code),
                                      subject=subject, policy=runtime.policy, now=now, **values)


def person_0(runtime) -> Principal:
    """Person 0, signed in (with the injected clock) as the /v1/me adapter would make them."""
    return principal(runtime, sign_in(runtime, ID, now=NOW), now=NOW)


def seen_by(runtime, person: Principal, *, now: datetime):
    """The requests about ``person`` shown to them at ``now``."""
    with session_scope(runtime.engine, write=True) as session:
        return service.requests_about_me(session, vault=runtime.vault, principal=person, now=now)


def rows(runtime) -> list[AuthorityRequest]:
    """Every stored request, oldest first."""
    with session_scope(runtime.engine) as session:
        return list(session.scalars(select(AuthorityRequest).order_by(AuthorityRequest.id)))


def notices(runtime) -> list[tuple[Notification, dict]]:
    """The outbox rows of requests' notices with their unsealed text, oldest first."""
    with session_scope(runtime.engine) as session:
        found = session.scalars(select(Notification).where(Notification.kind == service.NOTICE_KIND)
                                .order_by(Notification.id)).all()
        return [(n, runtime.vault.decrypt_json(n.message_enc)) for n in found]
