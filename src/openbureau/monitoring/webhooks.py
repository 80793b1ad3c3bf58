"""Rules of a lender's webhook endpoints: register (HTTPS), rotate the secret, delete; the delivery log and
replays. The secret is made by the bureau, sealed at rest and shown once, when made or rotated; a rotation
keeps the old secret signing beside the new one for a grace period, so the lender can switch without a gap.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import Conflict, NotFound, Unprocessable
from openbureau.monitoring.egress import is_loopback_host, is_public
from openbureau.monitoring.errors import (
    DELIVERY_NOT_FOUND,
    DELIVERY_PENDING,
    ENDPOINT_NOT_FOUND,
    ENDPOINT_URL_INVALID,
    TOO_MANY_ENDPOINTS,
)
from openbureau.monitoring.models import DeliveryStatus
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.monitoring.schemas import DeliveryRead, EndpointRead, EndpointSecret
from openbureau.monitoring.signing import new_secret
from openbureau.monitoring.triggers import RETRY_WINDOW
from openbureau.principals import Action, Principal, authorize

MAX_ENDPOINTS = 5
MAX_PAGE = 200


def check_url(url: str, *, allow_loopback: bool) -> str:
    """The URL if a delivery may go there: HTTPS to a public host, or http:// on the loopback address when the
    bureau allows it (tests, development); never a private or link-local address, credentials or a fragment. A
    host name is checked again, by what it resolves to, whenever a delivery connects (``monitoring.egress``)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise Unprocessable("the URL is not well formed", code=ENDPOINT_URL_INVALID, field="url") from None
    if parts.username or parts.password or parts.fragment or not host:
        raise Unprocessable("the URL needs a host, and no credentials or fragment", code=ENDPOINT_URL_INVALID,
                            field="url")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if is_loopback_host(host):
        if not allow_loopback or parts.scheme not in ("http", "https"):
            raise Unprocessable("a loopback endpoint is accepted only in tests and development "
                                "(OPENBUREAU_WEBHOOK_ALLOW_LOOPBACK)", code=ENDPOINT_URL_INVALID, field="url")
        return url
    if parts.scheme != "https":
        raise Unprocessable("an endpoint must use https://", code=ENDPOINT_URL_INVALID, field="url")
    if address is not None and not is_public(address):
        raise Unprocessable("an endpoint must be a public address", code=ENDPOINT_URL_INVALID, field="url")
    return url


def _read(row) -> EndpointRead:
    return EndpointRead(id=row.id, url=row.url, created_at=row.created_at,
                        previous_secret_valid_until=row.previous_valid_until)


def create_endpoint(session: Session, *, vault: PiiVault, principal: Principal, url: str, allow_loopback: bool,
                    now: datetime | None = None) -> EndpointSecret:
    """Register an endpoint and make its secret (shown in the answer, and never again)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    now = now or datetime.now(UTC)
    url = check_url(url, allow_loopback=allow_loopback)
    repo = MonitoringRepository(session.connection())
    if len(repo.endpoints(principal.member_id)) >= MAX_ENDPOINTS:
        raise Conflict(f"at most {MAX_ENDPOINTS} endpoints per member", code=TOO_MANY_ENDPOINTS)
    secret = new_secret()
    endpoint_id = repo.add_endpoint(dict(subscriber_id=principal.member_id, url=url, secret_enc=vault.encrypt(secret),
                                         previous_secret_enc=None, previous_valid_until=None, created_at=now,
                                         deleted_at=None))
    return EndpointSecret(id=endpoint_id, url=url, created_at=now, secret=secret)


def list_endpoints(session: Session, *, principal: Principal) -> list[EndpointRead]:
    """The lender's endpoints (without their secrets)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    return [_read(r) for r in MonitoringRepository(session.connection()).endpoints(principal.member_id)]


