"""Validate a batch of lending events at once: the field table's rules, the identity rules of the monthly
records, and the events' own rules (``intake.events.catalogue``), as Polars expressions over the batch.

Example:
    >>> result = validate_events(batch, now=datetime(2026, 10, 3, 12, tzinfo=UTC))  # doctest: +SKIP
    >>> result.records["_outcome"].value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import polars as pl

from openbureau.intake.events.catalogue import EVENT_RULE_BY_CODE
from openbureau.intake.events.standard import EVENTS, REQUIRED_BY_TYPE, EventType
from openbureau.intake.validation.catalogue import ADULT_AGE_YEARS, MAX_AGE_YEARS, MAX_TERM_MONTHS
from openbureau.intake.validation.cross_field import identity_checks
from openbureau.intake.validation.engine import LINE, OUTCOME, ValidationResult, findings_and_outcome
from openbureau.intake.validation.fields import RAW_PREFIX, Check, field_checks, raw, typed_columns

CLOCK_SKEW = timedelta(minutes=5)  # an event may be dated this far after it was received
MAX_AGE = timedelta(days=90)  # older events belong in the monthly file
AMOUNTS = ("amount", "amount_due", "balance", "past_due_amount")


def _type_checks() -> list[Check]:
    kind = pl.col("event_type")
    checks = []
    for name in ("product_type", "amount", "opened_on", "days_past_due"):
        needing = [t for t, fields in REQUIRED_BY_TYPE.items() if name in fields]
        checks.append(Check("EVENT_FIELD_MISSING", name, kind.is_in(needing) & raw(name).is_null(),
                            pl.format(f"{name} is required on a '{{}}' event but empty.", kind)))
    return checks


# The moment of receipt, as columns of the batch (``_moment_columns``), so that every check is built once.
LATEST, EARLIEST, TODAY, RECEIVED = "_latest", "_earliest", "_today", "_received"


def _moment_columns(now: datetime) -> list[pl.Expr]:
    """What the checks need of the moment ``now`` a batch was received."""
    return [pl.lit(now + CLOCK_SKEW).alias(LATEST), pl.lit(now - MAX_AGE).alias(EARLIEST),
            pl.lit(now.date()).alias(TODAY), pl.lit(now.isoformat(timespec="seconds")).alias(RECEIVED)]


def _event_checks() -> list[Check]:
    kind, at, opened = pl.col("event_type"), pl.col("occurred_at"), pl.col("opened_on")
    birth, amount, term = pl.col("birth_date"), pl.col("amount"), pl.col("term_months")
    today = pl.col(TODAY)
    positive = (EventType.OPENED, EventType.REPAYMENT, EventType.WRITTEN_OFF)
    return [
        Check("CURRENCY_MISSING", "currency",
              pl.any_horizontal(raw(a).is_not_null() for a in AMOUNTS) & raw("currency").is_null(),
              pl.lit("currency is empty although the event gives an amount.")),
        Check("EVENT_IN_FUTURE", "occurred_at", at > pl.col(LATEST),
              pl.format("occurred_at '{}' is after the moment the bureau received the event ({}).",
                        raw("occurred_at"), pl.col(RECEIVED))),
        Check("EVENT_TOO_OLD", "occurred_at", at < pl.col(EARLIEST),
              pl.format(f"occurred_at '{{}}' is more than {MAX_AGE.days} days ago; report older history in the "
                        "monthly file.", raw("occurred_at"))),
        Check("OPENED_AFTER_EVENT", "opened_on", opened > (at.dt.date() + pl.duration(days=1)),
              pl.format("opened_on '{}' is after the day of the event ({}).", opened, at.dt.date())),
        Check("AMOUNT_NOT_POSITIVE", "amount", kind.is_in(positive) & (amount == 0),
              pl.format("amount is 0 on a '{}' event; it must be more than 0.", kind)),
        Check("EVENT_FIELD_MISSING", "phone", (kind == EventType.CONTACT_CHANGED) & raw("phone").is_null()
              & raw("address").is_null(),
              pl.lit("phone or address is required on a 'contact_changed' event (the new ones) but both are empty.")),
        Check("DPD_NOT_POSITIVE", "days_past_due", (kind == EventType.DELINQUENT) & (pl.col("days_past_due") == 0),
              pl.lit("days_past_due is 0 on a delinquent event; it must be at least 1.")),
        Check("TERM_MONTHS_OUT_OF_RANGE", "term_months", (term == 0) | (term > MAX_TERM_MONTHS),
              pl.format(f"term_months '{{}}' is outside 1 to {MAX_TERM_MONTHS}.", term)),
        Check("TERM_MONTHS_MISSING", "term_months",
              (kind == EventType.OPENED) & pl.col("product_type").is_in(("installment", "mortgage", "auto"))
              & raw("term_months").is_null(),
              pl.format("term_months is empty on an opened {} loan.", pl.col("product_type"))),
        Check("AMOUNT_DUE_OVER_AMOUNT", "amount_due", pl.col("amount_due") > amount,
              pl.format("amount_due {} is more than the amount lent ({}).", pl.col("amount_due"), amount)),
        Check("BIRTH_DATE_IN_FUTURE", "birth_date", birth > today,
              pl.format("birth_date is after today ({}).", today)),
        Check("BIRTH_DATE_TOO_OLD", "birth_date", birth < today.dt.offset_by(f"-{MAX_AGE_YEARS}y"),
              pl.lit(f"birth_date makes the borrower older than {MAX_AGE_YEARS} years.")),
        Check("BORROWER_UNDER_18", "birth_date",
              (kind == EventType.OPENED) & (birth <= opened) & (birth.dt.offset_by(f"{ADULT_AGE_YEARS}y") > opened),
              pl.format(f"birth_date makes the borrower under {ADULT_AGE_YEARS} on opened_on {{}}.", opened)),
    ]  # fmt: skip


@functools.cache
def _checks(phone_plan: str) -> tuple[Check, ...]:
    """Every check but the duplicate ids', built once (an expression is immutable; the moment of receipt is
    read from the batch's columns): building them took about a third of a 1,000-event batch's validation."""
    return (*field_checks(EVENTS, phone_plan=phone_plan), *identity_checks(), *_type_checks(), *_event_checks())


@functools.cache
def _typed_columns() -> tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...]]:
    """The batch's columns as text (``_raw_<name>``) beside its line, and then typed; built once."""
    return ((pl.col(LINE).cast(pl.Int64), *(pl.col(n).cast(pl.String).alias(RAW_PREFIX + n) for n in EVENTS.columns)),
            tuple(typed_columns(EVENTS)))


