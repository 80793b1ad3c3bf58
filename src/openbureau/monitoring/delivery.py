"""The webhook worker: claim due deliveries, post them signed, record each attempt, retry with backoff.

At least once, in order per endpoint: a worker leases the first pending delivery of each endpoint (its
``next_attempt_at`` pushed past the lease) in a short transaction, posts it outside any transaction, and
records the attempt in another, which also leases the endpoint's next delivery when it is due (so a busy
endpoint's queue drains at its receiver's pace, two transactions a delivery). A worker killed between the two leaves the delivery to be taken again when
the lease ends, under the same ``OpenBureau-Delivery-Id``, which the receiver uses to drop a duplicate.
A failure (no answer within the timeout, a network error, any answer but 2xx) is retried after an
exponential backoff with full jitter (``uniform(0, min(cap, base * 2^n))``) until the delivery's retry
window (25 hours, renewed by a replay) is over; then the delivery is dead, listed for the lender to replay.
Each endpoint has at most one delivery in flight, so a slow receiver holds one of the worker's threads for
the timeout at most and never the others' deliveries. Every delivery is audited: it tells a lender
something about a person.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, Row

from openbureau.audit import service as audit
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.monitoring.models import DeliveryStatus
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.monitoring.signing import DELIVERY_HEADER, EVENT_HEADER, HEADER, signature_header

WORKER_CODE = "WEBHOOKS"  # the actor code of deliveries in the audit log
MAX_BACKOFF = timedelta(hours=1)
USER_AGENT = "OpenBureau-Webhooks/1"


def payload(trigger: Row) -> bytes:
    """The body of a trigger's delivery: the same bytes on every attempt (the signature covers them)."""
    return json.dumps({
        "id": f"trg_{trigger.id}", "type": f"monitoring.{trigger.kind}",
        "created_at": trigger.created_at.astimezone(UTC).isoformat(),
        "data": {"reference": trigger.reference, "category": trigger.category,
                 "occurred_at": trigger.occurred_at.astimezone(UTC).isoformat()},
    }, separators=(",", ":"), sort_keys=True).encode()


