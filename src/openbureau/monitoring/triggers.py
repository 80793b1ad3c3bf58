"""Triggers: what a monitoring lender is told about its subjects, written with their cause.

A cause is something that happened to a person: a new account or application at a lender
(``new_credit``), a new delinquency (``delinquency``: a level of ``accounts.negative`` above the account's
state before it, as the person's notice of a new negative item judges it), a fraud alert (``fraud_alert``)
or a freeze (``freeze``) placed, a phone or an address new to the person's file (``identity_change``), a
score that moved by the lender's threshold (``score_change``, written by the score watch above this domain). :func:`write` turns each cause into one trigger for each lender that
monitors the person, except the lender that caused it, and one delivery for each of that lender's webhook
endpoints, on the caller's connection: the transaction that makes the cause readable (an event batch, a
load's publishing step, a right placed) writes its triggers, so none is lost to a crash and none is sent
for a cause that was rolled back.

A trigger carries the minimum: its kind, a category, when, and the lender's own reference of the subject;
never the other lender's name, an account number or an amount.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, Row

from openbureau.accounts.load_repository import AccountLoadRepository
from openbureau.accounts.negative import CHARGED_OFF, PAST_DUE_LEVELS, RECOVERED
from openbureau.identity.resolution.normalise import addresses, phone_digits
from openbureau.identity.service import open_identities
from openbureau.kit.crypto import PiiVault
from openbureau.monitoring import wakeup
from openbureau.monitoring.models import DeliveryStatus
from openbureau.monitoring.repository import MonitoringRepository

NEW_CREDIT, DELINQUENCY, FRAUD_ALERT, FREEZE = "new_credit", "delinquency", "fraud_alert", "freeze"
SCORE_CHANGE, IDENTITY_CHANGE = "score_change", "identity_change"
KINDS = (NEW_CREDIT, DELINQUENCY, FRAUD_ALERT, FREEZE, SCORE_CHANGE, IDENTITY_CHANGE)
CONTACTS = ("phone", "address")  # identity_change's categories: phone_changed, address_changed
RETRY_WINDOW = timedelta(hours=25)  # a failing delivery is retried for this long before it is dead
RECENT_DAYS = 90  # an account the files show first, opened this recently, is a new account (else a reported one)
# The schema of causes: the person, the lender that caused it (None: the person or the bureau), what and when.
CAUSE_SCHEMA = {"person_id": pl.Int64, "furnisher_id": pl.Int64, "kind": pl.String, "category": pl.String,
                "occurred_at": pl.Datetime("us", "UTC")}


def level_category(level: int) -> str:
    """The category of a delinquency of ``accounts.negative`` level ``level`` (a 30-day bucket, a loss paid by
    a guarantor or the collateral, a charge-off)."""
    if level == CHARGED_OFF:
        return "charged_off"
    if level == RECOVERED:
        return "paid_by_guarantor"
    if level == PAST_DUE_LEVELS:
        return f"over_{30 * (PAST_DUE_LEVELS - 1)}_days_past_due"
    return f"{30 * (level - 1) + 1}_{30 * level}_days_past_due"


_CATEGORIES = {level: level_category(level) for level in range(1, CHARGED_OFF + 1)}


def delinquency_causes(items: pl.DataFrame, *, occurred_at: pl.Expr) -> pl.DataFrame:
    """Causes of new negative items (``person_id``, ``furnisher_id``, ``level``): one per person, lender and
    level; items of no person yet are left out."""
    if items.height == 0:
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    return items.filter(pl.col("person_id").is_not_null()).select(
        pl.col("person_id").cast(pl.Int64), pl.col("furnisher_id").cast(pl.Int64), pl.lit(DELINQUENCY).alias("kind"),
        pl.col("level").cast(pl.Int64).replace_strict(_CATEGORIES, return_dtype=pl.String).alias("category"),
        occurred_at.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC")).alias("occurred_at"),
    ).unique(subset=["person_id", "furnisher_id", "category"], keep="first", maintain_order=True)


def event_causes(events: pl.DataFrame) -> pl.DataFrame:
    """Causes of lending events just in the files (``person_id``, ``furnisher_id``, ``event_type``,
    ``occurred_at``): a loan opened or applied for (delinquencies come from :func:`delinquency_causes`)."""
    new = events.filter(pl.col("event_type").is_in(["opened", "application"]) & pl.col("person_id").is_not_null())
    return new.select(
        pl.col("person_id").cast(pl.Int64), pl.col("furnisher_id").cast(pl.Int64), pl.lit(NEW_CREDIT).alias("kind"),
        pl.when(pl.col("event_type") == "opened").then(pl.lit("account_opened")).otherwise(pl.lit("application"))
        .alias("category"), pl.col("occurred_at").dt.convert_time_zone("UTC").alias("occurred_at"),
    ).cast(CAUSE_SCHEMA)


def account_causes(new: pl.DataFrame, *, today: date, occurred_at: datetime) -> pl.DataFrame:
    """Causes of accounts the files show for the first time (``person_id``, ``furnisher_id``, ``opened_on``): a
    new credit ``account_opened`` if opened in the :data:`RECENT_DAYS` before ``today``, else
    ``account_reported`` (an older account new to the bureau)."""
    recent = pl.col("opened_on") >= pl.lit(today - timedelta(days=RECENT_DAYS))
    return new.select("person_id", "furnisher_id", pl.lit(NEW_CREDIT).alias("kind"),
                      pl.when(recent).then(pl.lit("account_opened")).otherwise(pl.lit("account_reported"))
                      .alias("category"), pl.lit(occurred_at).alias("occurred_at")).cast(CAUSE_SCHEMA)


def _contacts(frame: pl.DataFrame) -> pl.DataFrame:
    """``phone`` as its national digits and ``address`` as identity resolution compares them (simplified
    characters, no province, spaces or unit words): the same contact however a lender wrote it; else null."""
    return frame.with_columns(phone_digits(pl.col("phone").cast(pl.String)).alias("phone"),
                              addresses(frame["address"].cast(pl.String)).alias("address"))


def identity_causes(conn: Connection, vault: PiiVault, new: pl.DataFrame, *, except_submission: int | None = None,
                    except_released_at: datetime | None = None) -> pl.DataFrame:
    """Causes of contact details new to a monitored person's file: ``new`` holds ``person_id``,
    ``furnisher_id``, ``phone``, ``address`` (in clear, of records or events about to be part of the files)
    and ``occurred_at``. A phone (address) that none of the person's recent records and events carried,
    when they carried one, is ``identity_change`` / ``phone_changed`` (``address_changed``); the value itself
    is never written. Only persons some other lender monitors are looked at (their earlier details decrypted
    in memory); ``except_submission`` (a load's own records) and ``except_released_at`` (what a consent
    release let in), in the files already, are not earlier ones."""
    if new.height == 0:
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    with_contacts = pl.col("person_id").is_not_null() & (pl.col("phone").is_not_null() | pl.col("address").is_not_null())
    new = new.filter(with_contacts)
    if new.height == 0:  # no contact details (most lending events): nothing to read
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    watched: dict[int, set[int]] = {}
    for w in MonitoringRepository(conn).watchers(new["person_id"].unique().to_list()):
        watched.setdefault(w.person_id, set()).add(w.subscriber_id)
    new = new.filter(pl.struct("person_id", "furnisher_id").map_elements(
        lambda r: bool(watched.get(r["person_id"], set()) - {r["furnisher_id"]}), return_dtype=pl.Boolean))
    # Normalised only for the persons some other lender monitors (a value may normalise to nothing).
    new = _contacts(new).filter(with_contacts) if new.height else new
    if new.height == 0:
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    known = AccountLoadRepository(conn).known_identities(new["person_id"].unique().to_list(),
                                                         except_submission=except_submission,
                                                         except_released_at=except_released_at)
    known = _contacts(pl.concat([known.select("person_id"), open_identities(vault, known["identity_enc"].to_list())],
                                how="horizontal") if known.height else pl.DataFrame(
        schema={"person_id": pl.Int64, **{f: pl.String for f in CONTACTS}}))
    causes = []
    for field in CONTACTS:
        before = known.select("person_id", field).drop_nulls().unique()
        had = before.select("person_id").unique()
        fresh = (new.select("person_id", "furnisher_id", "occurred_at", field).drop_nulls(field)
                 .join(had, on="person_id", how="semi")  # a first phone is no change
                 .join(before, on=["person_id", field], how="anti"))
        causes.append(fresh.select(
            pl.col("person_id").cast(pl.Int64), pl.col("furnisher_id").cast(pl.Int64),
            pl.lit(IDENTITY_CHANGE).alias("kind"), pl.lit(f"{field}_changed").alias("category"),
            pl.col("occurred_at").dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC")))
            .unique(subset=["person_id", "furnisher_id", "category"], keep="first", maintain_order=True))
    return pl.concat(causes)


def load_identity_causes(conn: Connection, vault: PiiVault, *, submission_id: int, furnisher_id: int,
                         occurred_at: datetime, persons: Sequence[int]) -> pl.DataFrame:
    """:func:`identity_causes` of a load's released records (published in the caller's transaction) about
    ``persons`` (the load's monitored persons)."""
    if not persons:
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    rows = AccountLoadRepository(conn).load_identities(submission_id=submission_id, person_ids=persons)
    if rows.height == 0:
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    clear = open_identities(vault, rows["identity_enc"].to_list()).select(CONTACTS)
    new = pl.concat([rows.select("person_id"), clear], how="horizontal").with_columns(
        pl.lit(furnisher_id, dtype=pl.Int64).alias("furnisher_id"),
        pl.lit(occurred_at, dtype=pl.Datetime("us", "UTC")).alias("occurred_at"))
    return identity_causes(conn, vault, new, except_submission=submission_id)


def watched(conn: Connection, persons: Sequence[int]) -> list[int]:
    """Those of ``persons`` some lender monitors (through the registrations' index of persons)."""
    return sorted({w.person_id for w in MonitoringRepository(conn).watchers(persons)}) if len(persons) else []


def release_causes(conn: Connection, vault: PiiVault, *, states: pl.DataFrame, events: pl.DataFrame,
                   moment: datetime) -> pl.DataFrame:
    """Causes of what a consent release at ``moment`` let into the files (``states`` and ``events``, as the
    release returned them), for monitored persons: accounts the files show for the first time, loans opened or
    applied for, and contact details new to the person's file (new delinquencies are the caller's, judged with
    the person's notices: :func:`delinquency_causes`)."""
    monitored = watched(conn, pl.concat([states["person_id"], events["person_id"]]).drop_nulls().unique().to_list())
    if not monitored:  # nobody monitors them (most releases of a bulk consent import): nothing to read
        return pl.DataFrame(schema=CAUSE_SCHEMA)
    repo = AccountLoadRepository(conn)
    accounts = states.filter(pl.col("person_id").is_in(monitored)).select("furnisher_id", "furnisher_account_id")
    new = repo.released_new_accounts(accounts.unique().rows(), moment=moment)
    causes = [account_causes(new, today=moment.date(), occurred_at=moment), event_causes(events)]
    rows = repo.released_identities(moment=moment, person_ids=monitored)
    if rows.height:
        clear = open_identities(vault, rows["identity_enc"].to_list()).select(CONTACTS)
        causes.append(identity_causes(conn, vault, pl.concat(
            [rows.select("person_id", "furnisher_id", "occurred_at"), clear], how="horizontal"),
            except_released_at=moment))
    return pl.concat(causes)


def cause(person_id: int, kind: str, category: str, occurred_at: datetime) -> pl.DataFrame:
    """One cause that no lender caused (a right the person placed)."""
    return pl.DataFrame([{"person_id": person_id, "furnisher_id": None, "kind": kind, "category": category,
                          "occurred_at": occurred_at}], schema=CAUSE_SCHEMA)


def write(conn: Connection, causes: pl.DataFrame, *, now: datetime) -> int:
    """Write a trigger for each lender monitoring the person of each cause (not the lender that caused it), and
    a delivery to each of that lender's endpoints, in the caller's transaction; how many triggers."""
    if causes.height == 0:
        return 0
    repo = MonitoringRepository(conn)
    watchers = repo.watchers(causes["person_id"].drop_nulls().to_list())
    if not watchers:
        return 0
    by_person: dict[int, list] = {}
    for w in watchers:
        by_person.setdefault(w.person_id, []).append(w)
    rows = []
    for c in causes.iter_rows(named=True):
        for w in by_person.get(c["person_id"], ()):
            if w.subscriber_id != c["furnisher_id"]:
                rows.append(dict(subscriber_id=w.subscriber_id, subject_id=w.id, person_id=c["person_id"],
                                 reference=w.reference, kind=c["kind"], category=c["category"],
                                 occurred_at=c["occurred_at"], created_at=now))
    _add(repo, rows, now=now)
    wakeup.on_commit(conn)
    return len(rows)


def _add(repo: MonitoringRepository, rows: list[dict], *, now: datetime) -> None:
    """Insert triggers and a delivery of each to every live endpoint of its lender."""
    ids = repo.add_triggers(rows)
    endpoints: dict[int, list[int]] = {}
    for e in repo.live_endpoints([r["subscriber_id"] for r in rows]):
        endpoints.setdefault(e.subscriber_id, []).append(e.id)
    repo.add_deliveries([
        dict(delivery_id=str(uuid.uuid4()), endpoint_id=endpoint_id, subscriber_id=row["subscriber_id"],
             subject_id=row["subject_id"], trigger_id=trigger_id, status=DeliveryStatus.PENDING, attempts=0,
             next_attempt_at=now, retry_until=now + RETRY_WINDOW, created_at=now, delivered_at=None,
             last_status_code=None, last_error=None)
        for trigger_id, row in zip(ids, rows, strict=True) for endpoint_id in endpoints.get(row["subscriber_id"], ())])


def write_for_subjects(conn: Connection, causes: list[tuple[Row, str, str, datetime]], *, now: datetime) -> int:
    """Write triggers for given registrations (``(subject row, kind, category, occurred_at)``: a cause that
    concerns one registration, as a score change beyond its own threshold), with their deliveries, in the
    caller's transaction; how many."""
    if not causes:
        return 0
    rows = [dict(subscriber_id=subject.subscriber_id, subject_id=subject.id, person_id=subject.person_id,
                 reference=subject.reference, kind=kind, category=category, occurred_at=occurred_at, created_at=now)
            for subject, kind, category, occurred_at in causes]
    _add(MonitoringRepository(conn), rows, now=now)
    wakeup.on_commit(conn)
    return len(rows)
