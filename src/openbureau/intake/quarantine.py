"""The consent gate: records without a consent to furnish are held in quarantine, not dropped, and are
released exactly once when the consent arrives.

At intake a record whose subject holds no consent in force for the furnisher (purpose ``furnish``) is
stored with ``held_reason = 'no_consent'``: kept and counted, but not in the person's file. Granting or
importing consents releases the subject's held records at once; ``openbureau consent release`` re-checks
every held record (for consents whose window has since begun). A release is an UPDATE guarded by
``held_reason IS NOT NULL``, so a record is released exactly once however many releases run at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, select
from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.accounts.event_repository import RELEASED_EVENT_SCHEMA
from openbureau.accounts.repository import RELEASED_SCHEMA
from openbureau.consent import service as consents
from openbureau.consent.models import Consent
from openbureau.consent.profiles import JurisdictionProfile, Purpose
from openbureau.consent.repository import subjects_in_force, valid_at
from openbureau.consent.schemas import ConsentCreate
from openbureau.identity.models import Person
from openbureau.intake import consent_files, negative_notices
from openbureau.intake.consent_files import ConsentFile
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.dialects import dialect_for
from openbureau.monitoring import triggers

NO_CONSENT = "no_consent"
# Persons per release statement (the bound parameters of its IN list stay well under the engines' limits).
RELEASE_PERSONS = 5_000
def consented(conn: Connection, *, profile: JurisdictionProfile, furnisher_id: int, subjects: pl.DataFrame,
              moment: datetime) -> pl.Series:
    """Whether each subject (``id_type``, ``id_index``) may be furnished by ``furnisher_id`` at ``moment``.

    During an index key rotation ``subjects`` also carries ``id_index_retiring``: a consent stored under
    either index counts.
    """
    if not profile.furnish_consent_required or subjects.height == 0:
        return pl.Series("consented", [True] * subjects.height, dtype=pl.Boolean)
    indexes = [c for c in ("id_index", "id_index_retiring") if c in subjects.columns]
    distinct = pl.concat([subjects.select("id_type", pl.col(c).alias("id_index")) for c in indexes]).unique()
    with dialect_for(conn).staged(conn, distinct, "gate_subjects") as staged:
        ok = subjects_in_force(conn, grantee_member_id=furnisher_id, purpose=Purpose.FURNISH, staged=staged,
                               moment=moment).with_columns(pl.lit(True).alias("consented"))
    found = [subjects.join(ok.rename({"id_index": c}), on=["id_type", c], how="left", maintain_order="left")
             ["consented"].fill_null(False) for c in indexes]
    return found[0] if len(found) == 1 else found[0] | found[1]


def release(session: Session, *, vault: PiiVault, profile: JurisdictionProfile, furnisher_id: int | None = None,
            subjects: pl.DataFrame | None = None, moment: datetime | None = None, submission_id: int | None = None
            ) -> int:
    """Release held records (and events) whose subject now holds a consent to furnish in force, and tell each
    person of the new negative items among them in the same transaction; returns how many were released.
    Records of a load in progress are left to their load, which releases its own when it publishes.

    Args:
        vault: Seals the notices.
        profile: The policy's jurisdiction profile (what the notices say of disputes and the furnisher's duty).
        furnisher_id: only this furnisher's records (default: every furnisher's).
        subjects: only these (``id_type``, ``id_index``) subjects (default: every held record).
        submission_id: only the records of this submission.
    """
    moment = moment or datetime.now(UTC)
    conn = session.connection()
    # No intake lock: the guarded UPDATE releases a record once however many releases run, and a load
    # re-checks its own held records when it publishes (a consent may arrive while it runs).
    if subjects is not None and subjects.height == 0:
        return 0

    def unblocked(record_person_id: ColumnElement, record_furnisher_id: ColumnElement) -> Select:
        # The held record's person holds a consent in force to the record's furnisher (a correlated EXISTS).
        return (select(Person.id).join(Consent, and_(Consent.subject_id_type == Person.id_type,
                                                     Consent.subject_id_index == Person.id_index))
                .where(Person.id == record_person_id, Consent.grantee_member_id == record_furnisher_id,
                       Consent.purpose == Purpose.FURNISH, valid_at(moment)))

    if subjects is None:
        released = accounts.release_held(session, reason=NO_CONSENT, unblocked=unblocked, moment=moment,
                                         furnisher_id=furnisher_id, submission_id=submission_id)
    else:
        # The subjects' persons first, then their held records through the (furnisher, person) index: a
        # release for a few subjects costs a few lookups, however many records the furnisher has held.
        with dialect_for(conn).staged(conn, subjects.unique(), "released_subjects") as staged:
            persons = sorted(conn.execute(select(Person.id).join(staged, and_(
                staged.c.id_type == Person.id_type, staged.c.id_index == Person.id_index))).scalars())
        parts = [accounts.release_held(session, reason=NO_CONSENT, unblocked=unblocked, moment=moment,
                                       furnisher_id=furnisher_id, submission_id=submission_id,
                                       person_ids=persons[start:start + RELEASE_PERSONS])
                 for start in range(0, len(persons), RELEASE_PERSONS)]
        released = accounts.Released(pl.concat([p.states for p in parts], how="vertical") if parts else
                                     pl.DataFrame(schema=RELEASED_SCHEMA),
                                     pl.concat([p.events for p in parts], how="vertical") if parts else
                                     pl.DataFrame(schema=RELEASED_EVENT_SCHEMA))
    if released.count:
        late_states = negative_notices.new_state_items(conn, released.states)
        late_events = negative_notices.new_event_items(conn, released.events)
        negative_notices.write(conn, pl.concat([
            negative_notices.state_item_notices(conn, late_states, vault=vault, profile=profile),
            negative_notices.event_item_notices(conn, late_events, vault=vault, profile=profile)]), now=moment)
        # Lenders monitoring the person learn of what the release lets into the files: new accounts and loans,
        # new delinquencies, new contact details.
        triggers.write(conn, pl.concat([
            triggers.release_causes(conn, vault, states=released.states, events=released.events, moment=moment),
            triggers.delinquency_causes(late_states, occurred_at=pl.lit(moment)),
            triggers.delinquency_causes(late_events, occurred_at=pl.col("occurred_at"))]), now=moment)
    return released.count


def held_count(session: Session, *, furnisher_id: int | None = None) -> int:
    """How many records are held in quarantine."""
    return accounts.held_count(session, furnisher_id=furnisher_id)


def grant_consent(session: Session, *, vault: PiiVault, profile: JurisdictionProfile, actor: consents.Actor,
                  data: ConsentCreate, now: datetime | None = None) -> tuple[Consent, int]:
    """Record a consent and release what it unblocks (telling the person of new negative items among it);
    returns the consent and the records released. ``profile``: the policy's."""
    consent = consents.grant(session, vault=vault, actor=actor, data=data, now=now)
    released = 0
    if consent.purpose == Purpose.FURNISH:
        subject = pl.DataFrame({"id_type": [consent.subject_id_type], "id_index": [consent.subject_id_index]},
                               schema={"id_type": pl.String, "id_index": pl.Binary})
        released = release(session, vault=vault, profile=profile, furnisher_id=actor.id, subjects=subject,
                           moment=now)
    return consent, released


