"""Consent import benchmark: memory and speed of importing consent files of growing size.

For each size it writes a consent file (one consent to furnish per person, ``bench.records.make_consents``)
and imports it into an empty bureau in a fresh process, sampling that process's memory every 50 ms
(``bench/memory.py``). It prints lines/s and the peaks, resident and anonymous (the process's own heap), and
the anonymous peak per line of the file: a file read whole grows it with the file; a file read a chunk at
a time keeps it nearly flat, but for the ~25 bytes a line the in-file duplicate check keeps.

    .venv/bin/python bench/consent_import.py --sizes 250000,1000000,4000000 --engines sqlite
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import _database, child_arguments  # noqa: E402
from bench.memory import MemorySampler  # noqa: E402


def child_import(url: str, path: Path, data_dir: Path) -> dict:
    """Register a furnisher and import the file as it would through ``openbureau consent import``."""
    from openbureau.audit.service import terminal_operator
    from openbureau.intake.quarantine import import_consents
    from openbureau.kit.db import session_scope
    from openbureau.kit.settings import Settings
    from openbureau.members.models import Role
    from openbureau.members.schemas import MemberCreate
    from openbureau.members.service import add_member
    from openbureau.runtime import open_runtime

    runtime = open_runtime(Settings(data_dir=data_dir, database_url=url))
    with session_scope(runtime.engine, write=True) as session:
        member, _ = add_member(session, principal=terminal_operator(),
                               data=MemberCreate(code="BENCH", name="Bench", roles=[Role.FURNISHER]))
    with MemorySampler() as memory:
        started = time.perf_counter()
        outcome, _ = import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                     actor=member, path=path)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "received": outcome.received, "created": outcome.created, **memory.figures()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250000,1000000,4000000",
                        help="records whose persons get a consent each, comma-separated")
    parser.add_argument("--engines", default="sqlite")
    child_arguments(parser)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_import(args.url, args.file, args.data_dir)))
        return
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"{'engine':<11}{'lines':>11}{'file MiB':>10}{'seconds':>9}{'lines/s':>10}{'peak MiB':>10}"
          f"{'anon MiB':>10}{'anon B/line':>13}")
    for engine in args.engines.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            path = out_dir / f"consents-{size}.csv"
            if not path.exists():  # written in a child, so that this process stays small
                code = (f"from bench.records import make_consents, make_records; "
                        f"make_consents(make_records({size})).write_csv({str(path)!r})")
                subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
            with tempfile.TemporaryDirectory(prefix="ob-bench-") as tmp:
                url, drop = _database(engine, Path(tmp))
                try:
                    out = subprocess.run([sys.executable, __file__, "--child", "--url", url, "--file", str(path),
                                          "--data-dir", str(Path(tmp) / "data")],
                                         check=True, capture_output=True, text=True)
                finally:
                    drop()
            run = json.loads(out.stdout.strip().splitlines()[-1])
            lines = run["received"]  # one consent per distinct person of ``size`` records
            assert run["created"] == lines, run
            print(f"{engine:<11}{lines:>11,}{path.stat().st_size / 2**20:>10,.0f}{run['seconds']:>9.1f}"
                  f"{lines / run['seconds']:>10,.0f}{run['peak_mib']:>10,.0f}{run['anonymous_mib']:>10,.0f}"
                  f"{run['anonymous_mib'] * 2**20 / lines:>13,.0f}", flush=True)


if __name__ == "__main__":
    main()
