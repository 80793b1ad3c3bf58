"""API schemas of the quality domain: scorecards, anomaly flags and market statistics."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MetricResult(BaseModel):
    """One metric of a scorecard: its failure rate, its score and its weight in the grade."""

    name: str
    rate: float | None = Field(description="share of records, accounts or files failing it; null: not applicable")
    score: float | None = Field(description="1 − rate / tolerance, clipped to [0, 1]; null: not applicable")
    weight: float = Field(description="weight in the grade before re-normalising over applicable metrics")
    tolerance: float
    description: str


class CodeCount(BaseModel):
    """A finding code and how many records carried it."""

    code: str
    severity: str
    records: int


class Anomaly(BaseModel):
    """A period that departs from the furnisher's own history, with the evidence."""

    furnisher: str
    reporting_period: str
    rule: str = Field(description="VOLUME_DROP, DELINQUENCY_FALL or FIELD_EMPTIED")
    field: str | None = None
    value: float
    baseline: float = Field(description="median of the furnisher's previous periods")
    threshold: float = Field(description="the value below which the rule flags")
    observations: int = Field(description="records or accounts the value is measured on")
    message: str


class UnderReportingFinding(BaseModel):
    """Evidence beside a furnisher's files that accounts are missing from them (docs/quality.md)."""

    code: str = Field(description="INQUIRY_WITHOUT_ACCOUNT, EVENT_WITHOUT_RECORD, CONSENT_WITHOUT_RECORD, "
                                  "JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR or JOINT_LOAN_NOT_REPORTED_BY_FUNDER")
    observations: int = Field(description="inquiries, opened events or persons with a consent judged")
    count: int = Field(description="of them, not followed by any account / without a monthly record / never in "
                                   "the files")
    rate: float
    baseline: float | None = Field(description="the rate of the rest of the market (inquiries, consents) or the "
                                               "tolerance (events); null: too few observations elsewhere")
    lower: float | None = Field(description="lower bound of the rate's Wilson interval (99%)")
    upper: float | None
    threshold: float | None = Field(description="the lower bound above which the finding is flagged")
    excess: int | None = Field(description="count beyond what the baseline explains")
    corroborated: int = Field(description="inquiries not followed by an account although the lender's own opened "
                                          "event for the person is in the window")
    flagged: bool
    examples: list[str] = Field(description="masked references (inquiry numbers, account numbers, consent "
                                            "references) with their date; never an identity number or a name")
    message: str


class UnderReportingCell(BaseModel):
    """A furnisher's under-reporting figures in the regulator's statistics; null and ``suppressed`` when the
    count describes fewer than k persons."""

    furnisher: str
    code: str
    observations: int | None
    count: int | None
    persons: int | None = Field(description="distinct persons the count is about")
    rate: float | None
    baseline: float | None
    excess: int | None
    flagged: bool
    suppressed: bool


class Scorecard(BaseModel):
    """A furnisher's data quality over a window of reporting periods, and its grade."""

    furnisher: str
    period_from: str
    period_to: str
    periods: int
    files: int
    late_files: int
    max_days_to_submit: int | None = Field(description="days from period end to the latest file's arrival")
    records_received: int
    records_rejected: int
    accounts_stored: int
    consent_coverage: float | None = Field(description="share of stored records not held for want of consent "
                                                       "(reported beside the grade, not in it)")
    vanished_accounts: int
    impossible_moves: int
    identity_conflicts: int | None = Field(None, description="identity conflicts the resolver charged to the "
                                           "furnisher's data so far (same ID with other names or birth dates, "
                                           "shared phones); reported beside the grade")
    event_discrepancies: int | None = Field(None, description="lending events its monthly files contradict or leave "
                                            "out (reconciliation, docs/events.md); reported beside the grade")
    score: float | None
    grade: str | None
    metrics: list[MetricResult]
    top_codes: list[CodeCount]
    anomalies: list[Anomaly]
    under_reporting: list[UnderReportingFinding] = Field(
        default_factory=list, description="evidence independent of the furnisher's files that accounts are "
        "missing from them (reported beside the grade, not in it)")


