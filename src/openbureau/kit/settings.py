"""Validated settings, read from the environment with the prefix ``OPENBUREAU_``."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbureau.kit.spark import SparkOptions

# How far a balance may exceed its limit before intake warns: the setting's default and the policy's.
DEFAULT_BALANCE_TOLERANCE = 0.10


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
    signin_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: keys the hashes of sign-in codes and documents (HMAC-SHA256). "
        "When unset, one is created in the data directory's key file.",
    )
    operator_console: bool = Field(
        default=False,
        description="Serve the operator's web pages (/operator): off unless asked for; `openbureau serve "
        "--operator-console` sets it and listens on the loopback address only (docs/portal.md).",
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
    pg_partitions: int = Field(
        default=0, ge=0, le=1024,
        description="PostgreSQL only: hash partitions of the account states by person (account_states_p0, ...), "
        "made by the migration that creates the table's partitioned form (0028, also on a populated store, "
        "whose rows it copies); 0 keeps one plain table. Read when that migration runs: to change it later, "
        "migrate down to 0027 and up again. docs/scaling.md",
    )
    chunk_size: int = Field(default=100_000, ge=1_000, le=2_000_000, description="Records per intake chunk.")
    parallel_load_min_bytes: int = Field(
        default=16 * 2**20, ge=0,
        description="Files at least this large are validated and linked in a second process while the "
        "first one writes (both cores busy); smaller ones in a thread, without the process start-up cost.",
    )
    load_niceness: int = Field(
        default=10, ge=0, le=19,
        description="CPU niceness of a load's preparing process (validation, linking, encryption): the "
        "machine's cores go to inquiries first and the load takes what they leave. 0 gives the load the "
        "serving processes' priority. The writing process keeps its own priority (it holds the write lock).",
    )
    load_work_share: float = Field(
        default=1.0, gt=0, le=1,
        description="The share of the time a long job (a load, a consent import, a retention run, a rewrite "
        "of the account states) may be busy: between two of its write transactions it rests so that its work "
        "stays at this share (0.25: a quarter of the time, and the job takes up to four times as long). 1: it never "
        "rests. On a machine whose cores the serving processes need, a share below 1 keeps inquiries as fast "
        "during a load as on an idle bureau. docs/events.md",
    )
    load_latency_target_ms: float = Field(
        default=50, ge=0, le=60_000,
        description="Milliseconds: when above 0, a long job's share of the time follows the inquiries instead of "
        "staying fixed: it halves while the p99 of the inquiries the serving processes answered in the last second "
        "is above this figure and grows again while it is below three quarters of it, between 0.05 and "
        "load_work_share (the serving processes publish their latency in <data dir>/serving-latency, so the job "
        "and the servers must share the data directory; with no server publishing, the job runs at load_work_share). "
        "0: the fixed share. docs/events.md",
    )
    write_turn_wait: float = Field(
        default=0.05, ge=0, le=1,
        description="SQLite: seconds a long job (a load, a consent import, a retention run) waits between two of "
        "its write transactions for the inquiry logs that asked for the write lock to have written. 0: the job "
        "takes the lock back at once and the inquiry logs catch it when they can.",
    )
    max_file_bytes: int = Field(
        default=2 * 2**30, ge=1, description="Largest furnishing file accepted, in bytes (refused as it arrives)."
    )
    max_decompressed_bytes: int = Field(
        default=4 * 2**30, ge=1,
        description="Largest uncompressed size a Parquet file may declare in its footer (checked before any "
        "data is read).",
    )
    max_value_chars: int = Field(
        default=1_000, ge=64, le=1_000_000,
        description="Longest value of any one field; a record with a longer one is rejected (VALUE_TOO_LONG).",
    )
    max_columns: int = Field(default=256, ge=26, le=100_000, description="Most columns a furnishing file may have.")
    findings_sample_per_code: int = Field(
        default=1_000, ge=1,
        description="Findings stored per file and code; every finding is counted, only this many are kept.",
    )
    kept_file_days: int = Field(
        default=90, ge=0,
        description="Days a received file is kept (encrypted) after its load; `openbureau retention run` "
        "purges it then.",
    )
    session_record_days: int = Field(
        default=30, ge=1, le=3650,
        description="Days the rows of ended sign-in sessions (persons' and consoles') and sign-in challenges are "
        "kept, for looking into a misused session; `openbureau retention run` deletes them then (the audit log "
        "keeps every sign-in).",
    )
    balance_tolerance: float = Field(
        default=DEFAULT_BALANCE_TOLERANCE, ge=0, le=1,
        description="How far a balance may exceed its limit before a warning (the policy's balance_tolerance)."
    )
    reciprocity: bool = Field(default=False, description="Only members that furnish data may query.")
    rate_limit_per_minute: int = Field(default=6_000, ge=1, description="API calls per member per minute.")
    api_key_cache_seconds: float = Field(
        default=2.0, ge=0, le=60,
        description="How long a serving process remembers an API key it authenticated; a revoked key is refused "
        "by every process at most this long after the revocation. 0: look the key up on every call.")
    auth_failures_per_minute: int = Field(
        default=60, ge=1,
        description="Requests with a missing or wrong API key per client address per minute; past it, 429.")
    rate_limit_table_size: int = Field(
        default=100_000, ge=100, le=10_000_000,
        description="Most buckets (members and client addresses) one serving process keeps; the idlest go first.")
    redis_url: SecretStr | None = Field(
        default=None,
        description="redis://host:6379/0: share rate limits across serving processes and machines; "
        "unset: each process counts alone.")
    redis_key_prefix: str = Field(default="openbureau:", min_length=1, max_length=100,
                                  description="Prefix of the bureau's keys in Redis.")
    max_upload_bytes: int = Field(default=2 * 2**30, ge=1, description="Largest file upload (submissions, "
                                  "consent imports); past it, 413.")
    max_json_bytes: int = Field(default=2**20, ge=1, description="Largest body of any other request; past it, 413.")
    max_form_bytes: int = Field(default=16 * 2**10, ge=1, description="Largest form posted to a portal page "
                                "(sign-in, disputes, protections); past it, 413.")
    max_event_batch_bytes: int = Field(default=16 * 2**20, ge=1, description="Largest batch of lending events "
                                       "(POST /v1/events, up to 10,000 events); past it, 413.")
    body_idle_timeout_seconds: float = Field(
        default=15, gt=0, le=600, description="Longest wait for the next chunk of a request body; past it, 408.")
    body_timeout_seconds: float = Field(
        default=30, gt=0, le=3600, description="Longest time to receive a JSON request body; past it, 408.")
    upload_timeout_seconds: float = Field(
        default=1800, gt=0, le=86_400, description="Longest time to receive an uploaded file; past it, 408.")
    keep_alive_seconds: int = Field(default=5, ge=1, le=300,
                                    description="How long the server keeps an idle connection open.")
    max_concurrency: int = Field(default=1000, ge=1, description="Connections and requests one serving "
                                 "process takes at once; past it, 503.")
    jurisdiction: str = Field(default="CN", pattern="^(CN|US)$",
                              description="Jurisdiction profile (docs/consent.md): CN or US.")
    export_max_bytes: int = Field(default=8 * 2**20, ge=1, description="Largest export of a person's data served "
                                  "by GET /v1/me/export; past it 413 EXPORT_TOO_LARGE (the counter's "
                                  "`openbureau people export` writes any size).")
    signins_per_minute: int = Field(default=20, ge=1, description="Sign-in requests (codes asked for and "
                                    "codes entered) per client address per minute; past it, 429.")
    published_per_minute: int = Field(default=60, ge=1, description="Requests for a published page (the "
                                      "transparency report) per client address per minute; past it, 429.")
    notify_channel: str = Field(default="file", pattern="^(file|smtp|sms)$",
                                description="How notifications reach people: file (a folder, the demo), smtp "
                                "or sms (an HTTP gateway). docs/rights.md")
    notify_dir: Path | None = Field(default=None, description="The file channel's folder (default: "
                                    "notifications/ in the data directory).")
    notify_max_attempts: int = Field(default=8, ge=1, le=100, description="Delivery attempts before a "
                                     "notification is given up.")
    notify_retry_seconds: float = Field(default=30, gt=0, le=86_400, description="Wait before the first retry; "
                                        "doubled after each failure, at most an hour.")
    smtp_host: str | None = Field(default=None, max_length=255, description="SMTP server of the smtp channel.")
    smtp_port: int = Field(default=25, ge=1, le=65_535, description="Its port (587 with STARTTLS).")
    smtp_sender: str | None = Field(default=None, max_length=255, description="The From address.")
    smtp_username: str | None = Field(default=None, max_length=255, description="Login, when the server asks.")
    smtp_password: SecretStr | None = Field(default=None, description="Password of the login.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_sms_domain: str | None = Field(default=None, max_length=255, description="E-mail-to-SMS gateway domain: "
                                        "a phone is mailed at <digits>@<domain>.")
    sms_webhook_url: str | None = Field(default=None, max_length=2000, description="The sms channel's gateway: "
                                        "POST JSON {id, to, kind, text}.")
    sms_webhook_token: SecretStr | None = Field(default=None, description="Bearer token sent to the gateway.")
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60, description="Time a lender's webhook endpoint "
                                           "has to answer a delivery (connect, send, answer). docs/monitoring.md")
    webhook_deadline_seconds: float | None = Field(default=None, gt=0, le=300, description="Time one webhook "
        "attempt may take in all (connect, send, the answer's status and headers), however its receiver paces it; "
        "unset: twice webhook_timeout_seconds.")
    webhook_concurrency: int = Field(default=64, ge=1, le=256, description="Deliveries a webhook worker makes at "
                                     "once.")
    webhook_endpoint_concurrency: int = Field(default=32, ge=1, le=256, description="Deliveries a webhook worker "
                                              "makes at once to one endpoint (each about another registration; "
                                              "fewer than webhook_concurrency).")
    webhook_lease_seconds: float = Field(default=60, gt=0, le=3_600, description="How long a claimed delivery is "
                                         "left to its worker before another may take it (a killed worker's).")
    webhook_retry_seconds: float = Field(default=30, gt=0, le=3_600, description="Base of the retry backoff: "
                                         "doubled after each failure, at most an hour, with full jitter.")
    webhook_allow_loopback: bool = Field(default=False, description="Accept http:// endpoints on the loopback "
                                         "address (tests and development only).")
    webhooks_in_process: bool = Field(default=True, description="`openbureau serve` delivers webhooks itself on "
                                      "the embedded default (SQLite); with PostgreSQL run `openbureau webhooks run`.")
    event_gather_ms: float = Field(default=0, ge=0, le=1_000, description="How long a serving process waits "
                                   "before it takes in a furnisher's batch of lending events, gathering the "
                                   "batches that arrive meanwhile into one: fewer, larger write transactions "
                                   "for platforms that post many batches a second; each call waits as long. "
                                   "0: at once. docs/events.md")
    event_intake_process: bool = Field(default=True, description="`openbureau serve` takes in each serving "
                                       "process's lending events in processes of their own, so that their work "
                                       "does not share the inquiries' interpreter lock: one judges each batch, "
                                       "one writes it. docs/events.md")
    event_niceness: int = Field(default=10, ge=0, le=19, description="CPU niceness of the process that judges "
                                "each batch of lending events (validation, sealing, linking, the consent gate: "
                                "most of a batch's work), as a load's preparing process: the cores go to "
                                "inquiries first. The process that writes the batch keeps the serving "
                                "processes' priority (on SQLite it holds the write lock). docs/events.md")
    load_process: bool = Field(default=True, description="`openbureau serve` loads the files furnished through "
                               "the API (POST /v1/submissions) in a process of its own, started with the server, "
                               "so that a load neither shares the inquiries' interpreter lock nor pays its "
                               "imports when it starts. docs/intake.md")

    batch_max_bytes: int = Field(default=1 * 2**30, ge=1, description="Largest file of a batch inquiry "
                                 "(POST /v1/inquiries/batches); past it, 413. docs/batch.md")
    batch_max_rows: int = Field(default=5_000_000, ge=1, le=100_000_000, description="Most rows of one batch "
                                "inquiry file; past it, 413 BATCH_TOO_MANY_ROWS.")
    batch_chunk_rows: int = Field(default=1_000, ge=1, le=100_000, description="Rows a batch job answers and "
                                  "commits at once: a killed job resumes after its last committed chunk.")
    batch_lease_seconds: float = Field(default=300, gt=0, le=86_400, description="How long a batch job is left "
                                       "to its worker after each chunk before another may take it over.")
    batches_in_process: bool = Field(default=True, description="`openbureau serve` runs batch inquiries itself "
                                     "on the embedded default (SQLite); with PostgreSQL run `openbureau inquiries "
                                     "batch run`.")
    batch_engine: str = Field(default="duckdb", pattern="^(duckdb|spark)$", description="Where the batch jobs "
                              "run: `duckdb` (in memory, this machine) or `spark` (the Spark master below); the "
                              "commands' `--engine` overrides it. docs/scaling.md")
    spark_master: str = Field(default="local[2]", min_length=1, max_length=500, description="Spark master URL of "
                              "the Spark batch path: `local[N]` (N cores of this machine), `spark://host:7077`, "
                              "`k8s://https://host:443`, `yarn`.")
    spark_shuffle_partitions: int = Field(default=8, ge=1, le=100_000, description="Partitions of Spark's "
                                          "shuffles (spark.sql.shuffle.partitions): about 2-3 per executor core.")
    spark_local_dir: Path | None = Field(default=None, description="Where the Spark driver makes its private "
                                         "scratch folder (removed after each job; default: the system's temp "
                                         "folder). Shuffle and spill files in it are encrypted.")
    spark_driver_memory: str | None = Field(default=None, pattern="^[0-9]+[kmgt]?$", description="Memory of the "
                                            "Spark driver (spark.driver.memory, e.g. `4g`); default: half the machine's "
                                            "memory in local mode, else Spark's.")

    @field_validator("pii_key", "index_key", "audit_key", "audit_signing_key", "signin_key")
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

    def spark_options(self) -> SparkOptions:
        """How the Spark batch path starts its session (kit/spark.py)."""
        return SparkOptions(master=self.spark_master, shuffle_partitions=self.spark_shuffle_partitions,
                            local_dir=self.spark_local_dir, driver_memory=self.spark_driver_memory)

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
    def resolved_notify_dir(self) -> Path:
        """The file channel's folder: the configured one, else ``notifications/`` in the data directory."""
        return self.notify_dir or self.data_dir / "notifications"

    @property
    def serving_latency_dir(self) -> Path:
        """Where serving processes publish their recent inquiry latency (``kit.pacing.LatencyBoard``)."""
        return self.data_dir / "serving-latency"

    @property
    def submissions_dir(self) -> Path:
        """Where received files are kept, content-addressed."""
        return self.data_dir / "submissions"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
