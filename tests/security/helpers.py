"""Helpers of the edge tests: a bureau app with some settings changed, and raw ASGI calls whose body
reading is counted."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from openbureau.api.app import create_app
from openbureau.runtime import Runtime


def with_settings(runtime: Runtime, **changes) -> Runtime:
    """The same bureau with some settings changed."""
    return Runtime(settings=runtime.settings.model_copy(update=changes), engine=runtime.engine, vault=runtime.vault)


def app_with(runtime: Runtime, **changes):
    """An API app of the bureau with some settings changed."""
    return create_app(with_settings(runtime, **changes))


# The start of a well-formed multipart upload of one file; the file's bytes follow.
MULTIPART_HEAD = b'--edge\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'


@dataclass
class Upload:
    """A request body sent in chunks, each after ``pause`` seconds; counts what the app read of it."""

    chunks: int
    chunk: bytes = b"x" * (1 << 20)
    head: bytes = MULTIPART_HEAD
    pause: float = 0.0
    read_bytes: int = 0
    read_calls: int = 0
    sent: list[dict] = field(default_factory=list)

    async def receive(self) -> dict:
        if self.read_calls >= self.chunks:
            await asyncio.sleep(3600)  # the client waits for the answer
        self.read_calls += 1
        if self.pause:
            await asyncio.sleep(self.pause)
        body = self.head + self.chunk if self.read_calls == 1 else self.chunk
        self.read_bytes += len(body)
        return {"type": "http.request", "body": body, "more_body": self.read_calls < self.chunks}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return {k.decode().lower(): v.decode() for k, v in start["headers"]}

    @property
    def body(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))


def call(app, upload: Upload, *, path: str, headers: dict[str, str], method: str = "POST",
         timeout: float = 20.0) -> Upload:
    """Send one request straight to the ASGI app (no server, so nothing reads the body but the app)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("203.0.113.7", 40000), "server": ("testserver", 80), "app": app}

    async def run() -> None:
        await asyncio.wait_for(app(scope, upload.receive, upload.send), timeout)

    asyncio.run(run())
    return upload
