"""Micro-benchmark of the inquiry hot path's writes and of the PII vault's hot paths.

1. Inquiry log: ``--inquiries`` inquiries, each with its audit entry, submitted ``--concurrency`` at a time
   to the group committer on one event loop (as the API does), on a fresh SQLite bureau; prints the cost
   per inquiry and the batches committed. Run it on two checkouts to compare (PYTHONPATH=<checkout>/src).
2. Vault: ``encrypt_many``, ``blind_indexes`` and ``decrypt`` per value.

    .venv/bin/python bench/audit_log.py --inquiries 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from openbureau.audit.service import AuditNote
from openbureau.inquiries.log import GroupCommitLog, LogEntry
from openbureau.kit.crypto import PiiKeys, PiiVault
from openbureau.kit.settings import Settings
from openbureau.runtime import open_runtime

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def inquiry_log(n: int, concurrency: int) -> tuple[float, float, float, int]:
    """Seconds per inquiry: wall clock, CPU of the event loop's thread, CPU of the process; batches committed.

    The loop thread's CPU is what a request waits for when the loop is busy; wall clock includes the fsyncs
    and whatever else the machine runs.
    """
    with tempfile.TemporaryDirectory() as folder:
        runtime = open_runtime(Settings(data_dir=Path(folder), database_url=None))
        log = GroupCommitLog(runtime.engine)
        note = AuditNote(1, "BANK_A", "inquiry.read", 1, "loan_origination", {"consent_ref": "C-1"})

        async def one(i: int) -> int:
            return await log.write_async(LogEntry(values=dict(
                subscriber_id=None, person_id=i, purpose="self_inquiry", hard=0, basis="self",
                actor_code="OPERATOR:bench", created_at=NOW), audit=note))

        async def run() -> tuple[float, float, float]:
            for _ in range(n // concurrency // 10):  # warm up
                await asyncio.gather(*(one(i) for i in range(concurrency)))
            start, loop_cpu, cpu = time.perf_counter(), time.thread_time(), time.process_time()
            for _ in range(n // concurrency):
                await asyncio.gather(*(one(i) for i in range(concurrency)))
            elapsed = (time.perf_counter() - start, time.thread_time() - loop_cpu, time.process_time() - cpu)
            await log.stop()
            return elapsed

        wall, loop_cpu, cpu = asyncio.run(run())
        getattr(runtime, "audit", None) and runtime.audit.close()  # its last checkpoint, before the folder goes
        runtime.engine.dispose()
        return wall / n, loop_cpu / n, cpu / n, log.committer.batches


def vault_paths(n: int) -> dict[str, float]:
    """Microseconds per value of the vault's hot paths."""
    vault = PiiVault(PiiKeys(os.urandom(32), os.urandom(32)))
    values = [f"1101051949123{i:05d}" for i in range(n)]
    out = {}
    start = time.perf_counter()
    tokens = vault.encrypt_many(values)
    out["encrypt_many"] = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    vault.blind_indexes(values, domain="CN_RESIDENT_ID")
    out["blind_indexes"] = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for token in tokens:
        vault.decrypt(token)
    out["decrypt"] = (time.perf_counter() - start) / n * 1e6
    return out


def main() -> None:
    """Run both benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    costs = [inquiry_log(args.inquiries, args.concurrency) for _ in range(args.repeat)]
    for i, name in enumerate(("wall clock", "event-loop thread CPU", "process CPU")):
        print(f"inquiry log, {name}: {min(c[i] for c in costs) * 1e6:.1f} us per inquiry (best of "
              f"{args.repeat}; all: {', '.join(f'{c[i] * 1e6:.1f}' for c in costs)})")
    print(f"batches committed: {costs[0][3]}")
    runs = [vault_paths(args.values) for _ in range(args.repeat)]
    for name in runs[0]:
        print(f"vault {name}: {min(r[name] for r in runs):.2f} us per value")


if __name__ == "__main__":
    main()
