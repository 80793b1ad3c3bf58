"""A loader killed with kill -9 takes its preparing process with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from openbureau.members.models import Role
from tests.intake.factories import write_file
from tests.members.factories import make_member
from tests.security.factories import env_of, people_records

LOAD = """
import sys
from pathlib import Path
from openbureau.intake import service
from openbureau.runtime import open_runtime
runtime = open_runtime()
service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=Path(sys.argv[1]))
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reading(pid: int, folder: Path) -> bool:
    """Whether ``pid`` has a kept file of ``folder`` open (the preparer is reading records)."""
    try:
        return any(str(folder) in os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def test_kill_9_of_the_loader_ends_its_preparing_process(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    one = pl.read_csv(write_file(tmp_path / "one.csv", people_records(4)), infer_schema=False)
    big = one.sample(n=400_000, with_replacement=True, seed=1).with_columns(
        pl.format("A{}", pl.int_range(pl.len())).alias("furnisher_account_id"))
    path = tmp_path / "big.csv"
    big.write_csv(path)
    env = env_of(runtime, OPENBUREAU_PARALLEL_LOAD_MIN_BYTES="0", OPENBUREAU_CHUNK_SIZE="400000")
    loader = subprocess.Popen([sys.executable, "-c", LOAD, str(path)], env=env)
    preparer = None
    deadline = time.monotonic() + 120
    while preparer is None and time.monotonic() < deadline:
        preparer = next((c for c in _children(loader.pid)
                         if _reading(c, runtime.settings.submissions_dir)), None)
        time.sleep(0.05)
    assert preparer is not None, "the preparing process never started reading"
    os.kill(loader.pid, signal.SIGKILL)
    loader.wait()
    killed_at = time.monotonic()
    # The preparer has a 400,000-record chunk to validate, link and encrypt before it would next write to
    # its (now broken) pipe; it must not wait for that.
    while _running(preparer) and time.monotonic() - killed_at < 30:
        time.sleep(0.05)
    assert not _running(preparer)
    assert time.monotonic() - killed_at < 2.0