@functools.cache
def _duplicate_check() -> Check:
    return Check("DUPLICATE_EVENT_ID", "event_id", pl.col("_duplicate"),
                 pl.format("event_id '{}' already appears on line {}; an event is sent once.",
                           raw("event_id"), pl.col("_first_line")))


@functools.cache
def _flag_columns(phone_plan: str) -> tuple[pl.Expr, ...]:
    """Each check's flag column (``_check<n>``: whether it fired), built once like the checks."""
    return tuple(check.fires.fill_null(False).alias(f"_check{index}")
                 for index, check in enumerate(_checks(phone_plan)))


def _duplicate_ids(work: pl.DataFrame, seen: dict[str, int]) -> pl.DataFrame:
    """Flag each event whose id appeared earlier in the batch or file (``seen``: id -> first line, kept
    across a file's chunks), with that first line. A loop over at most 10,000 ids (``MAX_BATCH_EVENTS``):
    a batch of one or a hundred is most of the API's traffic, and a frame operation's fixed cost is larger."""
    ids, lines = work[RAW_PREFIX + "event_id"].to_list(), work[LINE].to_list()
    first: dict[str, int] = {}
    for event_id, line in zip(ids, lines, strict=True):
        if event_id is not None and line < first.get(event_id, line + 1):
            first[event_id] = line
    earliest = {event_id: seen.setdefault(event_id, line) for event_id, line in first.items()}
    first_lines = [line if event_id is None else earliest[event_id] for event_id, line in zip(ids, lines, strict=True)]
    return pl.DataFrame({"_duplicate": [event_id is not None and at != line for event_id, at, line
                                        in zip(ids, first_lines, lines, strict=True)],
                         "_first_line": first_lines}, schema={"_duplicate": pl.Boolean, "_first_line": pl.Int64})


def validate_events(batch: pl.DataFrame, *, now: datetime, seen: dict[str, int] | None = None,
                    phone_plan: str = "CN_MOBILE") -> ValidationResult:
    """Validate a batch of events received at ``now``: typed events with their outcome, and every finding.

    Args:
        batch: ``_line`` plus every event column as String; blanks already null, values stripped.
        now: when the bureau received the batch (events dated later than a few minutes after are errors).
        seen: event ids of earlier chunks of the same file, with their line (updated).
        phone_plan: the profile's numbering plan for ``phone`` (``fields.PHONE_PLANS``).
    """
    missing = [name for name in (LINE, *EVENTS.columns) if name not in batch.columns]
    if missing:
        raise ValueError(f"batch lacks columns {missing}; add absent event columns as all-null")
    checks = list(_checks(phone_plan))
    flags = [f"_check{index}" for index in range(len(checks))]
    # A projection, nothing for the planner to push down or share: its passes took half of a small batch's
    # collect (docs/events.md, "A batch's fixed cost").
    as_text, typed = _typed_columns()
    work = (
        batch.select(LINE, *EVENTS.columns).rechunk().lazy()
        .select(*as_text)
        .with_columns(*typed, *_moment_columns(now))
        .with_columns(*_flag_columns(phone_plan))
        .collect(optimizations=pl.QueryOptFlags.none())
    )  # fmt: skip
    work = work.hstack(_duplicate_ids(work, {} if seen is None else seen))
    checks.append(_duplicate_check())
    flags.append("_duplicate")
    findings, outcome = findings_and_outcome(work, checks, flags, rules=EVENT_RULE_BY_CODE, layout=EVENTS)
    return ValidationResult(records=work.select(LINE, *EVENTS.columns, outcome.alias(OUTCOME)), findings=findings)
