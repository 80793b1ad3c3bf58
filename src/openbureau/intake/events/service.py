"""Rules of the event intake: validate a batch of lending events, gate it on consent, link it to persons,
encrypt it and store it in one short transaction, idempotently (a furnisher's event id). The batch is judged
against what is committed before that transaction takes the write lock (docs/events.md, "Writes never block
reads"), so that on SQLite the inquiries' log entries wait for its writes only.

An event is visible to every lawful inquiry as soon as its batch commits. A batch never waits for a load:
when a file is loading (it holds the intake lock and numbers new persons), events about a subject the
bureau has no published person for are stored under no person and found by their subject
(``accounts.event_repository``); the next batch that finds no load running numbers persons for them and
files them, and a load files those whose person it created when it publishes.

Example:
    >>> result = receive_events(engine, vault=vault, profile=policy.profile, furnisher=member,
    ...                         batch=frame, now=datetime.now(UTC))  # doctest: +SKIP
    >>> result.stored, result.duplicates, result.rejected  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import ColumnElement, Connection, Engine, Select, select

from openbureau.accounts.event_repository import EventRepository
from openbureau.accounts.load_repository import AccountLoadRepository
from openbureau.accounts.repository import published_person
from openbureau.consent.profiles import JurisdictionProfile
from openbureau.identity.models import Person
from openbureau.identity.service import PersonLinker, next_person_id, seal_identities, sync_person_sequence
from openbureau.intake import negative_notices, quarantine
from openbureau.intake.events.standard import EVENTS
from openbureau.intake.events.validation import validate_events
from openbureau.intake.validation import FINDINGS_SCHEMA
from openbureau.intake.validation.engine import LINE, OUTCOME
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import duplicate_key, try_lock_intake
from openbureau.kit.dialects import dialect_for
from openbureau.members.models import Member
from openbureau.monitoring import triggers
from openbureau.principals import Action, Principal, authorize

_SEP = "\x1f"
PENDING_BATCH = 10_000  # unlinked subjects a batch files at most (the transaction stays short)
STORED_COLUMNS = ("event_id", "event_type", "occurred_at", "furnisher_account_id", "id_type", "product_type",
                  "currency", "amount", "term_months", "opened_on", "amount_due", "balance", "days_past_due",
                  "past_due_amount", "consent_ref")


@dataclass(slots=True)
class EventIntakeResult:
    """What a furnisher is told about a batch of events: counts, every finding, each event's outcome."""

    received: int = 0
    stored: int = 0  # new events stored (with or without warnings), held ones included
    warnings: int = 0
    duplicates: int = 0  # resent events already stored: acknowledged, not stored again
    rejected: int = 0
    held: int = 0  # stored without a consent to furnish: kept and counted, in no file until it arrives
    unlinked: int = 0  # stored under no person yet (a load was running)
    findings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FINDINGS_SCHEMA))
    outcomes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"line": pl.Int64, "event_id": pl.String, "outcome": pl.String, "warned": pl.Boolean,
                "unlinked": pl.Boolean}))

    received_at: datetime | None = None  # the moment the batch was judged against and stored at

    @classmethod
    def of_lines(cls, outcomes: pl.DataFrame, findings: pl.DataFrame, *, received_at: datetime | None
                 ) -> EventIntakeResult:
        """The figures of a batch from its events' outcomes (``line``, ``event_id``, ``outcome``, and the flags
        ``warned``: stored with warnings, ``unlinked``: stored under no person) and its findings."""
        kind = outcomes["outcome"]
        rejected, duplicates = int((kind == "rejected").sum()), int((kind == "duplicate").sum())
        return cls(received=outcomes.height, stored=outcomes.height - rejected - duplicates,
                   warnings=int(outcomes["warned"].sum()), duplicates=duplicates, rejected=rejected,
                   held=int((kind == "held").sum()), unlinked=int(outcomes["unlinked"].sum()),
                   findings=findings.cast(FINDINGS_SCHEMA), outcomes=outcomes, received_at=received_at)

    def lines(self, first: int, count: int) -> EventIntakeResult:
        """The part of this result about lines ``first`` to ``first + count - 1``, numbered again from 1 (the
        answer to one of several batches received as one: ``intake.events.gathering``)."""
        def part(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("line").is_between(first, first + count - 1)).with_columns(
                pl.col("line") - (first - 1))
        return EventIntakeResult.of_lines(part(self.outcomes), part(self.findings), received_at=self.received_at)

    def add(self, other: EventIntakeResult) -> None:
        """Add another batch's figures (a file's chunks); outcomes are not kept across chunks."""
        for name in ("received", "stored", "warnings", "duplicates", "rejected", "held", "unlinked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _writing(engine: Engine) -> Engine:
    return engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")


def _digests(vault: PiiVault, events: pl.DataFrame) -> pl.Series:
    """A keyed digest of each event's content as typed (a moment in any offset is the same moment)."""
    text = events.select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in EVENTS.columns
                                        if c != "event_id"], separator=_SEP)).to_series()
    return pl.Series("digest", vault.blind_indexes(text.to_list(), domain="event"), dtype=pl.Binary)


