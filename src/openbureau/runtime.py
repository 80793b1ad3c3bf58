"""What a running bureau holds: its settings, its policy, its database engine (migrated) and its PII vault."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from sqlalchemy import Engine

from openbureau.audit.chain import AuditChain
from openbureau.audit.service import attach
from openbureau.kit.crypto import PiiVault, load_keys, load_signin_key
from openbureau.kit.db import make_engine
from openbureau.kit.dialects import dialect_for
from openbureau.kit.keyfile import key_file_path
from openbureau.kit.pacing import LatencyBoard, WorkShare
from openbureau.kit.settings import Settings, get_settings
from openbureau.migrations import ensure_current
from openbureau.policy import Policy, build_policy


@dataclass(frozen=True, slots=True)
class Runtime:
    """Settings, policy, engine and vault of one bureau; every audit entry written to its database is keyed
    with its audit keys (attached when it is made). The policy is built from the settings unless given."""

    settings: Settings
    engine: Engine
    vault: PiiVault
    policy: Policy = None  # type: ignore[assignment]  # None: built from ``settings`` in __post_init__
    audit: AuditChain = field(init=False, repr=False)
    signin_key: bytes = field(init=False, repr=False)  # keys the hashes of sign-in codes (``people``)

    def __post_init__(self) -> None:
        if self.policy is None:  # frozen: set once, here
            object.__setattr__(self, "policy", build_policy(self.settings))
        object.__setattr__(self, "audit", attach(self.engine, self.settings))
        object.__setattr__(self, "signin_key", load_signin_key(self.settings))


def work_share(settings: Settings) -> WorkShare:
    """The share of the time the bureau's long jobs may be busy: fixed, or following the inquiries' latency."""
    if not settings.load_latency_target_ms:
        return WorkShare(settings.load_work_share)
    return WorkShare(settings.load_work_share, latency_target=settings.load_latency_target_ms / 1000,
                     board=LatencyBoard(settings.serving_latency_dir))


def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Open the bureau named by ``settings``: make its data directory, migrate its schema, load its keys.

    Everything the bureau creates from here on is its user's alone (umask 077: directories 0700, files
    0600): the database, its write-ahead log, kept files, scratch files and logs hold personal data.
    """
    settings = settings or get_settings()
    os.umask(0o077)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    engine = make_engine(settings.resolved_database_url)
    dialect_for(engine).turn_wait = settings.write_turn_wait
    dialect_for(engine).work_share = work_share(settings)
    if migrate:
        ensure_current(engine, pg_partitions=settings.pg_partitions)
    vault = PiiVault(load_keys(settings), reload=functools.partial(load_keys, settings),
                     watch=key_file_path(settings.data_dir))
    runtime = Runtime(settings=settings, engine=engine, vault=vault, policy=build_policy(settings))
    if settings.redis_url is not None:  # triggers committed here wake the webhook workers of other processes
        from openbureau.monitoring import wakequeue

        wakequeue.send_through(settings.redis_url.get_secret_value(), settings.redis_key_prefix)
    if migrate:
        _seal_legacy_files(runtime)
    return runtime


def _seal_legacy_files(runtime: Runtime) -> None:
    """A bureau upgraded from a version that kept received files in clear seals them at once."""
    from openbureau.audit.service import operator_code
    from openbureau.intake.tasks import legacy_kept_files, seal_legacy_files
    from openbureau.kit.db import session_scope

    if legacy_kept_files(runtime.settings):
        with session_scope(runtime.engine, write=True) as session:
            seal_legacy_files(session, settings=runtime.settings, actor_code=operator_code())
