"""Batch inquiry benchmark: rows/s of a batch job against online inquiries/s, measured in the same run on the
same bureau (issue 18, Measured).

Steps:
1. Build (or reuse) a bureau of ``--persons`` simulated persons with ``bench/report_api.py``'s ``build``: the
   market replayed through intake, and the lender LENDER_X holding a consent for loan origination of every
   person (``LX-Q<n>``).
2. Online: ``-n`` inquiries ``POST /v1/inquiries`` through the whole ASGI app in this process (edge, routing,
   the inquiry service, the group-committed log and its audit entries), ``--concurrency`` in flight, as
   ``bench/inquiry_profile.py`` drives it (no socket: the serving process's own work).
3. Batch: the same kind of rows (random persons, their consent, a declared income) in one CSV file of ``-n``
   rows, submitted as LENDER_X (sealed, scanned), then answered by one worker in this process, chunk by
   chunk (``OPENBUREAU_BATCH_CHUNK_ROWS``), each chunk committed with its inquiries and audit entries.
4. Check that every row was answered and logged: the inquiries table grew by exactly the rows answered.

It prints inquiries/s online, rows/s in batch (submission and answering apart), and their ratio.

    .venv/bin/python bench/batch.py --persons 2000 -n 1000          # a quick smoke run
    .venv/bin/python bench/batch.py --persons 100000 -n 20000       # a measurement (takes the machine)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inquiry_profile import _bodies, _drive, _settings  # noqa: E402
from bench.report_api import SUBSCRIBER, build, log  # noqa: E402


def _inquiries(runtime) -> int:
    from sqlalchemy import func, select

    from openbureau.inquiries.models import Inquiry
    from openbureau.kit.db import session_scope

    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(Inquiry))


async def _online(settings, key: bytes, bodies: list[bytes], concurrency: int) -> float:
    """Seconds for the inquiries of ``bodies`` through the app (after a warm-up of a tenth of them)."""
    from openbureau.api.app import create_app

    app = create_app(settings=settings)
    async with app.router.lifespan_context(app):
        await _drive(app, key, bodies[: max(len(bodies) // 10, 1)], concurrency)
        started = time.perf_counter()
        statuses = await _drive(app, key, bodies, concurrency)
        seconds = time.perf_counter() - started
    if any(s != 201 for s in statuses):
        raise SystemExit(f"{sum(s != 201 for s in statuses)} online inquiries were not answered 201")
    return seconds


def _batch_file(data: Path, out: Path, count: int, seed: int) -> Path:
    ids = (data / "ids.txt").read_text().split()
    draw = random.Random(seed)
    lines = ["reference,id_type,id_number,purpose,consent_ref,declared_monthly_income"]
    for row in range(count):
        n = draw.randrange(len(ids))
        lines.append(f"ROW-{row},CN_RESIDENT_ID,{ids[n]},loan_origination,LX-Q{n},800000")
    out.write_text("\n".join(lines) + "\n")
    return out


def _batch(settings, path: Path) -> tuple[float, float, int]:
    """(seconds to submit, seconds to answer, rows answered) of one batch job of the file at ``path``."""
    from openbureau.batches import service
    from openbureau.batches.worker import Worker
    from openbureau.intake.files import seal_file
    from openbureau.kit.db import session_scope
    from openbureau.members.service import get_member
    from openbureau.principals import Principal
    from openbureau.runtime import open_runtime

    runtime = open_runtime(settings)
    with session_scope(runtime.engine) as session:
        lender = Principal.of_member(get_member(session, code=SUBSCRIBER))
    before = _inquiries(runtime)
    started = time.perf_counter()
    with path.open("rb") as source:
        sealed = seal_file(settings, source, max_bytes=settings.batch_max_bytes)
    job = service.submit(runtime.engine, settings=settings, principal=lender, sealed=sealed, file_format="csv")
    submitted = time.perf_counter()
    outcome = Worker(runtime.engine, settings=settings, vault=runtime.vault, policy=runtime.policy).run_once()
    answered = time.perf_counter()
    with session_scope(runtime.engine) as session:
        read = service.get_batch(session, principal=lender, batch_id=job.id)
    logged = _inquiries(runtime) - before
    if read.status != "done" or read.rows_answered != read.rows_total or logged != read.rows_answered:
        raise SystemExit(f"batch {read.status}: {read.rows_answered:,} of {read.rows_total:,} answered, "
                         f"{logged:,} logged, {outcome.rows:,} rows run")
    return submitted - started, answered - submitted, read.rows_answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("-n", type=int, default=1000, help="inquiries online, and rows in the batch")
    parser.add_argument("--concurrency", type=int, default=16, help="online inquiries in flight")
    parser.add_argument("--chunk-rows", type=int, default=1000, help="rows per committed chunk of the batch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="where the bureau is built (default bench/out/...)")
    args = parser.parse_args()
    data = args.data or ROOT / "bench" / "out" / f"batch-{args.persons}"
    data.mkdir(parents=True, exist_ok=True)
    built = build(args.engine, data=data, persons=args.persons, months=args.months, seed=args.seed)
    settings = _settings(data, args.engine, args.persons).model_copy(update={"batch_chunk_rows": args.chunk_rows})
    key = built["keys"][SUBSCRIBER].encode()
    log(f"{args.engine}: {args.n:,} online inquiries, {args.concurrency} in flight")
    online = asyncio.run(_online(settings, key, _bodies(data, args.n, args.seed), args.concurrency))
    log(f"{args.engine}: a batch of {args.n:,} rows, chunks of {args.chunk_rows:,}")
    submit, answer, rows = _batch(settings, _batch_file(data, data / "batch.csv", args.n, args.seed + 1))
    result = {"engine": args.engine, "persons": args.persons, "n": args.n,
              "online_inquiries_per_s": round(args.n / online, 1), "batch_rows_per_s": round(rows / answer, 1),
              "batch_submit_s": round(submit, 3), "batch_answer_s": round(answer, 2),
              "batch_over_online": round((rows / answer) / (args.n / online), 2)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
