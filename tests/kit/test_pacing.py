"""A long job keeps to its share of the time: it rests between its write transactions for as long as its work
since the last rest asks, never for long at once, and not at all at a share of 1."""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from openbureau.intake import service
from openbureau.kit.dialects import dialect_for
from openbureau.kit.pacing import (
    ADAPT_EVERY,
    MAX_REST,
    MIN_SHARE,
    NEW_JOB_GAP,
    SHARE_STEP,
    LatencyBoard,
    WorkShare,
)
from openbureau.kit.settings import Settings
from openbureau.members.models import Role
from openbureau.runtime import open_runtime, work_share
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member


class Clock:
    """Time that passes only when told to (work done) or when the job sleeps (its rest)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.rests: list[float] = []

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.rests.append(seconds)
        self.now += seconds


def _share(share: float) -> tuple[WorkShare, Clock]:
    clock = Clock()
    return WorkShare(share, clock=clock, sleep=clock.sleep), clock


def test_the_job_rests_so_that_its_work_is_its_share_of_the_time() -> None:
    pacer, clock = _share(0.25)
    assert pacer.rest() == 0  # the job's first call: nothing done yet to rest for
    busy = 0.0
    for step in (0.040, 0.010, 0.200, 0.005):
        clock.work(step)
        busy += step
        pacer.rest()
    assert clock.rests == pytest.approx([0.120, 0.030, 0.600, 0.015])  # three times the work at a quarter
    assert busy / (clock.now - 100.0) == pytest.approx(0.25)


def test_a_rest_is_never_long_and_a_share_of_one_never_rests() -> None:
    pacer, clock = _share(0.1)
    pacer.rest()
    clock.work(5.0)  # one long step: nine times as long a rest would stall the job for 45 s
    assert pacer.rest() == MAX_REST
    unpaced, clock = _share(1.0)
    for _ in range(3):
        unpaced.rest()
        clock.work(0.5)
    assert clock.rests == []


def test_a_long_gap_starts_a_new_job() -> None:
    # A thread that was not in a job (or waited long for its next file) was not busy: no rest for the gap.
    pacer, clock = _share(0.5)
    pacer.rest()
    clock.work(NEW_JOB_GAP + 1)
    assert pacer.rest() == 0
    clock.work(0.2)
    assert pacer.rest() == pytest.approx(0.2)


def test_each_thread_keeps_its_own_count() -> None:
    pacer, clock = _share(0.5)
    pacer.rest()
    clock.work(0.3)
    other: list[float] = []
    thread = threading.Thread(target=lambda: other.append(pacer.rest()))  # another job's first call
    thread.start()
    thread.join()
    assert other == [0] and pacer.rest() == pytest.approx(0.3)


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float, tmp_path) -> None:
    with pytest.raises(ValueError, match="share"):
        WorkShare(share)
    with pytest.raises(ValidationError, match="load_work_share"):
        Settings(data_dir=tmp_path, load_work_share=share)


def _bureau_with_a_file(runtime, tmp_path, **settings: object):
    """BANK_A, a file of 5,000 of its records, and the bureau opened again with ``settings`` (as an operator
    sets them: the runtime gives them to the engine's long jobs)."""
    make_member(runtime, "BANK_A", Role.FURNISHER)
    rows = [person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(5_000)]
    return open_runtime(runtime.settings.model_copy(update=settings)), write_file(tmp_path / "paced.csv", rows)


def test_a_load_at_half_share_rests_between_its_writes_and_stores_the_same(runtime, tmp_path) -> None:
    paced, path = _bureau_with_a_file(runtime, tmp_path, load_work_share=0.5)
    dialect = dialect_for(paced.engine)
    assert dialect.work_share.share == 0.5
    rests: list[float] = []

    def record(seconds: float) -> None:
        rests.append(seconds)

    dialect.work_share = WorkShare(0.5, sleep=record)  # the real pacer, its rests recorded instead of slept
    try:
        s = service.submit(paced.engine, settings=paced.settings, policy=paced.policy, furnisher_code="BANK_A",
                           path=path).submission
    finally:  # the engine's dialect serves every runtime of this process: back to the bureau's own share
        dialect.work_share = WorkShare(runtime.settings.load_work_share)
    assert (s.status, s.records_accepted) == ("loaded", 5_000)
    # 5,000 rows in transactions of 2,000 (persons, then states): a rest before each but the first.
    assert len([r for r in rests if r > 0]) >= 3
    with paced.engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM account_states WHERE submission_id = :s"),
                              {"s": s.id}).scalar_one()
    paced.engine.dispose()
    assert stored == 5_000


# -- following the inquiries' latency ---------------------------------------------------------------------

