"""A job interrupted after a chunk resumes from its last committed chunk: every row is answered once and
logged once, whether the worker stopped, lost its lease to another, or was killed with SIGKILL mid-chunk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openbureau.batches import service
from openbureau.batches.worker import LeaseLost
from openbureau.kit.db import session_scope
from openbureau.runtime import Runtime
from tests.batches.factories import (
    logged,
    principal,
    result_lines,
    sealed_files,
    subject,
    submit,
    worker,
    write_batch,
)


def _chunked(runtime: Runtime, rows: int) -> Runtime:
    return Runtime(settings=runtime.settings.model_copy(update={"batch_chunk_rows": rows}), engine=runtime.engine,
                   vault=runtime.vault)


def _status(runtime, batch_id: int):
    with session_scope(runtime.engine) as session:
        return service.get_batch(session, principal=principal(runtime, "LENDER"), batch_id=batch_id)


def _answered_once(runtime, batch_id: int, rows: int) -> None:
    """Every row answered exactly once, each answer's inquiry logged exactly once (with one audit entry)."""
    lines = result_lines(runtime, "LENDER", batch_id)
    assert [r["row"] for r in lines] == list(range(1, rows + 1))
    assert Counter(r["reference"] for r in lines) == Counter({f"R-{n}": 1 for n in range(rows)})
    assert {r["outcome"] for r in lines} == {"answered"}
    inquiries, audits = logged(runtime)
    assert sorted(i.id for i in inquiries) == sorted(r["inquiry_id"] for r in lines)
    assert len(inquiries) == rows and audits == rows


def test_interrupted_after_a_chunk_then_resumed_by_another_worker(market, tmp_path) -> None:
    runtime = _chunked(market[0], 3)
    job = submit(runtime, "LENDER", write_batch(tmp_path / "r.csv",
                                                [subject(0, f"R-{n}", consent_ref="L-1") for n in range(8)]))
    first = worker(runtime)
    claimed, token = first.claim()
    batch = first.run_chunk(claimed, token)  # one chunk committed, then the worker is gone, its lease held
    assert (batch.rows_done, _status(runtime, job.id).status) == (3, "running")
    second = worker(runtime)
    assert second.claim() is None  # the lease still holds the job
    taken_over, new_token = second.claim(now=datetime.now(UTC) + timedelta(seconds=runtime.settings.batch_lease_seconds
                                                                            + 1))
    assert (taken_over.rows_done, taken_over.input_offset) == (3, batch.input_offset)
    with pytest.raises(LeaseLost):  # the first worker, back, cannot commit a chunk: it is not its job now
        first.run_chunk(batch, token)
    outcome = second.run_job(taken_over, new_token)
    assert (outcome.chunks, outcome.rows, _status(runtime, job.id).status) == (2, 5, "done")
    _answered_once(runtime, job.id, 8)
    assert all(p.name.startswith("part-") for p in sealed_files(runtime)) and len(sealed_files(runtime)) == 3


def test_stopped_between_chunks_then_resumed(market, tmp_path) -> None:
    runtime = _chunked(market[0], 2)
    job = submit(runtime, "LENDER", write_batch(tmp_path / "r.jsonl",
                                                [subject(0, f"R-{n}", consent_ref="L-1") for n in range(5)]))
    assert worker(runtime).run_once(max_chunks=1).rows == 2  # gives the lease back
    status = _status(runtime, job.id)
    assert (status.rows_done, status.rows_answered, status.progress, status.results_ready) == (2, 2, 0.4, False)
    assert worker(runtime).run_once().rows == 3
    _answered_once(runtime, job.id, 5)


def test_kill_9_in_the_middle_of_a_job_then_resumed(market, tmp_path) -> None:
    runtime, _ = market
    rows = 150
    job = submit(_chunked(runtime, 1), "LENDER", write_batch(
        tmp_path / "k.csv", [subject(0, f"R-{n}", consent_ref="L-1") for n in range(rows)]))
    settings = runtime.settings
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value(),
           "OPENBUREAU_BATCH_LEASE_SECONDS": "2"}
    cli = Path(sys.executable).parent / "openbureau"
    process = subprocess.Popen([str(cli), "inquiries", "batch", "run", "--poll", "0.05"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _status(runtime, job.id).rows_done < 5:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -9
    finally:
        if process.poll() is None:
            process.kill()
    killed = _status(runtime, job.id)
    assert killed.status == "running" and 5 <= killed.rows_done < rows
    assert len(logged(runtime)[0]) == killed.rows_done  # what was committed, and nothing of the chunk cut short
    time.sleep(2.1)  # the killed worker's lease ends
    outcome = worker(runtime).run_once()
    assert outcome.rows == rows - killed.rows_done and _status(runtime, job.id).status == "done"
    _answered_once(runtime, job.id, rows)
