"""The audit chain's keys and checkpoints, attached once to a bureau's database.

Every writer of audit entries finds the chain of its database here (:func:`chain_for`), so every entry is
keyed without callers passing a key: :func:`attach` is called when a bureau is opened
(``openbureau.runtime.Runtime``). The chain key (HMAC-SHA256) and the checkpoint signing key (Ed25519)
come from settings (``OPENBUREAU_AUDIT_KEY``, ``OPENBUREAU_AUDIT_SIGNING_KEY``) or the data directory's
key file, never from anything stored in the database. After each commit that appended entries the new
head is handed to a :class:`~openbureau.audit.checkpoints.CheckpointWriter`, which signs it and appends it
to the checkpoint file in a thread of its own.
"""

from __future__ import annotations

import atexit
import base64
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from openbureau.audit.checkpoints import CheckpointWriter, append_checkpoint, checkpoint_path
from openbureau.kit.errors import BureauError
from openbureau.kit.keyfile import ensure_entries
from openbureau.kit.settings import Settings

_HEAD = "openbureau.audit.head"  # Session.info: (chain, seq, hash) of the entries this transaction appended


class AuditNotConfigured(BureauError):
    """Audit entries were written to a database no bureau attached its chain keys to."""

    status_code = 500
    code = "AUDIT_NOT_CONFIGURED"


@dataclass(frozen=True, slots=True)
class ChainKeys:
    """The chain's HMAC key and the checkpoints' signing key."""

    chain: bytes
    signing: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        """The key that verifies checkpoints (may be published)."""
        return self.signing.public_key()

    def public_text(self) -> str:
        """The public key as base64 of its 32 raw bytes, for outside verifiers."""
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()


def load_chain_keys(settings: Settings) -> ChainKeys:
    """The audit keys from settings, else from (or newly into) the data directory's key file."""
    if settings.audit_key is not None and settings.audit_signing_key is not None:
        stored = {}
    else:
        stored = ensure_entries(settings.data_dir, ("audit_key", "audit_signing_key"))
    chain = settings.audit_key.get_secret_value() if settings.audit_key else stored["audit_key"]
    signing = (settings.audit_signing_key.get_secret_value() if settings.audit_signing_key
               else stored["audit_signing_key"])
    return ChainKeys(base64.b64decode(chain), Ed25519PrivateKey.from_private_bytes(base64.b64decode(signing)))


class AuditChain:
    """The keys and checkpoint file of one bureau's audit chain."""

    def __init__(self, keys: ChainKeys, checkpoint_dir: Path, *, every: float) -> None:
        self.keys = keys
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoints = CheckpointWriter(self.checkpoint_dir, keys.signing, every=every)
        self.started = False  # whether this process has seen the checkpoint file started

    @property
    def key(self) -> bytes:
        """The HMAC key of the chain."""
        return self.keys.chain

    def same_as(self, other: AuditChain) -> bool:
        """Whether ``other`` has the same keys and checkpoint file."""
        return (self.key == other.key and self.keys.public_text() == other.keys.public_text()
                and self.checkpoint_dir.resolve() == other.checkpoint_dir.resolve())

    def start(self, *, last: tuple[int, str] | None, keyed_from: int) -> None:
        """Start the checkpoint file at the log's head, unless it exists (``keyed_from``: see checkpoints)."""
        if not checkpoint_path(self.checkpoint_dir).exists():
            seq, hash_ = last if last is not None else (0, "0" * 64)
            append_checkpoint(self.checkpoint_dir, self.keys.signing, seq=seq, hash_=hash_, keyed_from=keyed_from)

    def close(self) -> None:
        """Write the pending checkpoint and stop the writer's thread."""
        self.checkpoints.stop()


_CHAINS: dict[str, AuditChain] = {}
_LOCK = threading.Lock()


def _database(bind) -> str:
    return bind.url.render_as_string(hide_password=True)


def register(engine: Engine, chain: AuditChain) -> AuditChain:
    """Make ``chain`` the one every session on ``engine``'s database writes with (replacing an earlier one);
    the chain in use, which is the earlier one when it has the same keys and checkpoint file."""
    with _LOCK:
        earlier = _CHAINS.get(_database(engine))
        if earlier is not None and earlier.same_as(chain):
            return earlier
        _CHAINS[_database(engine)] = chain
    if earlier is not None and earlier is not chain:
        earlier.close()
    return chain


def chain_for(session: Session) -> AuditChain:
    """The chain of the database ``session`` writes to."""
    chain = _CHAINS.get(_database(session.get_bind()))
    if chain is None:
        raise AuditNotConfigured("no audit chain keys are attached to this database: open the bureau through "
                                 "openbureau.runtime, which loads them")
    return chain


def note_head(session: Session, chain: AuditChain, seq: int, hash_: str) -> None:
    """Remember the newest entry this transaction appended, to checkpoint it once the transaction commits."""
    session.info[_HEAD] = (chain, seq, hash_)


@event.listens_for(Session, "after_commit")
def _checkpoint_committed_head(session: Session) -> None:
    head = session.info.pop(_HEAD, None)
    if head is not None:
        head[0].checkpoints.offer(head[1], head[2])


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_head(session: Session) -> None:
    session.info.pop(_HEAD, None)


@atexit.register
def _flush_at_exit() -> None:
    # A command-line process appends an entry and exits: its checkpoint must be written before it goes.
    for chain in list(_CHAINS.values()):
        try:
            chain.close()
        except Exception:  # noqa: BLE001 - exiting anyway; verify will show the older checkpoint
            pass