def _own_endpoint(repo: MonitoringRepository, principal: Principal, endpoint_id: int):
    row = repo.endpoint(subscriber_id=principal.member_id, endpoint_id=endpoint_id)
    if row is None:
        raise NotFound(f"you have no endpoint {endpoint_id}", code=ENDPOINT_NOT_FOUND, field="endpoint_id")
    return row


def rotate_secret(session: Session, *, vault: PiiVault, principal: Principal, endpoint_id: int, grace_hours: int = 24,
                  now: datetime | None = None) -> EndpointSecret:
    """A new secret for the endpoint; the one it replaces still signs (beside it) for ``grace_hours``."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    now = now or datetime.now(UTC)
    repo = MonitoringRepository(session.connection())
    row = _own_endpoint(repo, principal, endpoint_id)
    secret = new_secret()
    until = now + timedelta(hours=grace_hours) if grace_hours else None
    repo.update_endpoint(row.id, secret_enc=vault.encrypt(secret),
                         previous_secret_enc=row.secret_enc if until else None, previous_valid_until=until)
    return EndpointSecret(id=row.id, url=row.url, created_at=row.created_at, previous_secret_valid_until=until,
                          secret=secret)


def delete_endpoint(session: Session, *, principal: Principal, endpoint_id: int, now: datetime | None = None) -> None:
    """Stop delivering to an endpoint; its pending deliveries are dead (and may be replayed elsewhere later)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    now = now or datetime.now(UTC)
    repo = MonitoringRepository(session.connection())
    row = _own_endpoint(repo, principal, endpoint_id)
    repo.update_endpoint(row.id, deleted_at=now)
    repo.abandon_deliveries(row.id, now=now)


def _delivery(row) -> DeliveryRead:
    return DeliveryRead(id=row.id, delivery_id=row.delivery_id, endpoint_id=row.endpoint_id, trigger_id=row.trigger_id,
                        status=row.status, attempts=row.attempts,
                        next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.PENDING else None,
                        created_at=row.created_at, delivered_at=row.delivered_at,
                        last_status_code=row.last_status_code, last_error=row.last_error)


def list_deliveries(session: Session, *, principal: Principal, status: str | None = None, before_id: int = 0,
                    limit: int = 50) -> list[DeliveryRead]:
    """The lender's delivery log, newest first (``status=dead``: its dead-letter list)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    rows = MonitoringRepository(session.connection()).deliveries(
        subscriber_id=principal.member_id, status=status, after_id=before_id, limit=min(max(limit, 1), MAX_PAGE))
    return [_delivery(r) for r in rows]


def replay(session: Session, *, principal: Principal, delivery_row_id: int, now: datetime | None = None) -> DeliveryRead:
    """Deliver a dead (or delivered) delivery again, under the same delivery id, with a new retry window."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    now = now or datetime.now(UTC)
    repo = MonitoringRepository(session.connection())
    row = repo.delivery(subscriber_id=principal.member_id, row_id=delivery_row_id)
    if row is None:
        raise NotFound(f"you have no delivery {delivery_row_id}", code=DELIVERY_NOT_FOUND, field="delivery_id")
    if row.status == DeliveryStatus.PENDING:
        raise Conflict(f"delivery {delivery_row_id} is still being delivered", code=DELIVERY_PENDING)
    if repo.endpoint(subscriber_id=principal.member_id, endpoint_id=row.endpoint_id) is None:
        raise Conflict("the delivery's endpoint was deleted", code=ENDPOINT_NOT_FOUND)
    repo.requeue(row.id, now=now, retry_until=now + RETRY_WINDOW)
    return _delivery(repo.delivery(subscriber_id=principal.member_id, row_id=row.id))


def attempts_used(session: Session, *, member_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """The member's webhook delivery attempts from ``start`` to ``end`` (exclusive), by outcome (delivered,
    retry, dead)."""
    return MonitoringRepository(session.connection()).attempts_used(subscriber_id=member_id, start=start, end=end)