def backoff(attempt: int, *, base: float, rng: random.Random) -> timedelta:
    """The wait after failed attempt ``attempt`` (1, 2, ...): full jitter over ``base * 2^(attempt-1)``, at most an
    hour, and at least a second."""
    ceiling = min(base * 2 ** min(attempt - 1, 30), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=max(1.0, rng.uniform(0, ceiling)))


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker delivers (from the bureau's settings)."""

    timeout: float = 10.0
    concurrency: int = 16
    lease: timedelta = timedelta(seconds=60)
    retry_base: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerSettings:
        """The worker settings of a bureau."""
        return cls(timeout=settings.webhook_timeout_seconds, concurrency=settings.webhook_concurrency,
                   lease=timedelta(seconds=settings.webhook_lease_seconds), retry_base=settings.webhook_retry_seconds)


@dataclass(slots=True)
class Outcome:
    """What a run did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        """Deliveries attempted."""
        return self.delivered + self.retried + self.dead


class Worker:
    """Delivers due webhooks of one bureau; :meth:`run_once` for one pass, :meth:`run` as a loop."""

    def __init__(self, engine: Engine, *, vault: PiiVault, config: WorkerSettings,
                 transport: httpx.BaseTransport | None = None, rng: random.Random | None = None) -> None:
        if config.lease.total_seconds() <= config.timeout * 2:
            raise ValueError("the lease must outlast a delivery's timeout (twice over), or a delivery still in "
                             "flight could be taken by another worker")
        self.engine, self.vault, self.config = engine, vault, config
        self.rng = rng or random.SystemRandom()
        self.client = httpx.Client(timeout=httpx.Timeout(config.timeout), transport=transport, follow_redirects=False,
                                   headers={"User-Agent": USER_AGENT},
                                   limits=httpx.Limits(max_connections=config.concurrency * 2))
        self.lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def claim(self, *, now: datetime, limit: int) -> list[Row]:
        """Lease up to ``limit`` due deliveries (the first pending one of each endpoint)."""
        with session_scope(self.engine, write=True) as session:
            return list(MonitoringRepository(session.connection()).claim_due(
                now=now, limit=limit, lease_until=now + self.config.lease))

    def run_once(self, *, now: datetime | None = None, limit: int = 100) -> Outcome:
        """Claim what is due at ``now`` and deliver it, the endpoints in parallel; wait for every one."""
        outcome = Outcome()
        due = self.claim(now=now or datetime.now(UTC), limit=limit)
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            for future in [pool.submit(self.deliver, row, now=now) for row in due]:
                self._count(outcome, future.result())
        return outcome

    def run(self, stop: threading.Event, *, poll: float = 0.5) -> Outcome:
        """Deliver until ``stop`` is set: a delivery starts as soon as a thread is free and one is due; the loop
        looks again at once when a delivery ends (its endpoint's next one may be waiting), else every ``poll``."""
        outcome = Outcome()
        in_flight: set[Future] = set()
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            while not stop.is_set():
                for future in [f for f in in_flight if f.done()]:
                    in_flight.discard(future)
                    self._count(outcome, future)
                free = self.config.concurrency - len(in_flight)
                try:
                    due = self.claim(now=datetime.now(UTC), limit=free) if free else []
                except Exception:  # noqa: BLE001 - a busy or restarting database: try again after the poll
                    due = []
                in_flight.update(pool.submit(self.deliver_in_turn, row, stop) for row in due)
                if due:
                    continue
                if in_flight:  # an endpoint's next delivery is due once its current one ends: look again then
                    wait(in_flight, timeout=poll, return_when=FIRST_COMPLETED)
                else:
                    stop.wait(poll)
            for future in in_flight:
                future.exception()
                self._count(outcome, future)
        return outcome

    @staticmethod
    def _count(outcome: Outcome, future_or_result) -> None:
        if isinstance(future_or_result, Future):
            if future_or_result.exception() is not None:  # not recorded: its lease ends and it is taken again
                return
            future_or_result = future_or_result.result()
        for result in future_or_result if isinstance(future_or_result, list) else [future_or_result]:
            outcome.delivered += result == "delivered"
            outcome.retried += result == "retry"
            outcome.dead += result == "dead"

    def deliver(self, row: Row, *, now: datetime | None = None) -> str | None:
        """Post one claimed delivery and record the attempt; its outcome (None: the endpoint is gone)."""
        return self._attempt(row, now=now, follow=False)[0]

    def deliver_in_turn(self, row: Row, stop: threading.Event) -> list[str | None]:
        """Deliver a claimed delivery, then its endpoint's next ones while each is due and the one before it was
        delivered: the transaction that records a delivery claims the next, so an endpoint's queue drains at the
        pace of its receiver, not of the worker's looks. Stops following when ``stop`` is set."""
        results: list[str | None] = []
        content = None
        while row is not None:
            result, row, content = self._attempt(row, now=None, follow=not stop.is_set(), content=content)
            results.append(result)
        return results

    def _attempt(self, row: Row, *, now: datetime | None, follow: bool,
                 content: tuple[Row, Row] | None = None) -> tuple[str | None, Row | None, tuple[Row, Row] | None]:
        """One attempt at ``row`` (its trigger and endpoint read unless given); when it was delivered and
        ``follow``, the endpoint's next due delivery, leased, with its trigger and endpoint."""
        if content is None:
            with session_scope(self.engine, read_only=True) as session:
                content = MonitoringRepository(session.connection()).delivery_content(row.trigger_id, row.endpoint_id)
        trigger, endpoint = content
        at = now or datetime.now(UTC)
        if endpoint.deleted_at is not None:
            return None, None, None
        secrets = [self.vault.decrypt(endpoint.secret_enc).encode()]
        if endpoint.previous_secret_enc is not None and endpoint.previous_valid_until and endpoint.previous_valid_until > at:
            secrets.append(self.vault.decrypt(endpoint.previous_secret_enc).encode())
        body = payload(trigger)
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: row.delivery_id,
                   EVENT_HEADER: f"monitoring.{trigger.kind}",
                   HEADER: signature_header(secrets, timestamp=int(time.time()), body=body)}
        started = time.monotonic()
        status_code, error = None, None
        try:
            with self.client.stream("POST", endpoint.url, content=body, headers=headers) as answer:
                status_code = answer.status_code  # the body is never read: a receiver's answer is its status
        except httpx.TimeoutException as exc:
            error = f"no answer within {self.config.timeout:g} s ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            error = f"could not reach the endpoint ({type(exc).__name__})"
        duration_ms = int((time.monotonic() - started) * 1000)
        attempt = row.attempts + 1
        if status_code is not None and 200 <= status_code < 300:
            result, status, next_at = "delivered", DeliveryStatus.DELIVERED, at
        else:
            error = error or f"the endpoint answered {status_code}"
            with self.lock:
                wait = backoff(attempt, base=self.config.retry_base, rng=self.rng)
            dead = at + wait > row.retry_until
            result = "dead" if dead else "retry"
            status, next_at = (DeliveryStatus.DEAD, at) if dead else (DeliveryStatus.PENDING, at + wait)
        following, following_content = None, None
        with session_scope(self.engine, write=True) as session:
            repo = MonitoringRepository(session.connection())
            repo.record_attempt(
                row_id=row.id, attempt=attempt, at=at, status_code=status_code, duration_ms=duration_ms,
                outcome=result, error=error, status=status, next_attempt_at=next_at)
            audit.record(session, actor_member_id=None, actor_code=WORKER_CODE, action="webhook.deliver",
                         person_id=trigger.person_id, purpose="account_review",
                         details={"delivery": row.id, "trigger": trigger.id, "subscriber": row.subscriber_id,
                                  "attempt": attempt, "outcome": result})
            if follow and result == "delivered":
                moment = datetime.now(UTC)
                following = repo.claim_next(endpoint_id=row.endpoint_id, now=moment,
                                            lease_until=moment + self.config.lease)
                if following is not None:
                    following_content = repo.delivery_content(following.trigger_id, following.endpoint_id)
        return result, following, following_content


def in_background(engine: Engine, *, vault: PiiVault, config: WorkerSettings) -> tuple[threading.Event, threading.Thread]:
    """Run a worker in a daemon thread (``openbureau serve`` on the embedded default); set the event to stop it."""
    stop = threading.Event()

    def work() -> None:
        worker = Worker(engine, vault=vault, config=config)
        try:
            worker.run(stop)
        finally:
            worker.close()

    thread = threading.Thread(target=work, name="webhooks", daemon=True)
    thread.start()
    return stop, thread
