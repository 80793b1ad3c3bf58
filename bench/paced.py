"""Requests at a fixed rate, whatever the answers' pace: the latency a client sees when the server is busy.

wrk keeps each connection sending the next request as soon as the last one is answered (a closed loop): when
the server slows, wrk sends less, and its percentiles leave out the requests that would have waited
("coordinated omission"). At full speed it measures capacity, not waiting: with 16 connections the mean
time of an answer is 16 / the rate (Little's law). Here requests leave at the times of a Poisson process of
``rate`` a second, fixed in advance, on as many connections as they need, and each latency runs from the
request's planned departure to its answer; a request that cannot leave on time counts its wait.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from urllib.parse import urlsplit


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _Connections:
    """Keep-alive HTTP/1.1 connections to one server, opened as needed (asyncio streams: a client of its own,
    since httpx's pool spends time quadratic in the requests queued for it, and under a slow server the
    client then fell behind its own plan)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, headers: dict[str, str], body: bytes, timeout: float) -> int:
        if self.idle:  # a kept connection the server may have closed meanwhile (its keep-alive timeout): once again
            try:
                return await self._post(self.idle.pop(), path, headers, body, timeout)
            except (IndexError, asyncio.IncompleteReadError, ConnectionError):
                pass
        return await self._post(await asyncio.open_connection(self.host, self.port), path, headers, body, timeout)

    async def _post(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str,
                    headers: dict[str, str], body: bytes, timeout: float) -> int:
        reader, writer = conn
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                     f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        try:
            status, keep = await asyncio.wait_for(self._answer(reader), timeout)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append(conn)
        else:
            writer.close()
        return status

    @staticmethod
    async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
        status = int((await reader.readline()).split()[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep = False
        await reader.readexactly(length)
        return status, keep


async def _run(url: str, *, body: Callable[[random.Random], dict], headers: dict[str, str], rate: float,
               seconds: float, seed: int, timeout: float) -> dict:
    target = urlsplit(url)
    connections = _Connections(target.hostname, target.port or 80)
    rng = random.Random(seed)
    planned, at = [], 0.0
    while True:
        at += rng.expovariate(rate)
        if at >= seconds:
            break
        planned.append((at, json.dumps(body(rng)).encode()))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    start = time.perf_counter()

    async def one(departure: float, payload: bytes) -> None:
        await asyncio.sleep(max(0.0, start + departure - time.perf_counter()))
        try:
            status = await connections.post(target.path, headers, payload, timeout)
            if status != 200 and status != 201:
                errors[str(status)] = errors.get(str(status), 0) + 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        latencies.append((time.perf_counter() - start - departure) * 1000)

    await asyncio.gather(*(one(d, payload) for d, payload in planned))
    elapsed = time.perf_counter() - start
    for _, writer in connections.idle:
        writer.close()
    return {"rate": rate, "requests": len(planned), "answered_per_s": len(latencies) / elapsed,
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
            "p999": percentile(latencies, 0.999), "max": max(latencies), "errors": sum(errors.values()),
            "errors_by_kind": errors, "connections_kept": len(connections.idle)}


def paced(url: str, *, body: Callable[[random.Random], dict], headers: dict[str, str], rate: float,
          seconds: float, seed: int = 0, timeout: float = 10.0) -> dict:
    """POST ``body(rng)`` to ``url`` at ``rate`` requests a second (Poisson arrivals) for ``seconds``: p50, p99,
    p99.9 and max in ms from each planned departure, and the errors (answers other than 200 and 201, failed
    requests)."""
    return asyncio.run(_run(url, body=body, headers=headers, rate=rate, seconds=seconds, seed=seed,
                            timeout=timeout))
