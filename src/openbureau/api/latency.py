"""How long the inquiries take, as the serving processes' latency board (``kit.pacing.LatencyBoard``) needs it:
a long job of the bureau (a load, a consent import, a retention run) that has a latency target reads it to
leave the inquiries the machine they need."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbureau.kit.pacing import LatencyBoard

INQUIRY_PATHS = frozenset({"/v1/inquiries"})


class InquiryLatency:
    """Times each ``POST`` to ``paths`` from the moment the app receives it to the last byte of its answer and
    records it on ``board`` when the inquiry was answered (2xx). Refusals are not timed: an outsider's stream
    of quick 401s would otherwise pull the p99 down and let a load take the machine from the inquiries."""

    def __init__(self, app: ASGIApp, *, board: LatencyBoard, paths: frozenset[str] = INQUIRY_PATHS) -> None:
        self.app, self.board, self.paths = app, board, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 0

        async def timed(message: Message) -> None:
            nonlocal status
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False) \
                    and 200 <= status < 300:
                self.board.record(time.perf_counter() - started)

        await self.app(scope, receive, timed)
