"""SQLite: the embedded default (WAL, one file in the data directory, one writer at a time)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from sqlalchemy import ColumnElement, Connection, Engine, FromClause, Table, bindparam, event, func
from sqlalchemy import create_engine as sa_create_engine

from openbureau.kit.dialects.base import REWRITE_CHUNK_ROWS, Dialect, IntakeBusy

CHECKPOINT_MODES = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")


def _lock_file(engine: Engine) -> Path:
    return Path(f"{engine.url.database}.intake-lock")


def _on_disk(engine: Engine) -> bool:
    return engine.url.database not in (None, "", ":memory:")


class WriteTurns:
    """Turns at SQLite's one write lock between the processes of one database, through a file lock beside it.

    SQLite has no queue for its write lock: a writer refused at ``BEGIN`` retries later, and a long job that
    takes the lock again a millisecond after each of its transactions wins it nearly every time against an
    inquiry log that retries only when its event loop is free. So a refused writer holds a shared lock on
    ``<database>.write-turn`` until it has written (:meth:`ask`, :meth:`end`); the job, between two of its
    transactions, tries the same file's exclusive lock, which it gets at once when nobody asked, and otherwise
    waits until the writers that asked have written, at most ``wait`` seconds (a stalled server never stops a
    load). The operating system drops the locks of a process that dies.
    """

    def __init__(self) -> None:
        self._asking: dict[tuple[int, str], int] = {}  # (pid, database) -> descriptor holding the shared lock
        self._giving: dict[tuple[int, str], int] = {}  # (pid, database) -> descriptor of the job's side

    @staticmethod
    def _open(database: str) -> int:
        return os.open(f"{database}.write-turn", os.O_RDWR | os.O_CREAT, 0o600)

    def ask(self, database: str) -> None:
        key = (os.getpid(), database)
        fd = self._asking.get(key)
        if fd is None:
            fd = self._asking[key] = self._open(database)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # the job is looking at that moment: the next refusal asks again
            pass

    def end(self, database: str) -> None:
        fd = self._asking.get((os.getpid(), database))
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def give(self, database: str, wait: float) -> float:
        """Let the writers that asked write first; the seconds waited for them."""
        key = (os.getpid(), database)
        fd = self._giving.get(key)
        if fd is None:
            fd = self._giving[key] = self._open(database)
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() - started >= wait:
                    return time.monotonic() - started
                time.sleep(0.0005)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return time.monotonic() - started


class SqliteDialect(Dialect):
    """executemany on the raw driver, a file lock for the intake, WAL checkpoints, rewrites by trigger-kept copy."""

    name = "sqlite"
    batch_migrations = True
    background_checkpoints = True
    writer_pause = 0.001  # one writer at a time: a long job lets the inquiry log in between its transactions
    # A long job empties the write-ahead log between two of its transactions once the log has grown past this
    # (64 MiB: 16,384 pages of 4 KiB), waiting at most ``log_truncate_wait`` seconds for the readers of the
    # moment, and after a failed try leaves it for ``log_truncate_backoff`` seconds.
    turn_wait = 0.05  # see WriteTurns and Settings.write_turn_wait
    log_limit_bytes = 64 << 20
    log_truncate_wait = 0.1
    log_truncate_backoff = 1.0

    def __init__(self) -> None:
        self._next_truncate: dict[str, float] = {}  # database file -> monotonic time of the next allowed try
        self.turns = WriteTurns()

    def ask_turn(self, engine: Engine) -> None:
        if _on_disk(engine):
            self.turns.ask(engine.url.database)

    def end_turn(self, engine: Engine) -> None:
        if _on_disk(engine):
            self.turns.end(engine.url.database)

    def between_writes(self, engine: Engine) -> None:
        """Let the inquiry log in (first the writers that asked for the turn, :class:`WriteTurns`), then bound
        the log: a commit's automatic checkpoint copies the log back
        but never empties it while inquiries keep reading (the log restarts only when no reader is in it),
        and a million-record load grew it by 3.7 GB. Between the job's transactions no write is open, so
        ``TRUNCATE`` copies the rest and empties the log once the readers of the moment finish."""
        super().between_writes(engine)
        if not _on_disk(engine):
            return
        database = engine.url.database
        if self.turn_wait:
            self.turns.give(database, self.turn_wait)
        if time.monotonic() < self._next_truncate.get(database, 0.0):
            return
        try:
            size = os.stat(f"{database}-wal").st_size
        except FileNotFoundError:
            return
        if size >= self.log_limit_bytes:
            busy, _, _ = self.checkpoint(engine, mode="TRUNCATE", wait=self.log_truncate_wait)
            if busy:
                self._next_truncate[database] = time.monotonic() + self.log_truncate_backoff

    def create_engine(self, url: str, *, busy_timeout: float, autocheckpoint: bool, pool_size: int) -> Engine:
        # A pool as large as the number of sessions a serving process holds at once (requests waiting for
        # their group commit keep theirs open): a connection opened past the pool is closed after use, and
        # opening one (with its pragmas) costs more than the request. Last in, first out: each connection
        # has its own page cache, and a serving loop reads through one connection at a time, so reusing
        # the one just returned keeps its cache warm.
        engine = sa_create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False},
                                  pool_size=pool_size, max_overflow=32, pool_use_lifo=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns (WAL with NORMAL may lose the last commits on a
            # power cut), so a logged inquiry or a loaded file survives one. Loads commit once per file
            # and inquiries commit in groups, so the extra fsync costs little.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            if not autocheckpoint:
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache
            # Read pages through a memory map (as far as the library allows, 2 GiB by default): a page read is
            # then a memory access instead of a system call, which halved a person's file read on 1M persons.
            cursor.execute("PRAGMA mmap_size=1099511627776")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:
            # A writer announces itself up front (BEGIN IMMEDIATE) so that two writers queue on the
            # busy timeout instead of one failing when it upgrades a read lock.
            mode = connection.get_execution_options().get("sqlite_begin", "BEGIN")
            connection.connection.dbapi_connection.execute(mode)  # straight to the driver: once per transaction

        return engine

    def writer_engine(self, engine: Engine) -> Engine:
        """One connection on the same file that fails at once with "database is locked" (``kit.db.lock_busy``)
        instead of sleeping in the driver, and leaves checkpoints to a ``kit.db.Checkpointer``."""
        return self.create_engine(engine.url.render_as_string(hide_password=False), busy_timeout=0,
                                  autocheckpoint=False, pool_size=1)

    def checkpoint(self, engine: Engine, *, mode: str = "PASSIVE", wait: float | None = None
                   ) -> tuple[int, int, int]:
        """``PRAGMA wal_checkpoint``: ``PASSIVE`` without waiting for readers or writers; ``TRUNCATE`` all of
        the log, then empty the log file (waiting for readers, and holding new writers meanwhile, up to
        ``wait`` seconds when given, else the connection's busy timeout)."""
        if mode not in CHECKPOINT_MODES:
            raise ValueError(f"no checkpoint mode {mode!r}")
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            if wait is None:
                return raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            # Tried again every half millisecond rather than through the busy handler: its sleeps grow to
            # 100 ms, and under steady reads a third of its tries gave up after 0.1 s, where every one of
            # these succeeded. Between two tries the write lock is free for the inquiry log.
            previous = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute("PRAGMA busy_timeout=0")
            deadline = time.monotonic() + wait
            try:
                while True:
                    busy, frames, copied = raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
                    if not busy or time.monotonic() >= deadline:
                        return busy, frames, copied
                    time.sleep(0.0005)
            finally:
                raw.execute(f"PRAGMA busy_timeout={previous}")

    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        """executemany over the raw sqlite3 connection, inside the caller's transaction."""
        if frame.height == 0:
            return
        name, cols = self._quoted(conn, table, frame.columns)
        marks = ", ".join("?" * frame.width)
        # Dates and times go in as the text SQLAlchemy's Date and DateTime types store on SQLite.
        frame = frame.with_columns(
            pl.col(pl.Date).dt.to_string("%Y-%m-%d"),
            pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            .dt.to_string("%Y-%m-%d %H:%M:%S.%6f"),
        )
        raw = conn.connection.driver_connection
        raw.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", frame.iter_rows())  # noqa: S608

    def key_list(self, columns: Sequence[ColumnElement], name: str) -> tuple[FromClause, list[ColumnElement]]:
        """``json_each`` of one JSON array of keys: ``json_each(:keys) AS keys``, each key column read with
        ``json_extract`` (numbers as integers, strings as text), which SQLite loops over while it searches the
        table's key (a row-value ``IN`` of a subquery would search the key's first column only)."""
        keys = func.json_each(bindparam(name)).table_valued("value").alias(name)
        return keys, [func.json_extract(keys.c.value, f"$[{i}]", type_=column.type)
                      for i, column in enumerate(columns)]

    def key_list_params(self, keys: Sequence[tuple], name: str, width: int) -> dict[str, object]:
        return {name: json.dumps([list(k) for k in keys])}

    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        """Nothing: SQLite plans without statistics on index-first rules. They suit the bureau's queries but one
        shape, a lender's rows of one person, where the primary key's leading column would win over the person's
        index; that condition is written so that no index answers it (``accounts.repository.of_furnisher``)."""

    def transaction_lock(self, conn: Connection, key: int) -> None:
        """Nothing: a write transaction holds SQLite's only write lock already."""

    def sync_sequence(self, conn: Connection, table: str, column: str) -> None:
        """Nothing: an integer primary key takes the next value after the highest stored."""

    @contextmanager
    def intake_lock(self, engine: Engine) -> Iterator[None]:
        """An advisory file lock beside the database file (dropped by the system when its holder dies)."""
        fd = os.open(_lock_file(engine), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def lock_intake(self, conn: Connection) -> None:
        """A write transaction already excludes a load's next step, and must not wait for a load (the load
        would wait for this transaction's write lock in turn): when a load is running, :class:`IntakeBusy`."""
        if conn.engine.url.database in (None, "", ":memory:"):
            return
        fd = os.open(_lock_file(conn.engine), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IntakeBusy("a file is being loaded; try again when the load has finished") from exc
        finally:
            os.close(fd)

    def try_lock_intake(self, conn: Connection) -> bool:
        """Whether no load is running. A write transaction (``BEGIN IMMEDIATE``) needs no more: a load that
        starts after this check waits for the transaction's commit before it numbers anything."""
        try:
            self.lock_intake(conn)
        except IntakeBusy:
            return False
        return True

    # -- online rewrite (``Dialect.cluster``) -----------------------------------------------------------
    # SQLite cannot rename an index, so the copy's indexes carry the other of two names (``<name>`` and
    # ``<name>_r``); each rewrite moves them to the other one. Nothing refers to these indexes by name.
    # The replaced table is renamed ``<table>_retired`` in the swap and emptied afterwards in short
    # transactions: dropping a large table at once would walk every page of it under the write lock.

    @staticmethod
    def _other_name(index: str) -> str:
        return index[:-2] if index.endswith("_r") else f"{index}_r"

    def _drop_rewrite(self, engine: Engine, name: str, copy: str) -> None:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            for trigger in ("insert", "update", "delete"):
                raw.execute(f"DROP TRIGGER IF EXISTS {copy}_{trigger}")
        self._empty(engine, copy)  # a large table is emptied in short transactions before it is dropped
        self._empty(engine, f"{name}_retired")

    def _begin_rewrite(self, conn: Connection, table: Table, copy: str) -> None:
        raw, name = conn.connection.driver_connection, table.name
        definition = raw.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        raw.execute(f"CREATE TABLE {copy} ({definition[0].split('(', 1)[1]}")
        # Every index now: rows then go into them in the copy's order, a short transaction at a time.
        for index, sql in raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                      "AND sql IS NOT NULL", (name,)).fetchall():
            head, rest = sql.split(" ON ", 1)
            rest = re.sub(rf'^"?{name}"?', copy, rest.lstrip())
            raw.execute(f"{head.replace(index, self._other_name(index))} ON {rest}")
        columns = [c.name for c in table.columns]
        key = " AND ".join(f"{c.name} = OLD.{c.name}" for c in table.primary_key.columns)
        # Names from the table's metadata, never from input.
        upsert = (f"INSERT OR REPLACE INTO {copy} ({', '.join(columns)}) "  # noqa: S608
                  f"VALUES ({', '.join('NEW.' + c for c in columns)})")
        delete = f"DELETE FROM {copy} WHERE {key}"  # noqa: S608
        raw.execute(f"CREATE TRIGGER {copy}_insert AFTER INSERT ON {name} BEGIN {upsert}; END")
        raw.execute(f"CREATE TRIGGER {copy}_update AFTER UPDATE ON {name} BEGIN {delete}; {upsert}; END")
        raw.execute(f"CREATE TRIGGER {copy}_delete AFTER DELETE ON {name} BEGIN {delete}; END")

    def _copy_range(self, conn: Connection, table: Table, copy: str, *, column: str, start: int, stop: int,
                    order_by: Sequence[str]) -> int:
        columns = ", ".join(c.name for c in table.columns)
        return conn.connection.driver_connection.execute(
            f"INSERT OR IGNORE INTO {copy} ({columns}) SELECT {columns} FROM {table.name} "  # noqa: S608
            f"WHERE {column} >= ? AND {column} < ? ORDER BY {', '.join(order_by)}", (start, stop)).rowcount

    def _swap(self, engine: Engine, name: str, copy: str) -> None:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            for trigger in ("insert", "update", "delete"):
                raw.execute(f"DROP TRIGGER {copy}_{trigger}")
            raw.execute(f"ALTER TABLE {name} RENAME TO {name}_retired")
            raw.execute(f"ALTER TABLE {copy} RENAME TO {name}")

    def _retire(self, engine: Engine, table: Table) -> None:
        self._empty(engine, f"{table.name}_retired")

    def _empty(self, engine: Engine, retired: str) -> None:
        """Delete a table's rows in short transactions, then drop it (empty, at once); nothing if it is not
        there."""
        with engine.connect() as conn:
            if not conn.connection.driver_connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (retired,)).fetchone():
                return
        while True:
            with engine.begin() as conn:
                raw = conn.connection.driver_connection
                deleted = raw.execute(f"DELETE FROM {retired} WHERE rowid IN "  # noqa: S608
                                      f"(SELECT rowid FROM {retired} LIMIT {REWRITE_CHUNK_ROWS})").rowcount
                if deleted == 0:
                    raw.execute(f"DROP TABLE {retired}")
                    return
