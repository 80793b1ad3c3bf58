"""A process killed during event intake loses no acknowledged event and stores none twice: each batch
commits whole or not at all, and sending the file again completes it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

from sqlalchemy import func, select

from openbureau.accounts.models import LendingEvent
from openbureau.intake.events.files import submit_event_file
from openbureau.intake.events.standard import EVENT_COLUMNS
from openbureau.intake.models import Submission
from openbureau.kit.db import session_scope
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.intake.factories import write_file

KILL_AFTER_FIRST_BATCH = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime
    from pathlib import Path
    from openbureau.intake.events.files import submit_event_file
    from openbureau.runtime import open_runtime

    runtime = open_runtime()
    submit_event_file(runtime.engine, settings=runtime.settings, vault=runtime.vault,
                      profile=runtime.policy.profile, path=Path(sys.argv[1]), furnisher_code="P1",
                      received_at=datetime.fromisoformat(sys.argv[2]),
                      progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
""")


def _events(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(LendingEvent))


def test_kill_during_event_intake_then_send_again(platforms, tmp_path) -> None:
    runtime, _ = platforms
    rows = [event(i % 2, f"E-{i}", at=NOW - timedelta(minutes=i % 50)) for i in range(2_500)]
    path = write_file(tmp_path / "events.csv", rows, columns=list(EVENT_COLUMNS))
    settings = runtime.settings
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value(), "OPENBUREAU_CHUNK_SIZE": "1000"}
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_BATCH, str(path), NOW.isoformat()], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert _events(runtime) == 1_000  # the first batch, whole
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(Submission.status)).one() == "received"
    submission, result, repeated = submit_event_file(
        runtime.engine, settings=settings, vault=runtime.vault, profile=runtime.policy.profile, path=path,
        furnisher_code="P1", received_at=NOW)
    assert not repeated and (result.stored, result.duplicates, result.rejected) == (1_500, 1_000, 0)
    assert submission.status == "loaded" and submission.records_received == 2_500
    assert _events(runtime) == 2_500
