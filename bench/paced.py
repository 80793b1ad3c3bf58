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
import random
import time
from collections.abc import Callable


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(url: str, *, body: Callable[[random.Random], dict], headers: dict[str, str], rate: float,
               seconds: float, seed: int, timeout: float) -> dict:
    import httpx

    rng = random.Random(seed)
    planned, at = [], 0.0
    while True:
        at += rng.expovariate(rate)
        if at >= seconds:
            break
        planned.append(at)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(headers=headers, timeout=timeout, limits=limits) as client:
        start = time.perf_counter()

        async def one(departure: float, payload: dict) -> None:
            await asyncio.sleep(max(0.0, start + departure - time.perf_counter()))
            try:
                answer = await client.post(url, json=payload)
                if answer.status_code != 200:
                    errors[str(answer.status_code)] = errors.get(str(answer.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            latencies.append((time.perf_counter() - start - departure) * 1000)

        await asyncio.gather(*(one(d, body(rng)) for d in planned))
        elapsed = time.perf_counter() - start
    return {"rate": rate, "requests": len(planned), "answered_per_s": len(latencies) / elapsed,
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
            "p999": percentile(latencies, 0.999), "max": max(latencies), "errors": sum(errors.values()),
            "errors_by_kind": errors}


def paced(url: str, *, body: Callable[[random.Random], dict], headers: dict[str, str], rate: float,
          seconds: float, seed: int = 0, timeout: float = 10.0) -> dict:
    """POST ``body(rng)`` to ``url`` at ``rate`` requests a second (Poisson arrivals) for ``seconds``: p50, p99,
    p99.9 and max in ms from each planned departure, and the errors (non-200 answers, failed requests)."""
    return asyncio.run(_run(url, body=body, headers=headers, rate=rate, seconds=seconds, seed=seed,
                            timeout=timeout))