def _reused_findings(reused: pl.DataFrame) -> pl.DataFrame:
    return reused.select(
        pl.col(LINE).alias("line"), "furnisher_account_id", pl.lit("event_id").alias("field"),
        pl.lit("EVENT_ID_REUSED").alias("code"), pl.lit("error").alias("severity"), pl.col("event_id").alias("value"),
        pl.format("event_id '{}' was stored before for a different event; send a new id for a new event.",
                  pl.col("event_id")).alias("message"),
    ).cast(FINDINGS_SCHEMA)


@dataclass(slots=True)
class _Read:
    """What reading the committed bureau found of a batch's valid events: the new ones (``kept``) with their
    persons (``links``) and whether each may be furnished (``consented``); the lines of those stored before
    (``duplicates``) and the findings of reused event ids."""

    kept: pl.DataFrame
    duplicates: pl.DataFrame
    reused: pl.DataFrame
    links: pl.DataFrame
    consented: pl.Series


@dataclass(slots=True)
class JudgedBatch:
    """A batch validated, sealed and judged against what is committed, ready for its write transaction
    (:func:`store_judged`); handed whole from the process that judges to the process that writes
    (``api.event_process``) through a pipe between the two, never written anywhere: beside their sealed
    columns it carries the events as sent."""

    furnisher_id: int
    now: datetime
    outcomes: pl.DataFrame  # every event's line, id and validation outcome
    findings: pl.DataFrame  # the validation's findings
    sealed: pl.DataFrame  # the valid events, digested and sealed
    read: _Read


def judge_events(engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile, furnisher: Member,
                 batch: pl.DataFrame, now: datetime | None = None, seen: dict[str, int] | None = None
                 ) -> JudgedBatch:
    """Validate, seal and judge a batch of ``furnisher``'s events (see :func:`receive_events`): every step
    that takes no write lock, most of a batch's work."""
    authorize(Principal.of_member(furnisher), Action.SUBMIT_FILE)
    now = now or datetime.now(UTC)
    checked = validate_events(batch, now=now, seen=seen, phone_plan=profile.phone_plan)
    sealed = checked.records.filter(pl.col(OUTCOME) != "rejected")
    sealed = sealed.with_columns(
        _digests(vault, sealed),
        pl.Series("id_enc", vault.encrypt_many(sealed["id_number"].to_list()), dtype=pl.Binary),
        seal_identities(vault, sealed))
    outcomes = checked.records.select(LINE, "event_id", OUTCOME)
    return JudgedBatch(furnisher_id=furnisher.id, now=now, outcomes=outcomes, findings=checked.findings,
                       sealed=sealed, read=_read(engine, vault=vault, profile=profile, furnisher=furnisher,
                                                 kept=sealed, now=now))


def store_judged(engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile, furnisher: Member,
                 judged: JudgedBatch, submission_id: int | None = None) -> EventIntakeResult:
    """Store a judged batch in one write transaction: what :func:`receive_events` does after judging."""
    authorize(Principal.of_member(furnisher), Action.SUBMIT_FILE)
    if judged.furnisher_id != furnisher.id:
        raise ValueError(f"a batch judged for furnisher {judged.furnisher_id} cannot be stored as {furnisher.id}'s")
    read, now = judged.read, judged.now
    for attempt in (1, 2):
        try:
            read, rows = _write(engine, vault=vault, profile=profile, furnisher=furnisher, read=read, now=now,
                                submission_id=submission_id)
            break
        except Exception as error:  # the driver's own error, from a bulk write (see duplicate_key)
            # Another batch stored one of these event ids after they were judged: read again, it is a duplicate.
            if attempt == 2 or not duplicate_key(error):
                raise
            read = _read(engine, vault=vault, profile=profile, furnisher=furnisher, kept=judged.sealed, now=now)
    # Each event's outcome in one query (a small batch's cost is mostly the number of frame operations).
    stored_lines = read.kept[LINE]
    line = pl.col("line")
    outcome = judged.outcomes.lazy().select(
        pl.col(LINE).alias("line"), "event_id", pl.col(OUTCOME).alias("outcome"),
    ).with_columns(
        pl.when(line.is_in(read.duplicates[LINE].implode())).then(pl.lit("duplicate"))
        .when(line.is_in(read.reused["line"].implode())).then(pl.lit("rejected"))
        .when(line.is_in(stored_lines.filter(~read.consented).implode())).then(pl.lit("held"))
        .otherwise(pl.col("outcome")).alias("outcome"),
        line.is_in(stored_lines.filter(rows["has_warnings"] == 1).implode()).alias("warned"),
        line.is_in(stored_lines.filter(read.links["person_id"].is_null()).implode()).alias("unlinked"),
    ).collect()
    return EventIntakeResult.of_lines(outcome, pl.concat([judged.findings, read.reused]), received_at=now)