def import_consents(engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile, actor: consents.Actor,
                    path: Path, now: datetime | None = None, progress: Callable[[int], None] | None = None,
                    checked: Callable[[int], None] | None = None, name: str | None = None,
                    keys: Mapping[str, bytes] | None = None, sha256: str | None = None,
                    ) -> tuple[consents.ImportOutcome, int]:
    """Import a consent file and release what it unblocks; returns the outcome and the records released.

    The file is read twice, a chunk at a time (``intake.consent_files``): first checked whole, outside any
    transaction (a file that cannot be read, or names a purpose ``actor`` may not hold, stores nothing),
    then sealed and stored ``consent.service.IMPORT_CHUNK`` lines at a time, each chunk with the records it
    releases and its audit entry in one short write transaction, so inquiries never wait behind an import
    and memory stays bounded whatever the file's size. Each consent is stored whole or not at all; an
    import killed part way keeps the chunks it committed, and the same file imported again stores the rest
    (references already stored are counted unchanged). ``checked`` is called with the number of lines to
    store once the first pass is done, ``progress`` with the number of lines of each chunk once it is
    committed. ``name`` tells the format of an upload (default: the path's suffix);
    ``keys`` mean the file is sealed (``kit.filecrypt``), ``sha256`` its digest in clear."""
    now = now or datetime.now(UTC)
    file = ConsentFile(path, name=name, keys=keys, sha256=sha256)
    checked_file = consent_files.check(file, actor=actor, now=now)
    outcome, released = checked_file.outcome, 0
    if checked is not None:
        checked(checked_file.summary.lines)
    if checked_file.summary.lines == 0:
        with session_scope(engine, write=True) as session:
            consents.record_rejected_import(session, actor=actor, summary=checked_file.summary)
        return outcome, 0
    chunks = consent_files.sealed_chunks(file, checked_file, vault=vault, actor=actor, now=now)
    for part, chunk in enumerate(chunks, start=1):
        dialect_for(engine).between_writes(engine)
        with session_scope(engine, write=True) as session:
            stored = consents.store_import_chunk(session, actor=actor, summary=checked_file.summary, chunk=chunk,
                                                 now=now, part=part)
            # A bulk import can grow the consents many times over: the planner must know it before the next
            # event batch asks which subjects hold a consent, or it scans every consent for each batch.
            dialect_for(engine).refresh_statistics(session.connection(), Consent.__table__, rows_written=stored.created)
            released += release(session, vault=vault, profile=profile, furnisher_id=actor.id,
                                subjects=stored.granted_subjects, moment=now)
        outcome.created += stored.created
        outcome.revoked += stored.revoked
        outcome.unchanged += stored.unchanged
        if progress is not None:
            progress(chunk.height)
    return outcome, released
