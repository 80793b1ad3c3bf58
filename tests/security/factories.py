"""Helpers of the security tests: a bureau's files searched for personal data, an API client, env vars."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openbureau.runtime import Runtime
from tests.intake.factories import PEOPLE, record

PHONES = ["13800138000", "13912345678", "13587654321", "18611112222"]


def secrets_of(records: list[dict]) -> set[bytes]:
    """Every ID number, name and phone of the records, as UTF-8 bytes."""
    found = set()
    for r in records:
        for name in ("id_number", "full_name", "phone"):
            if r.get(name):
                found.add(r[name].encode())
    return found


def people_records(n: int, **overrides) -> list[dict]:
    """``n`` valid records of the known people, each with its own phone."""
    out = []
    for i in range(n):
        id_number, birth, name = PEOPLE[i % len(PEOPLE)]
        out.append(record(furnisher_account_id=f"A{i}", id_number=id_number, birth_date=birth, full_name=name,
                          phone=PHONES[i % len(PHONES)], **overrides))
    return out


def files_holding(folder: Path, secrets: set[bytes]) -> dict[str, list[bytes]]:
    """Files under ``folder`` whose bytes contain any of ``secrets`` (and which)."""
    hits: dict[str, list[bytes]] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found = [s for s in secrets if s in data]
            if found:
                hits[str(path)] = found
    return hits


def env_of(runtime: Runtime, **extra: str) -> dict[str, str]:
    """Environment naming ``runtime``'s bureau, for a command run in another process."""
    s = runtime.settings
    return {**os.environ, "OPENBUREAU_DATA_DIR": str(s.data_dir), "OPENBUREAU_DATABASE_URL": s.resolved_database_url,
            "OPENBUREAU_PII_KEY": s.pii_key.get_secret_value(), "OPENBUREAU_INDEX_KEY": s.index_key.get_secret_value(),
            **extra}


@contextmanager
def cli_env(runtime: Runtime, monkeypatch) -> Iterator[None]:
    """This process's environment names ``runtime``'s bureau (for CLI commands run in-process)."""
    from openbureau.kit.settings import get_settings

    for name, value in env_of(runtime).items():
        if name.startswith("OPENBUREAU_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()
