"""Where a load's time goes: the steps of preparing and writing each chunk, timed inside one load.

``bench/ingest.py`` times a whole load against the engine's ceiling; this benchmark splits one load into its
steps. It writes the same file (``bench/records.make_records``), imports the furnisher's consents first (as
``bench/ingest.py`` does, in a process of its own), then loads the file in this process through the intake
service with the preparing in a thread (``OPENBUREAU_PARALLEL_LOAD_MIN_BYTES`` above any file's size, so that
every step runs where it can be timed), each step wrapped in a timer:

- preparing (the thread that makes the chunks): validation (``validate_chunk``), the check against stored
  versions (``check_against_stored``), person linking (``PersonLinker.link``), the consent gate
  (``quarantine.consented``), sealing the identity descriptions (``seal_identities``), joint lending (v1.1
  files only), and what is left of the chunk's preparing (reading the file, building the rows);
- writing (the loading thread): persons and account states (``_Writer.write``), then publishing.

For each step it prints the wall time per chunk (the two threads run side by side, so a step's wall time
includes waiting for Python's global lock while the other thread holds it) and the CPU time of the calling
thread per chunk (Polars' own threads are not counted in it). A deterministic profiler is not used: its cost
per Python call inflates SQLAlchemy's many small calls several times over (docs/performance.md).

    .venv/bin/python bench/load_profile.py --records 300000 --engine sqlite
    .venv/bin/python bench/load_profile.py --records 300000 --engine postgresql
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import _database, child_arguments, records_file  # noqa: E402

# (label, module path, attribute): the steps timed, in the order a chunk meets them.
PREPARING = [
    ("validation", "openbureau.intake.prepare", "validate_chunk"),
    ("check against stored versions", "openbureau.intake.prepare", "check_against_stored"),
    ("person linking", "openbureau.identity.service", "PersonLinker.link"),
    ("consent gate", "openbureau.intake.quarantine", "consented"),
    ("sealing identity descriptions", "openbureau.intake.prepare", "seal_identities"),
    ("joint lending (v1.1)", "openbureau.intake.joint_lending", "prepare"),
]
CHUNK = ("a chunk's preparing, in all", "openbureau.intake.prepare", "Preparer._prepare")
WRITING = ("writing a chunk (persons, states)", "openbureau.intake.loader", "_Writer.write")
PUBLISHING = ("publishing", "openbureau.intake.loader", "SubmissionLoader._publish")


class Timers:
    """Wall and thread CPU seconds of each wrapped step."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap(self, label: str, module: str, attribute: str) -> None:
        """Replace ``module.attribute`` (``Class.method`` for a method) by a timed version of itself."""
        owner = __import__(module, fromlist=["_"])
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[label] += time.perf_counter() - wall
                self.cpu[label] += time.thread_time() - cpu

        setattr(owner, name, timed)


def child(url: str, path: Path, data_dir: Path, chunk_size: int) -> None:
    """Load the file with every step timed and print the table."""
    from openbureau.intake import service
    from openbureau.kit.settings import Settings
    from openbureau.runtime import open_runtime

    timers = Timers()
    for step in (*PREPARING, CHUNK, WRITING, PUBLISHING):
        timers.wrap(*step)
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=url, chunk_size=chunk_size, load_niceness=0,
                                    parallel_load_min_bytes=2**50))
    started = time.perf_counter()
    result = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy,
                            furnisher_code="BENCH", path=path, today=date(2026, 11, 22))
    seconds = time.perf_counter() - started
    s = result.submission
    chunks = -(-s.records_received // chunk_size)
    print(f"{s.records_received:,} records in {chunks} chunks of {chunk_size:,}, loaded in {seconds:.1f} s "
          f"({s.records_received / seconds:,.0f} records/s); {s.records_quarantined:,} held")
    print(f"{'step':<36}{'wall ms/chunk':>15}{'CPU ms/chunk':>14}{'share of the load':>19}")

    def line(label: str, wall: float, cpu: float) -> None:
        print(f"{label:<36}{wall / chunks * 1e3:>15,.0f}{cpu / chunks * 1e3:>14,.0f}{wall / seconds:>19.1%}")

    print("preparing (a thread)")
    for label, *_ in PREPARING:
        line("  " + label, timers.wall[label], timers.cpu[label])
    rest = (timers.wall[CHUNK[0]] - sum(timers.wall[label] for label, *_ in PREPARING),
            timers.cpu[CHUNK[0]] - sum(timers.cpu[label] for label, *_ in PREPARING))
    line("  the rest (rows, outcomes, history)", *rest)
    line("  " + CHUNK[0], timers.wall[CHUNK[0]], timers.cpu[CHUNK[0]])
    print("writing (the loading thread)")
    for label, *_ in (WRITING, PUBLISHING):
        line("  " + label, timers.wall[label], timers.cpu[label])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--chunk-size", type=int, default=100_000)
    child_arguments(parser)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.file, args.data_dir, args.chunk_size)
        return
    path = records_file(args.records)
    with tempfile.TemporaryDirectory(prefix="openbureau-load-profile-") as workdir:
        url, drop = _database(args.engine, Path(workdir))
        try:
            subprocess.run([sys.executable, str(ROOT / "bench" / "ingest.py"), "--child", "setup", "--url", url,
                            "--file", str(path), "--data-dir", workdir], check=True)
            subprocess.run([sys.executable, __file__, "--child", "--url", url, "--file", str(path), "--data-dir",
                            workdir, "--chunk-size", str(args.chunk_size)], check=True)
        finally:
            drop()


if __name__ == "__main__":
    main()
