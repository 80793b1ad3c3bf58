"""A consent import is stored in short chunks: a process killed part way keeps whole chunks only (each with
its audit entry), and the same file imported again completes it without storing anything twice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from openbureau.consent import service as consents
from openbureau.documents import resident_id
from openbureau.intake import quarantine
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from tests.consent.factories import stored_imports
from tests.members.factories import make_member

KILL_AFTER_FIRST_CHUNK = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from openbureau.intake import quarantine
    from openbureau.kit.db import session_scope
    from openbureau.members.service import get_member
    from openbureau.runtime import open_runtime

    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        actor = get_member(session, code="BANK_A")
    quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, actor=actor,
                               path=Path(sys.argv[1]),
                               progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
""")
LINES = consents.IMPORT_CHUNK + 500


def _file(tmp_path):
    ids = [resident_id("110101", f"{1950 + n // 1000}0101", f"{n % 1000:03d}") for n in range(LINES)]
    rows = ["consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash"] + [
        f"K-{n},CN_RESIDENT_ID,{number},furnish,2024-01-01T00:00:00Z,app,{'ab' * 32}"
        for n, number in enumerate(ids)]
    path = tmp_path / "consents.csv"
    path.write_text("\n".join(rows) + "\n")
    return path, len(ids)


@pytest.mark.slow
def test_kill_during_a_consent_import_then_import_again(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    path, lines = _file(tmp_path)
    assert lines > consents.IMPORT_CHUNK
    settings = runtime.settings
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value()}
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_CHUNK, str(path)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    count, parts = stored_imports(runtime)
    assert count == consents.IMPORT_CHUNK  # the first chunk, whole, and audited with it
    assert [(p["part"], p["parts"], p["created"]) for p in parts] == [(1, 2, consents.IMPORT_CHUNK)]
    with session_scope(runtime.engine) as session:
        actor = get_member(session, code="BANK_A")
    outcome, _ = quarantine.import_consents(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                                            actor=actor, path=path)
    assert (outcome.received, outcome.created, outcome.unchanged) == (lines, lines - consents.IMPORT_CHUNK,
                                                                      consents.IMPORT_CHUNK)
    count, parts = stored_imports(runtime)
    assert count == lines and [p["created"] for p in parts[1:]] == [0, lines - consents.IMPORT_CHUNK]
