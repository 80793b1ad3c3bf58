"""A large file's preparing process runs at a lower CPU priority than the bureau's serving processes, and the
loader that writes (and holds the SQLite write lock) keeps its own."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from openbureau.intake import service
from openbureau.members.models import Role
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member


@pytest.mark.parametrize("niceness", [0, 7])
def test_the_preparing_process_runs_at_the_load_niceness_and_the_writer_at_its_own(runtime, tmp_path,
                                                                                     niceness) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    path = write_file(tmp_path / "big.csv", [person(i % len(PEOPLE), furnisher_account_id=f"A{i}")
                                             for i in range(2_500)])
    settings = runtime.settings.model_copy(update={"parallel_load_min_bytes": 0, "chunk_size": 1_000,
                                                   "load_niceness": niceness})
    own = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[tuple[int, int]] = []

    def progress(_records: int) -> None:  # called by the writer between chunks, while the preparer runs
        seen.extend((os.getpriority(os.PRIO_PROCESS, 0), os.getpriority(os.PRIO_PROCESS, child.pid))
                    for child in multiprocessing.active_children() if child.name == "intake-prepare")

    s = service.submit(runtime.engine, settings=settings, policy=runtime.policy, furnisher_code="BANK_A",
                       path=path, progress=progress).submission
    assert (s.status, s.records_accepted) == ("loaded", 2_500)
    assert seen, "the load was not prepared in a second process"
    assert set(seen) == {(own, min(own + niceness, 19))}
