"""The webhook worker: lease due deliveries, post them signed, record the attempts, retry with backoff.

At least once, in order per endpoint and registration: a worker leases the first pending delivery of each
endpoint and registration (its ``next_attempt_at`` pushed past the lease) in a short transaction, posts them on
a pool of threads outside any transaction, and records the attempts that have ended, together, in one more
transaction, which also leases what is due next (the deliveries after those just delivered among them): a
group commit, so a busy endpoint costs about one transaction per batch of answers rather than two per
delivery. A worker killed between the two leaves its deliveries to be taken again when the lease ends, under
the same ``OpenBureau-Delivery-Id``, which the receiver uses to drop a duplicate. A failure (no answer within
the timeout, a network error, any answer but 2xx) is retried after an exponential backoff with full jitter
(``uniform(0, min(cap, base * 2^n))``) until the delivery's retry window (25 hours, renewed by a replay) is
over; then the delivery is dead, listed for the lender to replay. An endpoint has at most ``per_endpoint``
deliveries of a worker in flight, fewer than the pool's threads, so a slow receiver holds some of them for
the timeout at most and never the other endpoints' deliveries. Every delivery is audited: it tells a lender
something about a person.

The database is the queue and the record of truth; a worker looks for due deliveries every ``poll`` seconds,
and at once when woken (:mod:`openbureau.monitoring.wakeup`: a trigger committed in this process, or a wake
through Redis from another).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, Row
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.audit.service import AuditNote
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.monitoring import egress, wakeup
from openbureau.monitoring.models import DeliveryStatus
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.monitoring.signing import DELIVERY_HEADER, EVENT_HEADER, HEADER, signature_header

log = logging.getLogger(__name__)
WORKER_CODE = "WEBHOOKS"  # the actor code of deliveries in the audit log
MAX_BACKOFF = timedelta(hours=1)
USER_AGENT = "OpenBureau-Webhooks/1"
LINGER = 0.01  # seconds a worker waits for more posts to end before recording those that have


def payload(row: Row) -> bytes:
    """The body of a leased delivery's trigger (its ``t_`` columns): the same bytes on every attempt (the
    signature covers them)."""
    return json.dumps({
        "id": f"trg_{row.t_id}", "type": f"monitoring.{row.t_kind}",
        "created_at": row.t_created_at.astimezone(UTC).isoformat(),
        "data": {"reference": row.t_reference, "category": row.t_category,
                 "occurred_at": row.t_occurred_at.astimezone(UTC).isoformat()},
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
    deadline: float | None = None  # an attempt's total (None: twice the timeout)
    concurrency: int = 64
    per_endpoint: int = 32
    lease: timedelta = timedelta(seconds=60)
    retry_base: float = 30.0

    @property
    def total(self) -> float:
        """The longest one attempt may take, in all."""
        return self.deadline if self.deadline is not None else self.timeout * 2

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerSettings:
        """The worker settings of a bureau."""
        return cls(timeout=settings.webhook_timeout_seconds, deadline=settings.webhook_deadline_seconds,
                   concurrency=settings.webhook_concurrency,
                   per_endpoint=settings.webhook_endpoint_concurrency,
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

    def count(self, results: list[str | None]) -> None:
        """Add attempts' outcomes (None: the endpoint was gone, nothing attempted)."""
        for result in results:
            self.delivered += result == "delivered"
            self.retried += result == "retry"
            self.dead += result == "dead"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One post of a leased delivery, not recorded yet (``gone``: its endpoint was deleted, nothing sent)."""

    row: Row
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    gone: bool = False


class Worker:
    """Delivers due webhooks of one bureau; :meth:`run_once` for one pass, :meth:`run` as a loop."""

    def __init__(self, engine: Engine, *, vault: PiiVault, config: WorkerSettings,
                 transport: httpx.BaseTransport | None = None, rng: random.Random | None = None) -> None:
        if config.lease.total_seconds() <= max(config.timeout * 2, config.total):
            raise ValueError("the lease must outlast a delivery's timeout (twice over) and its deadline, or a "
                             "delivery still in flight could be taken by another worker")
        self.engine, self.vault, self.config = engine, vault, config
        # An endpoint never takes every thread (unless the pool has one): a slow receiver holds only its own.
        self.per_endpoint = max(1, min(config.per_endpoint, config.concurrency - 1))
        self.rng = rng or random.SystemRandom()
        # Keep-alive: one pool of connections per worker, reused from delivery to delivery.
        # Each connection goes to a checked public address (monitoring.egress); no proxy from the environment.
        limits = httpx.Limits(max_connections=config.concurrency * 2, max_keepalive_connections=config.concurrency * 2)
        self.client = httpx.Client(timeout=httpx.Timeout(config.timeout), follow_redirects=False, trust_env=False,
                                   transport=transport or egress.transport(limits=limits),
                                   headers={"User-Agent": USER_AGENT}, limits=limits)
        self.lock = threading.Lock()
        self.woken = threading.Event()

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    # Leasing and recording
    def _pick(self, repo: MonitoringRepository, *, now: datetime, free: int, busy: Counter) -> list[int]:
        """Ids of up to ``free`` due deliveries, at most ``per_endpoint`` of an endpoint counting those of it
        in flight (``busy``)."""
        heads = repo.due_heads(now=now, limit=free + sum(busy.values()), per_endpoint=self.per_endpoint)
        chosen, taking = [], Counter()
        for head in heads:
            if len(chosen) == free:
                break
            if busy[head.endpoint_id] + taking[head.endpoint_id] < self.per_endpoint:
                taking[head.endpoint_id] += 1
                chosen.append(head.id)
        return chosen

    def _record(self, session: Session, repo: MonitoringRepository, done: list[Attempt]) -> list[str | None]:
        """Record ended attempts and their audit entries in the caller's transaction; their outcomes."""
        results: list[str | None] = []
        rows, notes = [], []
        for a in done:
            if a.gone:
                results.append(None)
                continue
            row, attempt = a.row, a.row.attempts + 1
            error = a.error
            if a.status_code is not None and 200 <= a.status_code < 300:
                result, status, next_at = "delivered", DeliveryStatus.DELIVERED, a.at
            else:
                error = error or f"the endpoint answered {a.status_code}"
                with self.lock:
                    pause = backoff(attempt, base=self.config.retry_base, rng=self.rng)
                dead = a.at + pause > row.retry_until
                result = "dead" if dead else "retry"
                status, next_at = (DeliveryStatus.DEAD, a.at) if dead else (DeliveryStatus.PENDING, a.at + pause)
            results.append(result)
            rows.append(dict(row_id=row.id, attempt=attempt, at=a.at, status_code=a.status_code,
                             duration_ms=a.duration_ms, outcome=result, error=error, status=status,
                             next_attempt_at=next_at))
            notes.append(AuditNote(None, WORKER_CODE, "webhook.deliver", row.t_person_id, "account_review",
                                   {"delivery": row.id, "trigger": row.t_id, "subscriber": row.subscriber_id,
                                    "attempt": attempt, "outcome": result}))
        repo.record_attempts(rows)
        if notes:
            audit.record_many(session, notes)
        return results

    def step(self, done: list[Attempt], *, free: int, busy: Counter | None = None,
             now: datetime | None = None) -> tuple[list[str | None], list[Row]]:
        """Record ``done`` and lease up to ``free`` due deliveries, in one write transaction (none when there is
        nothing to record and nothing due: the look is a read); the outcomes recorded and the rows leased."""
        busy = busy if busy is not None else Counter()
        chosen: list[int] = []
        if not done:
            if free <= 0:
                return [], []
            at = now or datetime.now(UTC)
            with session_scope(self.engine, read_only=True) as session:
                chosen = self._pick(MonitoringRepository(session.connection()), now=at, free=free, busy=busy)
            if not chosen:
                return [], []
        with session_scope(self.engine, write=True) as session:
            repo = MonitoringRepository(session.connection())
            results = self._record(session, repo, done)
            at = now or datetime.now(UTC)
            if done and free > 0:
                chosen = self._pick(repo, now=at, free=free, busy=busy)
            leased = list(repo.lease(chosen, now=at, lease_until=at + self.config.lease))
        return results, leased

    def claim(self, *, now: datetime, limit: int) -> list[Row]:
        """Lease up to ``limit`` due deliveries (the first pending one of each endpoint and registration)."""
        return self.step([], free=limit, now=now)[1]

    # Posting
    def post(self, row: Row, *, now: datetime | None = None) -> Attempt:
        """Post one leased delivery, signed, outside any transaction; the attempt, to record."""
        at = now or datetime.now(UTC)
        if row.e_deleted_at is not None:
            return Attempt(row, at, gone=True)
        secrets = [self.vault.decrypt(row.e_secret_enc).encode()]
        if row.e_previous_secret_enc is not None and row.e_previous_valid_until and row.e_previous_valid_until > at:
            secrets.append(self.vault.decrypt(row.e_previous_secret_enc).encode())
        body = payload(row)
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: row.delivery_id,
                   EVENT_HEADER: f"monitoring.{row.t_kind}",
                   HEADER: signature_header(secrets, timestamp=int(time.time()), body=body)}
        started = time.monotonic()
        status_code, error = None, None
        try:
            with egress.deadline(self.config.total):
                status_code = self._send(row.e_url, body, headers)
        except httpx.TimeoutException as exc:
            error = (f"{egress.OVERDUE} ({self.config.total:g} s)" if str(exc).startswith(egress.OVERDUE)
                     else f"no answer within {self.config.timeout:g} s ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            refused = str(exc).startswith(egress.REFUSED)  # a host resolving to a private address: say so
            error = str(exc) if refused else f"could not reach the endpoint ({type(exc).__name__})"
        return Attempt(row, at, status_code, error, int((time.monotonic() - started) * 1000))

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body`` and return the answer's status (its body is never read). A connection that the receiver
        closed under the request (a kept-alive connection it had just dropped: ``ReadError``, ``WriteError``,
        ``RemoteProtocolError``) is tried once more at once on a fresh one, as HTTP clients do: the delivery
        id makes a repeat harmless, and waiting for the backoff would hold the registration's later triggers."""
        try:
            return self._post(url, body, headers)
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            return self._post(url, body, headers)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """One POST; the answer's status."""
        with self.client.stream("POST", url, content=body, headers=headers) as answer:
            return answer.status_code

    # Running
    def run_once(self, *, now: datetime | None = None, limit: int = 100) -> Outcome:
        """Lease what is due at ``now`` and deliver it in parallel; record every attempt (one transaction)."""
        outcome = Outcome()
        due = self.claim(now=now or datetime.now(UTC), limit=limit)
        if not due:
            return outcome
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            done = list(pool.map(lambda row: self.post(row, now=now), due))
        outcome.count(self.step(done, free=0)[0])
        return outcome

    def run(self, stop: threading.Event, *, poll: float = 0.5) -> Outcome:
        """Deliver until ``stop`` is set: a delivery starts as soon as a thread is free and one is due. The worker
        looks when deliveries end (their attempts recorded and the next ones leased in one transaction), when
        woken, and else every ``poll`` seconds. On ``stop`` it lets the posts in flight end and records them."""
        outcome = Outcome()
        in_flight: dict[Future, int] = {}
        ended: list[Attempt] = []
        next_look = 0.0
        wakeup.listen(self.woken)
        try:
            with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
                while not stop.is_set():
                    ended += self._collect(in_flight)
                    if ended and in_flight:  # the others in flight may end in a moment: record them together
                        wait(list(in_flight), timeout=LINGER)
                        ended += self._collect(in_flight)
                    if ended or self.woken.is_set() or time.monotonic() >= next_look:
                        self.woken.clear()
                        busy = Counter(in_flight.values())
                        try:
                            results, leased = self.step(ended, free=self.config.concurrency - len(in_flight),
                                                        busy=busy)
                        except Exception:  # noqa: BLE001 - a busy or restarting database: look again after the poll
                            log.warning("webhooks: the database could not be reached; trying again", exc_info=True)
                            results, leased = [], []
                        else:
                            ended = []
                        outcome.count(results)
                        for row in leased:
                            in_flight[pool.submit(self.post, row)] = row.endpoint_id
                        next_look = 0.0 if leased else time.monotonic() + poll
                        if leased:
                            continue
                    pause = max(0.0, min(next_look - time.monotonic(), 0.1))
                    if in_flight:
                        wait(list(in_flight), timeout=pause, return_when=FIRST_COMPLETED)
                    else:
                        self.woken.wait(pause)
                if in_flight:
                    wait(list(in_flight))
                ended += self._collect(in_flight)
            if ended:
                outcome.count(self.step(ended, free=0)[0])
        finally:
            wakeup.forget(self.woken)
        return outcome

    @staticmethod
    def _collect(in_flight: dict[Future, int]) -> list[Attempt]:
        """The attempts of the posts that have ended, taken out of ``in_flight`` (a post that failed unexpectedly
        is not recorded: its lease ends and it is taken again)."""
        ended = []
        for future in [f for f in in_flight if f.done()]:
            del in_flight[future]
            if future.exception() is not None:
                log.error("webhooks: a delivery failed unexpectedly", exc_info=future.exception())
            else:
                ended.append(future.result())
        return ended


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