def receive_events(engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile, furnisher: Member,
                   batch: pl.DataFrame, now: datetime | None = None, submission_id: int | None = None,
                   seen: dict[str, int] | None = None) -> EventIntakeResult:
    """Validate and store a batch of ``furnisher``'s events (``_line`` plus the event columns as text): judged
    (:func:`judge_events`), then stored (:func:`store_judged`). A server's intake does the two in two
    processes, the judging one at a lower CPU priority (``api.event_process``).

    Args:
        profile: The jurisdiction profile (whether furnishing needs the person's consent).
        now: When the batch was received (default: the clock); events are judged against it.
        submission_id: The event file the batch comes from, if any.
        seen: Event ids of the file's earlier chunks (duplicates within a file are found across chunks).
    """
    judged = judge_events(engine, vault=vault, profile=profile, furnisher=furnisher, batch=batch, now=now,
                          seen=seen)
    return store_judged(engine, vault=vault, profile=profile, furnisher=furnisher, judged=judged,
                        submission_id=submission_id)


def _read(engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile, furnisher: Member, kept: pl.DataFrame,
          now: datetime) -> _Read:
    """Judge the valid events ``kept`` (digested and sealed) against what is committed, on a connection that
    takes no write lock (on SQLite the one write lock every inquiry's log entry waits for): the duplicates, the
    published persons, the consents in force when the batch was received. Under the lock (:func:`_write`),
    only what this could not settle; an event id stored meanwhile by another batch fails the insert on the
    table's unique key, and the batch is read again."""
    duplicates = pl.DataFrame(schema={LINE: pl.Int64})
    reused = pl.DataFrame(schema=FINDINGS_SCHEMA)
    with engine.connect() as reading:
        stored = EventRepository(reading).stored(furnisher_id=furnisher.id, event_ids=kept["event_id"].to_list())
        if stored:
            known = pl.DataFrame({"event_id": list(stored), "_stored": list(stored.values())},
                                 schema={"event_id": pl.String, "_stored": pl.Binary})
            kept = kept.join(known, on="event_id", how="left", maintain_order="left")
            reused = _reused_findings(kept.filter(pl.col("_stored").is_not_null()
                                                  & (pl.col("_stored") != pl.col("digest"))))
            duplicates = kept.filter(pl.col("_stored") == pl.col("digest")).select(LINE)
            kept = kept.filter(pl.col("_stored").is_null()).drop("_stored")
        links, _ = PersonLinker(reading, vault=vault, first_new_id=None, now=now).link(kept)
        consented = _consented(reading, profile=profile, furnisher=furnisher, kept=kept, links=links, now=now)
    return _Read(kept=kept, duplicates=duplicates, reused=reused, links=links, consented=consented)


