"""The person's notice of every new negative item, written in the transaction that publishes the item.

**A new negative item** is an account state (a month of a monthly file) or a lending event whose level on the
ladder of ``accounts.negative`` (1-7 days past due by 30-day buckets, 8 paid by the guarantor or with the
collateral, 9 charged off / written off) is above the level of the account's state just before it, for the
same person:

- before a month's record: the record it replaces (a correction), else the newest earlier month on file;
  or, when later than that month's end, the newest event of the account up to the record's month's end;
- before an event: the account's newest earlier event, or its newest state of an earlier month when that
  month ended after the event before (an event filed under no person yet is compared with the earlier
  events about the same identity document).

Only what is in the files counts: records and events held for want of consent are neither items nor states
before one until they are released, and then they are judged as they are released. A first delinquency is
new; the same level the next month is not; a worsening is; an account brought current (level 0) and late
again is new again. The bureau's notice goes to the person the item is filed under (an event filed under
no person yet: to its identity document), and names the lender, the account by the last characters of the
furnisher's account number (at most four, never more than half of it), the status and the month or day,
and how to dispute it; never the person's identifiers or name. One message per account and publishing
step lists every new item of that account in it.

Written where the items become readable: a load's in its last, publishing transaction (computed before it,
over the load's own rows and what was published), an event batch's in its transaction, a release's in the
release's transaction. So the outbox row exists at the instant the item becomes readable, and a load that
is killed or rolled back leaves no notice (docs/rights.md, Notifications).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from openbureau.accounts.negative import CHARGED_OFF, RECOVERED, event_level, level_words, state_level
from openbureau.accounts.negative_repository import PriorStateRepository
from openbureau.accounts.service import Released
from openbureau.consent.profiles import JurisdictionProfile
from openbureau.kit.crypto import PiiVault
from openbureau.kit.dialects import dialect_for
from openbureau.members.service import members_by_id
from openbureau.notifications import service as notifications

KIND = "negative.new"
SUBJECT = "New negative information in your credit file"
# A load's rows that may be new negative items (kept by the writer, chunk by chunk: only the negative ones).
CANDIDATE_SCHEMA = {
    "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String, "version": pl.Int64,
    "person_id": pl.Int64, "product_type": pl.String, "days_past_due": pl.Int64, "payment_status": pl.String,
    "account_status": pl.String, "negative_held": pl.Int64,
}
STATE_KEY = ["furnisher_id", "furnisher_account_id", "reporting_period", "version"]
PRODUCT_WORDS = {"revolving": "revolving credit ", "credit_card": "credit card ", "installment": "instalment loan ",
                 "mortgage": "mortgage ", "auto": "car loan ", "bnpl": "buy-now-pay-later ", "utility": "utility ",
                 "telecom": "telephone ", "rent": "rent "}
_WORDS = {level: level_words(level) for level in range(1, CHARGED_OFF + 1)}
MESSAGE_SCHEMA = {"kind": pl.String, "person_id": pl.Int64, "subject_id_type": pl.String,
                  "subject_id_enc": pl.Binary, "message_enc": pl.Binary}


def load_candidates(states: pl.DataFrame) -> pl.DataFrame:
    """The rows of a prepared chunk (``account_states`` columns) that may be new negative items: in the file
    (not held for want of consent) and negative (``CANDIDATE_SCHEMA``)."""
    if states.height == 0:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    return states.filter(pl.col("held_reason").is_null() & (state_level() > 0)).select(
        [pl.col(c).cast(t) for c, t in CANDIDATE_SCHEMA.items()])


def _month_after(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:7])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _level_before() -> pl.Expr:
    """The level of the state just before an item: its newest earlier event when that came after the end of
    the month of its newest earlier state, else that state; 0 when the account had neither."""
    state_end = ((pl.col("state_period") + "-01").str.to_date().dt.offset_by("1mo").cast(pl.Datetime("us"))
                 .dt.replace_time_zone("UTC"))
    event_later = pl.col("event_at").is_not_null() & (pl.col("state_period").is_null()
                                                      | (pl.col("event_at") >= state_end))
    return pl.when(event_later).then(pl.col("event_level")).otherwise(pl.col("state_level")).fill_null(0)


def new_state_items(conn: Connection, candidates: pl.DataFrame, *, own_submission: int | None = None
                    ) -> pl.DataFrame:
    """The new negative items among ``candidates`` (``CANDIDATE_SCHEMA``: states in the files, or about to be
    with ``own_submission``, the load asking about its own rows), with their ``level``."""
    candidates = candidates.with_columns(state_level().alias("level")).filter(pl.col("level") > 0)
    if candidates.height == 0:
        return candidates
    repo = PriorStateRepository(conn)
    keys = candidates.select(*STATE_KEY, "person_id")
    with dialect_for(conn).staged(conn, keys, "negative_states") as staged:
        before = [repo.before_states(staged, period=p, until=_month_after(p), own_submission=own_submission)
                  for p in sorted(keys["reporting_period"].unique().to_list())]
    items = candidates.join(pl.concat(before), on=STATE_KEY, how="left")
    return items.filter(pl.col("level") > _level_before())


def state_notices(conn: Connection, candidates: pl.DataFrame, *, vault: PiiVault, profile: JurisdictionProfile,
                  own_submission: int | None = None) -> pl.DataFrame:
    """Sealed messages (``MESSAGE_SCHEMA``, for ``notifications.enqueue_frame``) of the new negative items
    among ``candidates`` (see :func:`new_state_items`)."""
    return state_item_notices(conn, new_state_items(conn, candidates, own_submission=own_submission), vault=vault,
                              profile=profile)


def state_item_notices(conn: Connection, new: pl.DataFrame, *, vault: PiiVault, profile: JurisdictionProfile
                       ) -> pl.DataFrame:
    """Sealed messages of new negative items found by :func:`new_state_items`."""
    if new.height == 0:
        return pl.DataFrame(schema=MESSAGE_SCHEMA)
    words = pl.when((pl.col("level") == RECOVERED) & (pl.col("payment_status") == "Z")).then(
        pl.lit(level_words(RECOVERED, "Z"))).otherwise(pl.col("level").replace_strict(_WORDS, return_dtype=pl.String))
    return _messages(conn, new.select(
        "person_id", pl.lit(None, dtype=pl.String).alias("id_type"), pl.lit(None, dtype=pl.Binary).alias("id_index"),
        pl.lit(None, dtype=pl.Binary).alias("id_enc"), "furnisher_id", "furnisher_account_id", "product_type",
        pl.concat_str(pl.col("reporting_period"), pl.col("version").cast(pl.String).str.zfill(5)).alias("_order"),
        pl.concat_str(words, pl.lit(" in "), pl.col("reporting_period")).alias("_item"),
        (pl.col("negative_held") == 1).alias("_held"),
    ), vault=vault, profile=profile)


def new_event_items(conn: Connection, events: pl.DataFrame) -> pl.DataFrame:
    """The new negative items among lending events just stored or released in the files (``furnisher_id``,
    ``event_id``, ``event_type``, ``days_past_due``, ``occurred_at``), with their ``level`` and person."""
    negative = events.filter(event_level() > 0)
    if negative.height == 0:
        return pl.DataFrame(schema={"person_id": pl.Int64, "furnisher_id": pl.Int64, "level": pl.Int8,
                                    "occurred_at": pl.Datetime("us", "UTC")})
    staged_frame = negative.select(pl.col("furnisher_id").cast(pl.Int64), pl.col("event_id").cast(pl.String),
                                   pl.col("occurred_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m").alias("month"))
    with dialect_for(conn).staged(conn, staged_frame, "negative_events") as staged:
        items = PriorStateRepository(conn).before_events(staged)
    return items.with_columns(event_level().alias("level")).filter(pl.col("level") > _level_before())


def event_notices(conn: Connection, events: pl.DataFrame, *, vault: PiiVault, profile: JurisdictionProfile
                  ) -> pl.DataFrame:
    """Sealed messages of the new negative items among lending events (see :func:`new_event_items`)."""
    return event_item_notices(conn, new_event_items(conn, events), vault=vault, profile=profile)


def event_item_notices(conn: Connection, new: pl.DataFrame, *, vault: PiiVault, profile: JurisdictionProfile
                       ) -> pl.DataFrame:
    """Sealed messages of new negative items found by :func:`new_event_items`."""
    if new.height == 0:
        return pl.DataFrame(schema=MESSAGE_SCHEMA)
    day = pl.col("occurred_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d")
    words = pl.when(pl.col("event_type") == "written_off").then(pl.lit(level_words(CHARGED_OFF))).otherwise(
        pl.concat_str(pl.col("days_past_due").cast(pl.String), pl.lit(" days past due")))
    return _messages(conn, new.select(
        "person_id", "id_type", "id_index", "id_enc", "furnisher_id", "furnisher_account_id", "product_type",
        pl.concat_str(pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"),
                      pl.col("id").cast(pl.String).str.zfill(20)).alias("_order"),
        pl.concat_str(words, pl.lit(" on "), day).alias("_item"),
        pl.lit(False).alias("_held"),
    ), vault=vault, profile=profile)


def release_notices(conn: Connection, released: Released, *, vault: PiiVault, profile: JurisdictionProfile
                    ) -> pl.DataFrame:
    """Sealed messages of the new negative items among records and events the consent gate just released."""
    return pl.concat([state_notices(conn, released.states, vault=vault, profile=profile),
                      event_notices(conn, released.events, vault=vault, profile=profile)])


def write(conn: Connection, messages: pl.DataFrame, *, now: datetime) -> None:
    """Queue the messages in the caller's transaction (the one that publishes their items)."""
    notifications.enqueue_frame(conn, messages, now=now)


