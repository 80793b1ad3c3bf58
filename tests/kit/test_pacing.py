"""A long job keeps to its share of the time: it rests between its write transactions for as long as its work
since the last rest asks, never for long at once, and not at all at a share of 1."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from openbureau.intake import service
from openbureau.kit.dialects import dialect_for
from openbureau.kit.pacing import MAX_REST, NEW_JOB_GAP, WorkShare
from openbureau.kit.settings import Settings
from openbureau.members.models import Role
from openbureau.runtime import open_runtime
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


def test_a_load_at_half_share_rests_between_its_writes_and_stores_the_same(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    rows = [person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(5_000)]
    path = write_file(tmp_path / "paced.csv", rows)
    # The bureau's own setting, as an operator sets it: the runtime gives it to the engine's long jobs.
    paced = open_runtime(runtime.settings.model_copy(update={"load_work_share": 0.5}))
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
