"""Validated settings, read from the environment with the prefix ``OPENBUREAU_``."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the bureau reads from its environment; nothing is read at import time."""

    model_config = SettingsConfigDict(env_prefix="OPENBUREAU_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("./bureau-data"), description="Where the bureau keeps its files.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    pii_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: encrypts personal identifiers (AES-256-GCM). "
        "When unset, a key file is created in the data directory on first use.",
    )
    index_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: keys the blind index of identifiers (HMAC-SHA256).",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: keys the audit chain (HMAC-SHA256). Keep it apart from the "
        "database. When unset, one is created in the data directory's key file.",
    )
    audit_signing_key: SecretStr | None = Field(
        default=None,
        description="Base64 of a 32-byte Ed25519 private key: signs the audit checkpoints. When unset, one "
        "is created in the data directory's key file.",
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="Where the signed audit checkpoints are appended (default: the data directory); put it "
        "on storage the database's operators cannot rewrite.",
    )
    audit_checkpoint_every: float = Field(
        default=1.0, ge=0.0, le=60.0,
        description="Seconds between audit checkpoints at most (0: after every committed append batch).",
    )
    chunk_size: int = Field(default=100_000, ge=1_000, le=2_000_000, description="Records per intake chunk.")
    parallel_load_min_bytes: int = Field(
        default=16 * 2**20, ge=0,
        description="Files at least this large are validated and linked in a second process while the "
        "first one writes (both cores busy); smaller ones in a thread, without the process start-up cost.",
    )
    balance_tolerance: float = Field(
        default=0.10, ge=0, le=1, description="How far a balance may exceed its limit before a warning."
    )
    reciprocity: bool = Field(default=False, description="Only members that furnish data may query.")
    rate_limit_per_minute: int = Field(default=6_000, ge=1, description="API calls per member per minute.")
    jurisdiction: str = Field(default="CN", pattern="^(CN|US)$",
                              description="Jurisdiction profile (docs/consent.md): CN or US.")

    @field_validator("pii_key", "index_key", "audit_key", "audit_signing_key")
    @classmethod
    def _key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                raw = base64.b64decode(value.get_secret_value(), validate=True)
            except ValueError as exc:
                raise ValueError("must be base64") from exc
            if len(raw) != 32:
                raise ValueError("must decode to 32 bytes")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``bureau.db`` in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bureau.db').resolve()}"

    @property
    def resolved_audit_checkpoint_dir(self) -> Path:
        """Where the audit checkpoints go: the configured directory, else the data directory."""
        return self.audit_checkpoint_dir or self.data_dir

    @property
    def submissions_dir(self) -> Path:
        """Where received files are kept, content-addressed."""
        return self.data_dir / "submissions"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