class ScorecardReport(BaseModel):
    """Scorecards of every furnisher the caller may see."""

    period: str
    months: int
    periods: list[str]
    bands: dict[str, float] = Field(description="lowest score of each grade")
    seconds: float = Field(description="time the batch job took")
    scorecards: list[Scorecard]


class MarketCell(BaseModel):
    """Figures of one group of live accounts; null and ``suppressed`` when it describes fewer than k persons."""

    furnisher: str | None = None
    product_type: str | None = None
    accounts: int | None
    persons: int | None
    balance: int | None = Field(description="outstanding balance, minor units (fen)")
    delinquent_30_rate: float | None = Field(description="share of accounts more than 30 days past due")
    delinquent_90_rate: float | None = Field(description="share 90+ days past due or charged off")
    balance_90_share: float | None = Field(description="share of the balance 90+ days past due or charged off")
    credit_share: float | None = Field(None, description="share of the market's credit balance")
    short_term_balance: int | None = None
    short_term_share: float | None = Field(None, description="share of short-term consumer credit")
    hhi: float | None = Field(None, description="concentration among furnishers, 0–10,000")
    furnishers: int | None = None
    suppressed: bool


class MultiLending(BaseModel):
    """Persons with live credit accounts at ``min_lenders`` or more lenders."""

    min_lenders: int
    persons: int | None
    share_of_borrowers: float | None
    suppressed: bool


class ExposureCell(BaseModel):
    """A funder's exposure to one facilitator's loans in the period (standard v1.1; null and ``suppressed``
    when the cell describes fewer than k persons)."""

    funder: str
    facilitator: str
    loans: int | None
    persons: int | None
    balance: int | None = Field(description="the loans' balances, minor units")
    funded_balance: int | None = Field(description="the funder's part: balance x share, summed over the loans")
    past_due_funded_balance: int | None = Field(description="of it, on loans reported days past due")
    past_due_share: float | None = Field(description="past_due_funded_balance / funded_balance")
    suppressed: bool


class BorrowerTypeCell(BaseModel):
    """Live credit accounts of one kind of borrower (standard v1.1); figures blanked below k borrowers."""

    borrower_type: str = Field(description="person (persons' own loans), sole_trader (business loans of persons "
                                           "as sole traders) or enterprise (firms)")
    accounts: int | None
    borrowers: int | None = Field(description="distinct persons (person, sole_trader) or enterprises (enterprise)")
    balance: int | None
    delinquent_90_rate: float | None
    suppressed: bool


class MarketReport(BaseModel):
    """Market statistics of one reporting period (aggregates only; never a person)."""

    period: str
    k: int = Field(description="cells describing fewer persons are suppressed")
    include_held: bool
    currency_minor_unit: int = Field(default=2, description="balances are integers in minor units (CNY: fen): "
                                                            "divide by 10 ** currency_minor_unit for yuan")
    short_term_definition: str
    accounts: int
    borrowers: int | None
    hhi_credit: float | None
    hhi_short_term: float | None
    by_furnisher: list[MarketCell]
    by_product: list[MarketCell]
    by_furnisher_product: list[MarketCell]
    multi_lending: list[MultiLending]
    by_borrower_type: list[BorrowerTypeCell] = Field(default_factory=list, description="persons, sole traders and "
                                                     "enterprises (standard v1.1)")
    under_reporting_periods: list[str] = Field(default_factory=list, description="the window the under-reporting "
                                               "figures cover (the bureau's scorecard window ending at period)")
    under_reporting: list[UnderReportingCell] = Field(default_factory=list)
    funder_exposure: list[ExposureCell] = Field(default_factory=list, description="each funder's exposure to each "
                                                "facilitator's loans (joint lending, docs/quality.md)")
    seconds: float