def test_a_serving_process_publishes_the_p99_of_each_window(tmp_path) -> None:
    clock = Clock()
    board = LatencyBoard(tmp_path / "latency", window=1.0, clock=clock)
    for ms in range(1, 101):  # 1 ms ... 100 ms, within one window: nothing published yet
        board.record(ms / 1000)
    assert board.p99() is None
    clock.work(1.0)
    board.record(0.5)  # the window is over: its 101 inquiries' p99 is published
    assert board.p99() == pytest.approx(0.100)
    for _ in range(10):
        board.record(0.002)
    clock.work(1.0)
    board.record(0.002)  # the next window, a fast one, replaces it
    assert board.p99() == pytest.approx(0.002)
    clock.work(board.max_age + 0.1)
    assert board.p99() is None  # a process that answered nothing for a while gives no figure
    board.withdraw()
    assert list((tmp_path / "latency").iterdir()) == []


def test_a_job_reads_the_slowest_of_the_serving_processes(tmp_path) -> None:
    directory = tmp_path / "latency"
    code = ("import sys, time\nfrom pathlib import Path\nfrom openbureau.kit.pacing import LatencyBoard\n"
            f"board = LatencyBoard(Path({str(directory)!r}), window=0.0)\n"
            "board.record(0.4)\nboard.record(0.4)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # another serving process
    mine = LatencyBoard(directory, window=0.0)
    mine.record(0.01)
    mine.record(0.01)
    assert len(list(directory.iterdir())) == 2 and mine.p99() == pytest.approx(0.4)
    (directory / "12345").write_bytes(b"not a record")  # a torn or foreign file is no figure, not an error
    (directory / "12348").write_bytes(b"\0" * 2**20)  # nor a large one (only a record's size is read of it)
    (directory / "12346").write_bytes(struct.pack("<dQd", 9.0, 5, time.time() + 86_400))  # dated tomorrow
    (directory / "12347").write_bytes(struct.pack("<dQd", float("nan"), 5, time.time()))
    assert mine.p99() == pytest.approx(0.4)


def _following(board: LatencyBoard, clock: Clock, share: float = 1.0, target: float = 0.1) -> WorkShare:
    return WorkShare(share, latency_target=target, board=board, clock=clock, sleep=clock.sleep)


def _publish(board: LatencyBoard, seconds: float) -> None:
    board.window = 0.0
    board.record(seconds)
    board.record(seconds)


def _looks(pacer: WorkShare, board: LatencyBoard, clock: Clock, p99: float, count: int) -> list[float]:
    """The share in force after each of ``count`` looks, the servers publishing ``p99`` before each."""
    seen = []
    for _ in range(count):
        clock.work(ADAPT_EVERY)
        _publish(board, p99)
        pacer.rest()
        seen.append(pacer.current)
    return seen


def test_the_share_halves_while_inquiries_are_slow_and_grows_back_slowly_once_they_are_fast(tmp_path) -> None:
    clock = Clock()
    board = LatencyBoard(tmp_path / "latency", clock=clock)
    pacer = _following(board, clock, target=0.1)
    _publish(board, 0.3)
    seen = _looks(pacer, board, clock, 0.3, 8)  # inquiries at three times the target
    assert seen[:3] == pytest.approx([0.5, 0.25, 0.125]) and seen[-1] == MIN_SHARE  # never below the least share
    assert clock.rests[-1] == pytest.approx(min(MAX_REST, ADAPT_EVERY * (1 / MIN_SHARE - 1)))
    assert _looks(pacer, board, clock, 0.09, 1) == [MIN_SHARE]  # within the target, not well within: it stays
    rising = _looks(pacer, board, clock, 0.02, 12)
    assert rising[0] == pytest.approx(MIN_SHARE + SHARE_STEP) and rising[-1] == 1.0  # step by step, up to the share


def test_a_job_writes_fewer_rows_at_once_while_its_share_is_low(tmp_path) -> None:
    clock = Clock()
    board = LatencyBoard(tmp_path / "latency", clock=clock)
    pacer = _following(board, clock, target=0.1)
    assert pacer.rows(2_000) == 2_000
    _looks(pacer, board, clock, 0.5, 6)
    assert pacer.current == MIN_SHARE and pacer.rows(2_000) == 100  # SQLite's write lock held a twentieth as long
    assert WorkShare(0.01).rows(50) == 1  # never none


def test_with_no_inquiries_the_job_runs_at_its_full_share_and_never_above_it(tmp_path) -> None:
    clock = Clock()
    board = LatencyBoard(tmp_path / "latency", clock=clock)
    pacer = _following(board, clock, share=0.5, target=0.1)
    _publish(board, 1.0)
    clock.work(ADAPT_EVERY)
    pacer.rest()
    assert pacer.current == 0.25
    clock.work(board.max_age + 1)  # the servers went quiet: their figures aged out
    for _ in range(5):
        pacer.rest()
        clock.work(ADAPT_EVERY)
    assert pacer.current == 0.5  # the configured share is the ceiling


def test_by_default_a_long_job_follows_the_inquiries_of_the_bureaus_servers(tmp_path) -> None:
    made = work_share(Settings(data_dir=tmp_path))
    assert made.latency_target == 0.05 and made.board.directory == tmp_path / "serving-latency"
    assert made.rest() == 0 and made.current == 1.0  # no server publishing: the full share
    fixed = work_share(Settings(data_dir=tmp_path, load_latency_target_ms=0, load_work_share=0.25))
    assert fixed.latency_target is None and fixed.share == 0.25


def test_a_target_needs_a_board_and_a_positive_figure(tmp_path) -> None:
    with pytest.raises(ValueError, match="latency target"):
        WorkShare(1.0, latency_target=0.05)
    with pytest.raises(ValueError, match="latency target"):
        WorkShare(1.0, latency_target=0.0, board=LatencyBoard(tmp_path))
    with pytest.raises(ValidationError, match="load_latency_target_ms"):
        Settings(data_dir=tmp_path, load_latency_target_ms=-1)


@contextmanager
def _slow_inquiries(runtime, paced) -> Iterator[tuple[WorkShare, list[float]]]:
    """A serving process of the bureau answering at 500 ms, and the engine's long jobs following it with a
    50 ms target: the pacer and its rests (recorded instead of slept). The board keeps the one figure however
    long the job takes on a busy machine."""
    dialect = dialect_for(paced.engine)
    slow = LatencyBoard(paced.settings.serving_latency_dir, window=0.0)
    _publish(slow, 0.5)
    rests: list[float] = []
    reader = LatencyBoard(paced.settings.serving_latency_dir, max_age=3600)
    dialect.work_share = WorkShare(1.0, latency_target=0.05, board=reader, sleep=rests.append)
    try:
        yield dialect.work_share, rests
    finally:  # the engine's dialect serves every runtime of this process: back to the bureau's own share
        dialect.work_share = WorkShare(runtime.settings.load_work_share)
        slow.withdraw()


def test_a_load_with_a_latency_target_slows_down_while_inquiries_are_slow(runtime, tmp_path) -> None:
    paced, path = _bureau_with_a_file(runtime, tmp_path, load_latency_target_ms=50)
    made = dialect_for(paced.engine).work_share
    assert made.latency_target == 0.05 and made.board.directory == paced.settings.serving_latency_dir
    with _slow_inquiries(runtime, paced) as (pacer, rests):
        s = service.submit(paced.engine, settings=paced.settings, policy=paced.policy, furnisher_code="BANK_A",
                           path=path).submission
        share = pacer.current
    paced.engine.dispose()
    assert (s.status, s.records_accepted) == ("loaded", 5_000)
    # It gave up half the time at each look and rested: 5,000 states in slices of at most 1,000 rows.
    assert share <= 0.5 and len([r for r in rests if r > 0]) >= 5


def test_a_discarded_load_is_deleted_at_the_pace_the_inquiries_leave_it(runtime, tmp_path) -> None:
    """What a killed load wrote is deleted by the next load, while inquiries run: like a load's own writes, it
    rests between its transactions and deletes fewer rows at once while the inquiries are slow."""
    from sqlalchemy import event

    from openbureau.intake.loader import _discard

    paced, path = _bureau_with_a_file(runtime, tmp_path, load_latency_target_ms=50)
    s = service.submit(paced.engine, settings=paced.settings, policy=paced.policy, furnisher_code="BANK_A",
                       path=path).submission
    assert (s.status, s.records_accepted) == ("loaded", 5_000)
    with paced.engine.connect() as conn:
        furnisher_id = conn.execute(text("SELECT furnisher_id FROM submissions WHERE id = :s"), {"s": s.id}).scalar_one()
    deletes: list[int] = []

    @event.listens_for(paced.engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM ACCOUNT_STATES"):
            deletes.append(1)

    try:
        with _slow_inquiries(runtime, paced) as (pacer, rests):
            _discard(paced.engine, submission_id=s.id, furnisher_id=furnisher_id, first_person_id=1)
            share = pacer.current
    finally:
        event.remove(paced.engine, "before_cursor_execute", count)
    with paced.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM account_states WHERE submission_id = :s"), {"s": s.id}).scalar_one()
        persons = conn.execute(text("SELECT count(*) FROM persons")).scalar_one()
    paced.engine.dispose()
    assert left == 0 and persons == 0  # every row of the load, and the persons it numbered, are gone
    # At full share its 5,000 states would go in one transaction (``DELETE_BATCH``); with its share halved
    # while the inquiries were slow, they went in smaller ones, with rests between.
    assert share <= 0.5 and len(deletes) >= 2 and len([r for r in rests if r > 0]) >= 2, (deletes, rests)