def _ending() -> pl.Expr:
    """`` ending 0123``: the last characters of the furnisher's account number, at most four and never more
    than half of it (nothing for a number of one character)."""
    account = pl.col("furnisher_account_id")
    keep = pl.min_horizontal(pl.lit(4, dtype=pl.UInt32), account.str.len_chars() // 2)
    return pl.when(keep > 0).then(pl.concat_str(pl.lit(" ending "), account.str.tail(keep))).otherwise(pl.lit(""))


def _messages(conn: Connection, items: pl.DataFrame, *, vault: PiiVault, profile: JurisdictionProfile
              ) -> pl.DataFrame:
    """One sealed message per account among ``items`` (one new negative item a row: ``_item`` says it,
    ``_order`` orders an account's items, ``_held`` marks a status held back for want of the furnisher's
    notice), addressed to the person, or to the identity document when no person is known yet."""
    if items.height == 0:
        return pl.DataFrame(schema=MESSAGE_SCHEMA)
    with Session(bind=conn) as session:
        lenders = {i: m.name for i, m in members_by_id(session, set(items["furnisher_id"].unique().to_list())).items()}
    per_account = (items.sort("_order")
                   .group_by("person_id", "id_type", "id_index", "furnisher_id", "furnisher_account_id",
                             maintain_order=True)
                   .agg(pl.col("_item").str.join("; then "), pl.col("_held").any(), pl.col("id_enc").first(),
                        pl.col("product_type").drop_nulls().last()))
    held = pl.when(pl.col("_held")).then(pl.lit(
        " Lenders do not see it until the lender confirms that it told you first.")).otherwise(pl.lit(""))
    told = (" The lender had to tell you before reporting it." if profile.furnisher_notice_days == 0 else
            f" The lender must also tell you itself within {profile.furnisher_notice_days} days of reporting it.")
    body = pl.concat_str(
        pl.col("furnisher_id").replace_strict(lenders, return_dtype=pl.String, default="A lender").fill_null("A lender"),
        pl.lit(" reported to the credit bureau that your "),
        pl.col("product_type").replace_strict(PRODUCT_WORDS, return_dtype=pl.String, default="").fill_null(""),
        pl.lit("account"), _ending(), pl.lit(" was "), pl.col("_item"), pl.lit("."), held, pl.lit(told),
        pl.lit(f" If it is wrong, dispute it with the bureau free of charge: the lender must answer within "
               f"{profile.dispute_days} days."))
    texts = per_account.select(pl.struct(pl.lit(SUBJECT).alias("subject"), body.alias("body"))
                               .struct.json_encode()).to_series().to_list()
    return per_account.select(
        pl.lit(KIND).alias("kind"), pl.col("person_id").cast(pl.Int64),
        pl.when(pl.col("person_id").is_null()).then(pl.col("id_type")).alias("subject_id_type"),
        pl.when(pl.col("person_id").is_null()).then(pl.col("id_enc")).alias("subject_id_enc"),
        pl.Series("message_enc", vault.encrypt_many(texts), dtype=pl.Binary),
    )
