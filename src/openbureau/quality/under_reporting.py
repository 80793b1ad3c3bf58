"""Under-reporting findings: evidence the bureau holds, independent of a furnisher's own files, that accounts
are missing from them.

A furnisher that under-reports from its first file is never caught by comparing it with its own history
(``anomalies.VOLUME_DROP``). These findings set its files beside what else the bureau knows of it:

* ``INQUIRY_WITHOUT_ACCOUNT``: its hard inquiries for loan applications not followed by any account of the
  person in its files within ``follow_periods``, as a rate against the rest of the market's (many
  applications are declined, so one such inquiry proves nothing; a rate far above the market's does).
* ``EVENT_WITHOUT_RECORD``: loans its own ``opened`` events announced that no monthly record of its files
  shows, once it has filed the event's month (each one is a fact; the rate is set against a tolerance).
* ``CONSENT_WITHOUT_RECORD``: persons whose consent to furnish it recorded who never appear in its files, as
  a rate against the market's (a consent may be taken at an application that was declined).
* ``JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR`` (standard v1.1): loans a funder reports naming this furnisher as
  the facilitator, with its account number, that its files lack for a period it has filed.
* ``JOINT_LOAN_NOT_REPORTED_BY_FUNDER``: loans a facilitator's records list this furnisher as a funder of, of
  which it reports nothing (no record naming that facilitator and account number) for a period it has filed.
  Judged only for a funder that furnishes at all: a bank that only inquires has no files to lack a loan.
  Both joint-loan codes count loans, each a fact like an event, set against the same tolerance.

A rate is flagged only when the lower bound of its Wilson score interval exceeds the threshold, so that
small numbers do not flag on chance. docs/quality.md defines each figure; everything here is pure Polars
over frames the repositories read, no loop per record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import polars as pl

from openbureau.accounts.funding_repository import CLAIM_SCHEMA
from openbureau.accounts.funding_repository import LISTING_SCHEMA as FUNDER_LISTING_SCHEMA
from openbureau.kit.crypto import mask
from openbureau.quality.metrics import period_index

INQUIRY_WITHOUT_ACCOUNT = "INQUIRY_WITHOUT_ACCOUNT"
EVENT_WITHOUT_RECORD = "EVENT_WITHOUT_RECORD"
CONSENT_WITHOUT_RECORD = "CONSENT_WITHOUT_RECORD"
JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR = "JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR"
JOINT_LOAN_NOT_REPORTED_BY_FUNDER = "JOINT_LOAN_NOT_REPORTED_BY_FUNDER"
CODES = (INQUIRY_WITHOUT_ACCOUNT, EVENT_WITHOUT_RECORD, CONSENT_WITHOUT_RECORD, JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR,
         JOINT_LOAN_NOT_REPORTED_BY_FUNDER)
MARKET_CODES = (INQUIRY_WITHOUT_ACCOUNT, CONSENT_WITHOUT_RECORD)  # judged against the rest of the market

COUNT_SCHEMA = {"furnisher_id": pl.Int64, "code": pl.String, "observations": pl.Int64, "count": pl.Int64,
                "persons": pl.Int64, "corroborated": pl.Int64}
COLUMNS = {**COUNT_SCHEMA, "rate": pl.Float64, "baseline": pl.Float64, "lower": pl.Float64, "upper": pl.Float64,
           "threshold": pl.Float64, "excess": pl.Int64, "flagged": pl.Boolean}
EXAMPLE_SCHEMA = {"furnisher_id": pl.Int64, "code": pl.String, "reference": pl.String, "on": pl.Date}
# Funders' records naming a facilitator, and the funders facilitators' records list with the facilitator's code.
LISTING_SCHEMA = {**FUNDER_LISTING_SCHEMA, "facilitator": pl.String}


@dataclass(frozen=True, slots=True)
class UnderReportingRules:
    """Windows and thresholds of the under-reporting findings (docs/quality.md)."""

    follow_periods: int = 2  # an inquiry is followed by an account opened by the end of the 2nd period after it
    opened_before_days: int = 31  # ... or opened at most this many days before it (a pre-approval)
    consent_grace_periods: int = 2  # a consent is judged once the furnisher has filed 2 periods after it
    event_grace_periods: int = 0  # an opened event is judged once the file of its own month is in
    z: float = 2.576  # Wilson score interval at 99% (two-sided)
    min_observations: int = 30  # fewer inquiries or consents of the furnisher: counted, never flagged
    min_market_observations: int = 30  # the rest of the market needs as many for a baseline
    min_excess: float = 0.10  # flag when the lower bound exceeds the market's rate by 10 points ...
    event_tolerance: float = 0.02  # ... or, for events, exceeds 2% (late or mis-keyed account numbers)
    min_count: int = 3  # and at least this many missing
    examples: int = 3  # masked references shown per finding


@dataclass(frozen=True, slots=True)
class UnderReportingInputs:
    """What the findings are computed from, every person already the surviving one of any merge.

    ``accounts``: ``furnisher_id, furnisher_account_id, person_id, opened_on, last_period`` (one row per
    account reported in the window); ``last_filed``: ``furnisher_id, last_period`` (the newest period each
    furnisher has filed, at most the window's end); ``inquiries``: ``inquiry_id, furnisher_id, person_id,
    created_at``; ``events``: ``event_row_id, furnisher_id, furnisher_account_id, person_id, occurred_at``
    (``opened``); ``consents``: ``consent_id, furnisher_id, consent_ref, person_id, recorded_at``;
    ``furnished``: ``furnisher_id, person_id`` and ``furnished_refs``: ``furnisher_id, consent_ref`` (every
    person and consent reference in each furnisher's files, ever); ``claims`` and ``listings``: the joint
    loans of the window (``CLAIM_SCHEMA``, ``LISTING_SCHEMA``).
    """

    accounts: pl.DataFrame
    last_filed: pl.DataFrame
    inquiries: pl.DataFrame
    events: pl.DataFrame
    consents: pl.DataFrame
    furnished: pl.DataFrame
    furnished_refs: pl.DataFrame
    claims: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CLAIM_SCHEMA))
    listings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LISTING_SCHEMA))


def _month(column: str) -> pl.Expr:
    return period_index(pl.col(column).dt.strftime("%Y-%m"))


def _eligible(frame: pl.DataFrame, last_filed: pl.DataFrame, moment: str, grace: int) -> pl.DataFrame:
    """Rows whose month plus ``grace`` periods the furnisher has filed (``_month``: the row's month index)."""
    return frame.join(last_filed, on="furnisher_id").with_columns(_month(moment).alias("_month")).filter(
        pl.col("_month") + grace <= period_index("last_period"))


def _counts(code: str, eligible: pl.DataFrame, missing: pl.Expr, person: pl.Expr,
            corroborated: pl.Expr | None = None) -> pl.DataFrame:
    return eligible.group_by("furnisher_id").agg(
        pl.lit(code).alias("code"), pl.len().alias("observations"), missing.sum().alias("count"),
        person.filter(missing).n_unique().alias("persons"),
        (corroborated.filter(missing).sum() if corroborated is not None else pl.lit(0)).alias("corroborated"),
    ).cast(COUNT_SCHEMA).select(list(COUNT_SCHEMA))


def _examples(code: str, missing: pl.DataFrame, reference: pl.Expr, on: str, rules: UnderReportingRules
              ) -> pl.DataFrame:
    return missing.sort(on).group_by("furnisher_id", maintain_order=True).head(rules.examples).select(
        "furnisher_id", pl.lit(code).alias("code"), reference.alias("reference"), pl.col(on).dt.date().alias("on")
    ).cast(EXAMPLE_SCHEMA)


def inquiries_without_account(inputs: UnderReportingInputs, rules: UnderReportingRules
                              ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """INQUIRY_WITHOUT_ACCOUNT counts per lender, and masked examples.

    An inquiry is judged once the lender has filed ``follow_periods`` periods after its month; it is
    followed when the lender's files hold an account of the same person opened from ``opened_before_days``
    before it to the end of that last period. ``corroborated``: not followed, yet the lender's own
    ``opened`` event for the person falls in the same window (it lent, and did not report).
    """
    asked = _eligible(inputs.inquiries, inputs.last_filed, "created_at", rules.follow_periods)
    slack = timedelta(days=rules.opened_before_days)

    def within(frame: pl.DataFrame, moment: str) -> pl.DataFrame:
        opened = pl.col(moment).dt.date() if frame.schema[moment] != pl.Date else pl.col(moment)
        return frame.filter((opened >= pl.col("created_at").dt.date() - slack)
                            & (period_index(opened.dt.strftime("%Y-%m")) <= pl.col("_month") + rules.follow_periods))

    pairs = asked.select("inquiry_id", "furnisher_id", "person_id", "created_at", "_month")
    followed = within(pairs.join(inputs.accounts.select("furnisher_id", "person_id", "opened_on"),
                                 on=["furnisher_id", "person_id"]), "opened_on")["inquiry_id"].unique()
    lent = within(pairs.join(inputs.events.select("furnisher_id", "person_id", "occurred_at"),
                             on=["furnisher_id", "person_id"]), "occurred_at")["inquiry_id"].unique()
    asked = asked.with_columns((~pl.col("inquiry_id").is_in(followed.implode())).alias("_missing"),
                               pl.col("inquiry_id").is_in(lent.implode()).alias("_lent"))
    counts = _counts(INQUIRY_WITHOUT_ACCOUNT, asked, pl.col("_missing"), pl.col("person_id"), pl.col("_lent"))
    examples = _examples(INQUIRY_WITHOUT_ACCOUNT, asked.filter("_missing"),
                         pl.format("inquiry {}", pl.col("inquiry_id")), "created_at", rules)
    return counts, examples


def events_without_record(inputs: UnderReportingInputs, rules: UnderReportingRules
                          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """EVENT_WITHOUT_RECORD counts per furnisher, and masked examples: ``opened`` events of a month the
    furnisher has filed, whose account no record of that month or later shows."""
    events = _eligible(inputs.events, inputs.last_filed, "occurred_at", rules.event_grace_periods).drop(
        "last_period")
    events = events.join(inputs.accounts.select("furnisher_id", "furnisher_account_id", "last_period"),
                         on=["furnisher_id", "furnisher_account_id"], how="left").with_columns(
        (pl.col("last_period").is_null() | (period_index("last_period") < pl.col("_month"))).alias("_missing"))
    person = pl.coalesce("person_id", -pl.col("event_row_id"))
    counts = _counts(EVENT_WITHOUT_RECORD, events, pl.col("_missing"), person)
    reference = pl.col("furnisher_account_id").map_elements(mask, return_dtype=pl.String)
    return counts, _examples(EVENT_WITHOUT_RECORD, events.filter("_missing"), reference, "occurred_at", rules)


def consents_without_record(inputs: UnderReportingInputs, rules: UnderReportingRules
                            ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CONSENT_WITHOUT_RECORD counts per furnisher (one per person), and masked examples: persons whose
    consent to furnish the furnisher recorded ``consent_grace_periods`` or more filed periods ago, and whom
    no record of its files names (by person, or by the consent's reference)."""
    consents = _eligible(inputs.consents, inputs.last_filed, "recorded_at", rules.consent_grace_periods)
    seen = inputs.furnished.with_columns(pl.lit(True).alias("_seen"))
    carried = inputs.furnished_refs.with_columns(pl.lit(True).alias("_carried"))
    consents = (consents.join(seen, on=["furnisher_id", "person_id"], how="left")
                .join(carried, on=["furnisher_id", "consent_ref"], how="left")
                .with_columns(pl.coalesce("person_id", -pl.col("consent_id")).alias("_person")))
    per_person = consents.sort("recorded_at").group_by("furnisher_id", "_person", maintain_order=True).agg(
        pl.col("consent_ref").first(), pl.col("recorded_at").first(),
        (~(pl.col("_seen").fill_null(False).any() | pl.col("_carried").fill_null(False).any())).alias("_missing"))
    counts = _counts(CONSENT_WITHOUT_RECORD, per_person, pl.col("_missing"), pl.col("_person"))
    reference = pl.col("consent_ref").map_elements(mask, return_dtype=pl.String)
    return counts, _examples(CONSENT_WITHOUT_RECORD, per_person.filter("_missing"), reference, "recorded_at", rules)


def _filed(frame: pl.DataFrame, last_filed: pl.DataFrame, who: str) -> pl.DataFrame:
    """Rows of a period the member ``who`` names has filed (its last filed period is that one or later)."""
    return frame.join(last_filed.rename({"furnisher_id": who}), on=who).filter(
        period_index("reporting_period") <= period_index("last_period")).drop("last_period")


def _per_loan(frame: pl.DataFrame, charged: str, loan: list[str], missing: pl.Expr) -> pl.DataFrame:
    """One row per loan charged to ``charged``: missing when missing in any judged period, dated by the first."""
    return frame.with_columns(missing.alias("_missing")).sort("reporting_period").group_by(
        charged, *loan, maintain_order=True).agg(
        pl.col("_missing").any(), pl.col("person_id").first(),
        pl.col("reporting_period").filter(pl.col("_missing")).first().alias("_period"),
        *(pl.col(c).first() for c in frame.columns if c == "facilitator")).rename({charged: "furnisher_id"}).with_columns(
        pl.col("_period").str.to_datetime("%Y-%m", time_zone="UTC").alias("_on"))


def joint_loans_not_reported(inputs: UnderReportingInputs, rules: UnderReportingRules
                             ) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR and ..._BY_FUNDER counts (one observation per loan) and examples.

    By facilitator: a funder's record names the facilitator and its account number for a period the facilitator
    has filed, and the facilitator's files hold no record of that account for it. By funder: a facilitator's
    record lists the funder for a period the funder has filed, and no record of the funder names that
    facilitator and account number for it. Examples are the charged furnisher's own account numbers, masked
    (for a funder, that has none of its own, the facilitator's code and its masked account number)."""
    claims = _filed(inputs.claims, inputs.last_filed, "facilitator_id")
    by_facilitator = _per_loan(claims, "facilitator_id", ["facilitator_account_id"], pl.col("facilitator_has") == 0)
    reported = inputs.claims.select(pl.col("furnisher_id").alias("funder_id"),
                                    pl.col("facilitator_id").alias("furnisher_id"),
                                    pl.col("facilitator_account_id").alias("furnisher_account_id"),
                                    "reporting_period", pl.lit(True).alias("_reported")).unique()
    listed = _filed(inputs.listings, inputs.last_filed, "funder_id").join(
        reported, on=["funder_id", "furnisher_id", "furnisher_account_id", "reporting_period"], how="left")
    listed = listed.rename({"furnisher_id": "facilitator_id"})
    by_funder = _per_loan(listed, "funder_id", ["facilitator_id", "furnisher_account_id"],
                          pl.col("_reported").is_null())
    masked = pl.col("facilitator_account_id").map_elements(mask, return_dtype=pl.String)
    out = []
    for code, frame, reference in (
            (JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR, by_facilitator, masked),
            (JOINT_LOAN_NOT_REPORTED_BY_FUNDER, by_funder, pl.format(
                "{} {}", pl.col("facilitator"), pl.col("furnisher_account_id").map_elements(
                    mask, return_dtype=pl.String)))):
        out.append((_counts(code, frame, pl.col("_missing"), pl.col("person_id")),
                    _examples(code, frame.filter("_missing"), reference, "_on", rules)))
    return out


def wilson(count: pl.Expr, n: pl.Expr, z: float) -> tuple[pl.Expr, pl.Expr]:
    """Lower and upper bounds of the Wilson score interval of ``count / n`` (null when ``n`` is 0).

    Example: 20 of 40 at z = 1.96 gives (0.352, 0.648).
    """
    p = count / n
    centre = p + z * z / (2 * n)
    spread = z * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt()
    denominator = 1 + z * z / n
    valid = n > 0
    return (pl.when(valid).then((centre - spread) / denominator),
            pl.when(valid).then((centre + spread) / denominator))


def judge(counts: pl.DataFrame, rules: UnderReportingRules) -> pl.DataFrame:
    """Rates, baselines, Wilson bounds, thresholds and flags of the counts (``COLUMNS``).

    The baseline of a market code is the pooled rate of every *other* furnisher (so that a large one does not
    set its own), when they hold ``min_market_observations``; that of events is ``event_tolerance``.
    """
    n, x = pl.col("observations"), pl.col("count")
    others_n = n.sum().over("code") - n
    others_x = x.sum().over("code") - x
    market = pl.col("code").is_in(MARKET_CODES)
    baseline = (pl.when(market & (others_n >= rules.min_market_observations)).then(others_x / others_n)
                .when(~market).then(pl.lit(rules.event_tolerance)))
    lower, upper = wilson(x.cast(pl.Float64), n.cast(pl.Float64), rules.z)
    judged = counts.with_columns((x / n).alias("rate"), baseline.alias("baseline"), lower.alias("lower"),
                                 upper.alias("upper")).with_columns(
        (pl.col("baseline") + pl.when(market).then(rules.min_excess).otherwise(0.0)).alias("threshold"),
        (x - n * pl.col("baseline")).round(0).clip(lower_bound=0).cast(pl.Int64).alias("excess"))
    enough = pl.when(market).then(n >= rules.min_observations).otherwise(True)
    flagged = (enough & (x >= rules.min_count) & (pl.col("lower") > pl.col("threshold"))).fill_null(False)
    return judged.with_columns(flagged.alias("flagged")).cast(COLUMNS).select(list(COLUMNS)).sort(
        "furnisher_id", "code")


def under_reporting(inputs: UnderReportingInputs, rules: UnderReportingRules | None = None
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every under-reporting finding of every furnisher (``COLUMNS``; a row per furnisher and code with at
    least one observation) and its masked examples (``EXAMPLE_SCHEMA``)."""
    rules = rules or UnderReportingRules()
    parts = [inquiries_without_account(inputs, rules), events_without_record(inputs, rules),
             consents_without_record(inputs, rules), *joint_loans_not_reported(inputs, rules)]
    counts = pl.concat([c for c, _ in parts]).filter(pl.col("observations") > 0)
    examples = pl.concat([e for _, e in parts])
    return judge(counts, rules), examples


def describe(code: str, count: int, observations: int, rate: float, baseline: float | None, lower: float,
             threshold: float | None, flagged: bool) -> str:
    """One sentence a reader can check against the evidence."""
    what = {INQUIRY_WITHOUT_ACCOUNT: "hard inquiries for loan applications not followed by any account",
            EVENT_WITHOUT_RECORD: "opened events without a monthly record",
            CONSENT_WITHOUT_RECORD: "persons with a consent to furnish never in the files",
            JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR: "loans its funders report as originated here that its files "
                                                    "lack",
            JOINT_LOAN_NOT_REPORTED_BY_FUNDER: "loans listing it as a funder that it does not report"}[code]
    against = ("the market's rate (other furnishers)" if code in MARKET_CODES else "the tolerance")
    base = "no baseline (too few observations elsewhere)" if baseline is None else f"{against} {baseline:.1%}"
    verdict = (f"flagged: the lower bound {lower:.1%} is above {threshold:.1%}" if flagged
               else "not flagged")
    return f"{count:,} of {observations:,} {what} ({rate:.1%}) against {base}; {verdict}"