def _write(engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile, furnisher: Member, read: _Read,
           now: datetime, submission_id: int | None) -> tuple[_Read, pl.DataFrame]:
    """Store the events ``read`` found new in one write transaction; what was read, brought up to date under
    the lock, and the table rows written."""
    kept, links, consented = read.kept, read.links, read.consented
    with _writing(engine).begin() as conn:
        repo = EventRepository(conn)
        # Persons are numbered only when no load is running or was cut short (a load numbers its own, and a
        # cut one's are removed by the next load); otherwise subjects without a person wait, unlinked.
        numbering = try_lock_intake(conn) and not AccountLoadRepository(conn).loads_in_progress()
        unlinked = links["person_id"].is_null()
        if unlinked.any():  # no published person when judged: one may have been numbered since, or is now
            linker = PersonLinker(conn, vault=vault, first_new_id=next_person_id(conn) if numbering else None,
                                  now=now)
            relinked, persons = linker.link(kept.filter(unlinked))
            _add_persons(conn, persons)
            links = _patched(links, unlinked, relinked)
        held = ~consented
        if held.any():  # a consent to furnish may have arrived since (never one withdrawn: see _consented)
            again = _consented(conn, profile=profile, furnisher=furnisher, kept=kept.filter(held),
                               links=links.filter(held), now=now)
            consented = consented.clone().scatter(held.arg_true(), again)
        rows = kept.select(
            *STORED_COLUMNS,
            links["person_id"], links["id_index"],
            "id_enc", "identity_enc",
            "digest",
            (pl.col(OUTCOME) == "warning").cast(pl.Int16).alias("has_warnings"),
            pl.when(consented).then(None).otherwise(pl.lit(quarantine.NO_CONSENT)).alias("held_reason"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("released_at"),
            pl.lit(submission_id, dtype=pl.Int64).alias("submission_id"),
            pl.lit(now, dtype=pl.Datetime("us", "UTC")).alias("received_at"),
            pl.lit(furnisher.id, dtype=pl.Int64).alias("furnisher_id"),
        )
        # Contact details new to a monitored person's file, judged against what it carried before this batch.
        contacts = triggers.identity_causes(conn, vault, pl.concat([
            rows.select("person_id", "furnisher_id", "occurred_at", "held_reason"), kept.select("phone", "address")],
            how="horizontal").filter(pl.col("held_reason").is_null()).drop("held_reason"))
        repo.insert(rows)
        if numbering:
            file_unlinked(conn, vault=vault, now=now)
        # The person is told of each new negative item (late, written off) in the transaction that makes it
        # readable; held events wait for their release.
        in_files = rows.filter(pl.col("held_reason").is_null()).select(
            "furnisher_id", "event_id", "event_type", "days_past_due", "occurred_at", "person_id")
        late = negative_notices.new_event_items(conn, in_files)
        negative_notices.write(conn, negative_notices.event_item_notices(conn, late, vault=vault, profile=profile),
                               now=now)
        # ... and so is every other lender monitoring the person: a loan opened or applied for, a new delinquency,
        # a new phone or address.
        triggers.write(conn, pl.concat([triggers.event_causes(in_files),
                                        triggers.delinquency_causes(late, occurred_at=pl.col("occurred_at")),
                                        contacts]), now=now)
    return _Read(kept=kept, duplicates=read.duplicates, reused=read.reused, links=links, consented=consented), rows


def _consented(conn: Connection, *, profile: JurisdictionProfile, furnisher: Member, kept: pl.DataFrame,
               links: pl.DataFrame, now: datetime) -> pl.Series:
    """Whether each event's subject held a consent to furnish in force when the batch was received (``now``).

    Read before the write transaction: a consent withdrawn after ``now`` does not hold back an event received
    while it was in force (a withdrawal stops what is furnished from then on); a consent granted meanwhile is
    seen under the lock, where the events it would hold back are looked at again."""
    subjects = pl.concat([kept.select("id_type"), links.drop("person_id")], how="horizontal")
    return quarantine.consented(conn, profile=profile, furnisher_id=furnisher.id, subjects=subjects, moment=now)


def _patched(frame: pl.DataFrame, rows: pl.Series, values: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its ``rows`` (a mask) replaced by ``values`` (one row per true row, the same columns)."""
    at = rows.arg_true()
    return frame.with_columns(frame[c].clone().scatter(at, values[c]) for c in frame.columns)


def _add_persons(conn: Connection, persons: pl.DataFrame) -> None:
    """Store the persons a batch numbered; the planner sees them once they add up to a tenth of the table (a
    bureau's first furnishers may send events before any file)."""
    if persons.height:
        writer = dialect_for(conn)
        writer.insert(conn, Person.__table__, persons)
        sync_person_sequence(conn)
        writer.refresh_statistics(conn, Person.__table__, rows_written=persons.height)


def anchored_person(id_type: ColumnElement, id_index: ColumnElement) -> Select:
    """The published person whose anchor is (``id_type``, ``id_index``): a correlated query for linking."""
    return select(Person.id).where(Person.id_type == id_type, Person.id_index == id_index,
                                   published_person(Person.id)).limit(1)


def file_unlinked(conn: Connection, *, vault: PiiVault, now: datetime,
                  persons: Callable[[ColumnElement, ColumnElement], Select] = anchored_person) -> int:
    """File events stored under no person: number persons for their subjects where none exists (the caller
    holds the intake lock: no load is numbering), then link; how many events were filed."""
    repo = EventRepository(conn)
    pending = repo.unlinked_subjects(limit=PENDING_BATCH)
    if pending.height == 0:
        return 0
    subjects = pending.select("id_type", pl.Series("id_number", [vault.decrypt(t) for t in pending["id_enc"]],
                                                   dtype=pl.String))
    _, created = PersonLinker(conn, vault=vault, first_new_id=next_person_id(conn), now=now).link(subjects)
    _add_persons(conn, created)
    return repo.link_unlinked(persons, limit=PENDING_BATCH * 5)
