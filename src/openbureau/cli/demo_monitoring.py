"""The demo's monitored portfolio: once a lender's monthly file of the last months is in, it registers up to
``SIZE`` of its borrowers for monitoring (the existing-account basis) and a webhook endpoint at a receiver the demo runs on the loopback
address; as the later months and the lending events replay, each file's triggers are delivered (signed, and
verified by the receiver) before the next file arrives, and the demo prints what arrived, by kind.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl

from openbureau.consent.schemas import Subject
from openbureau.documents import id_problem_expr, normalise_id_number
from openbureau.inquiries import access
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.monitoring import service, webhooks
from openbureau.monitoring.delivery import Worker, WorkerSettings
from openbureau.monitoring.schemas import MAX_BULK, SubscriptionCreate
from openbureau.monitoring.signing import DELIVERY_HEADER, HEADER, verify
from openbureau.principals import Principal
from openbureau.runtime import Runtime
from openbureau.sim.writer import ManifestEntry

LENDER = "BANK_A"
SIZE = 500  # borrowers registered: enough to show every kind of trigger, few enough to keep the demo quick
MONTHS = 6  # monitored for the market's last months (its whole history when shorter)


@dataclass
class Receiver:
    """The lender's webhook receiver: a real HTTP server on the loopback address that verifies each
    delivery's signature and keeps (delivery id, type, category, verified) of each request."""

    secret: bytes = b""
    received: list[tuple[str, str, str, bool]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify(self.headers.get(HEADER, ""), body, receiver.secret, now=int(time.time()))
                payload = json.loads(body) if ok else {"type": "?", "data": {"category": "?"}}
                receiver.received.append((self.headers.get(DELIVERY_HEADER, ""), payload["type"],
                                          payload["data"]["category"], ok))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="demo-webhooks", daemon=True).start()
        return self


def portfolio_items(path: Path) -> list[SubscriptionCreate]:
    """Up to ``SIZE`` registrations of the open accounts of ``LENDER``'s monthly file, one per resident ID number,
    skipping numbers that are not well formed (a mistyped number of the file, which the bureau rejected as the
    record's error: the lender registers the customers it knows, not its file's typos)."""
    number = normalise_id_number(pl.col("id_number"))
    rows = (pl.read_csv(path, infer_schema=False)
            .filter((pl.col("id_type") == "CN_RESIDENT_ID") & (pl.col("account_status") == "open"))
            .with_columns(number.alias("id_number"))
            .filter(id_problem_expr(pl.col("id_type"), pl.col("id_number")).is_null())
            .unique("id_number", keep="first", maintain_order=True).head(SIZE))
    return [SubscriptionCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=number), reference=ref)
            for ref, number in rows.select("furnisher_account_id", "id_number").iter_rows()]


class Portfolio:
    """``LENDER``'s monitored portfolio during the replay: pass :meth:`after` to the replay as its ``after``."""

    def __init__(self, runtime: Runtime, *, periods: list[str]) -> None:
        self.runtime = runtime
        self.start = periods[max(0, len(periods) - MONTHS - 1)]  # registered after the lender's file of it
        self.receiver = Receiver().start()
        self.worker = Worker(runtime.engine, vault=runtime.vault, config=WorkerSettings.from_settings(runtime.settings))
        self.stop = threading.Event()  # never set: the demo delivers each file's triggers to the end
        self.registered = 0
        self.refused: Counter = Counter()  # refusals by code
        self.since: str | None = None  # the period of the file after which monitoring began
        self.seconds = 0.0  # spent registering and delivering

    def after(self, entry) -> None:
        """Register the portfolio after the lender's first monthly file; deliver what is due after every file."""
        started = time.perf_counter()
        try:
            self._after(entry)
        finally:
            self.seconds += time.perf_counter() - started

    def _after(self, entry) -> None:
        if self.since is None:
            if isinstance(entry, ManifestEntry) and entry.furnisher == LENDER and entry.period >= self.start:
                self._register(entry.path)
                self.since = entry.period
            return
        self.deliver()

    def deliver(self) -> None:
        """Deliver every due delivery, in order per endpoint and registration."""
        while self.worker.run_once(limit=self.worker.config.concurrency).handled:
            pass

    def _register(self, path: Path) -> None:
        items = portfolio_items(path)
        registrar = service.Registrar(vault=self.runtime.vault, policy=self.runtime.policy, access=access)
        with session_scope(self.runtime.engine, write=True) as session:
            lender = Principal.of_member(get_member(session, code=LENDER))
            self.receiver.secret = webhooks.create_endpoint(
                session, vault=self.runtime.vault, principal=lender, url=self.receiver.url,
                allow_loopback=True).secret.encode()
        for start in range(0, len(items), MAX_BULK):
            with session_scope(self.runtime.engine, write=True) as session:
                lender = Principal.of_member(get_member(session, code=LENDER))
                result = service.register_many(session, registrar=registrar, principal=lender,
                                               items=items[start:start + MAX_BULK])
            self.registered += result.registered
            self.refused.update(o.code for o in result.outcomes if o.outcome == "refused")

    def summary(self) -> list[str]:
        """What the lender's receiver got, as lines to print."""
        started = time.perf_counter()
        self.deliver()
        self.seconds += time.perf_counter() - started
        got = self.receiver.received
        verified = [r for r in got if r[3]]
        kinds = Counter(kind.removeprefix("monitoring.") for _, kind, _, _ in verified)
        categories: dict[str, Counter] = {}
        for _, kind, category, _ in verified:
            categories.setdefault(kind.removeprefix("monitoring."), Counter())[category] += 1
        parts = [f"{kind} {n:,} (" + ", ".join(f"{c} {m:,}" for c, m in categories[kind].most_common(3))
                 + (", ..." if len(categories[kind]) > 3 else "") + ")" for kind, n in kinds.most_common()]
        unique = len({r[0] for r in verified})
        refused = ", ".join(f"{n:,} {code}" for code, n in self.refused.most_common())
        return [f"Monitoring: {LENDER} registered {self.registered:,} borrowers after its {self.since} file, on its "
                f"open accounts in their files (up to {SIZE:,}; refused: {refused or 'none'}); as the later months and lending "
                f"events replayed, {unique:,} triggers reached its webhook at {self.receiver.url} ({len(verified):,} of {len(got):,} requests with a valid signature; "
                f"{self.seconds:.1f} s registering and delivering)",
                "  by kind: " + ("; ".join(parts) if parts else "none")]
