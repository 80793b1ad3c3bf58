"""A large file's preparing process runs at a lower CPU priority than the bureau's serving processes, and the
loader that writes (and holds the SQLite write lock) keeps its own."""

from __future__ import annotations

import gc
import multiprocessing
import os
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from openbureau.intake import service
from openbureau.intake.files import file_keyring
from openbureau.intake.limits import ReadLimits
from openbureau.intake.prepare import LoadSpec, Preparer
from openbureau.kit.crypto import load_keys
from openbureau.kit.filecrypt import SealingWriter
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


def _spec(runtime, tmp_path) -> LoadSpec:
    """A load of 2,500 records of BANK_A in chunks of 1,000, its file kept sealed as the bureau keeps it."""
    make_member(runtime, "BANK_A", Role.FURNISHER)
    path = write_file(tmp_path / "three.csv", [person(i % len(PEOPLE), furnisher_account_id=f"A{i}")
                                               for i in range(2_500)])
    settings, policy = runtime.settings, runtime.policy
    keys = file_keyring(settings)  # the load reads its kept copy, sealed under the bureau's current key
    sealed = tmp_path / "three.sealed"
    with sealed.open("wb") as sink, SealingWriter(sink, key=next(iter(keys.values())), key_id=next(iter(keys))) as out:
        out.write(path.read_bytes())
    with runtime.engine.connect() as conn:
        furnisher_id = conn.execute(text("SELECT id FROM members WHERE code = 'BANK_A'")).scalar_one()
    return LoadSpec(database_url=runtime.engine.url.render_as_string(hide_password=False), path=sealed,
                    format="csv", chunk_size=1_000, submission_id=0, furnisher_id=furnisher_id, first_new_id=1,
                    today=date.today(), now=datetime.now(UTC), balance_tolerance=policy.balance_tolerance,
                    profile=policy.profile, keys=load_keys(settings), file_keys=keys,
                    limits=ReadLimits.from_settings(settings))


def test_the_preparer_holds_no_snapshot_between_chunks(runtime, tmp_path) -> None:
    # A read transaction held for the whole load kept SQLite from copying any of the log back (it grew by
    # gigabytes during a million-record load) and would hold PostgreSQL's vacuum back: each chunk reads in
    # a transaction of its own, ended before the chunk is handed over.
    spec = _spec(runtime, tmp_path)
    with runtime.engine.connect() as conn:
        handed = [(chunk.size, conn.in_transaction()) for chunk in Preparer(spec, conn).chunks()]
    assert handed == [(1_000, False), (1_000, False), (500, False)]


def test_the_preparer_keeps_no_chunk_it_handed_over(runtime, tmp_path) -> None:
    # Once the writer is done with a chunk it is freed: the preparer does not hold it while it makes the
    # next one, which would keep two chunks in memory where one is needed (docs/intake.md, Memory of a load).
    spec = _spec(runtime, tmp_path)
    with runtime.engine.connect() as conn:
        chunks = Preparer(spec, conn).chunks()
        first = next(chunks)
        assert first.size == 1_000
        assert not any(referrer is chunks for referrer in gc.get_referrers(first))
        chunks.close()


def test_the_preparing_process_starts_at_its_lower_priority(runtime, tmp_path) -> None:
    """Its start (a new interpreter importing the intake code, most of a second of CPU) runs at the lower
    priority as well: the loader lowers it as soon as it exists, not the process itself once it has imported."""
    from dataclasses import replace

    from openbureau.intake.prepare import start_preparer

    spec = replace(_spec(runtime, tmp_path), niceness=7)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    child, receiver = start_preparer(spec)
    try:
        at_start = os.getpriority(os.PRIO_PROCESS, child.pid)  # long before its imports are done
        assert receiver.recv()[0] == "chunk"  # and it prepares as before
    finally:
        receiver.close()
        child.terminate()
        child.join()
    assert at_start == min(own + 7, 19)
