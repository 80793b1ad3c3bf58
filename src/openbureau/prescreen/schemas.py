"""API schemas of prescreening: a lender's criteria and firm offer, the run, the list, and a person's opt-out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REGION_PATTERN = r"^([A-Z]{2}|[0-9]{3,5})$"
OFFER_PRODUCTS = ("credit_card", "revolving", "installment", "auto", "mortgage")


class PrescreenCriteria(BaseModel):
    """What a person's file must show to be on the list. Every criterion given must hold; at least one is
    required. Amounts are minor units of the profile's currency."""

    model_config = ConfigDict(extra="forbid")

    score_min: int | None = Field(None, ge=0, le=10_000, description="Lowest score on the released scorecard.")
    score_max: int | None = Field(None, ge=0, le=10_000, description="Highest score on the released scorecard.")
    no_delinquency_days: Literal[30, 60, 90] | None = Field(
        None, description="No credit account this many days or more past due in the last `delinquency_months`.")
    delinquency_months: int = Field(24, ge=1, le=84, description="The window of `no_delinquency_days`.")
    max_open_accounts: int | None = Field(None, ge=0, le=1_000, description="Most open credit accounts.")
    max_total_balance: int | None = Field(None, ge=0, le=10**15, description="Most owed on open credit accounts.")
    regions: list[str] | None = Field(
        None, min_length=1, max_length=60,
        description="US state codes (`IL`) or ZIP code prefixes of 3 to 5 digits (`606`): the mailing address "
                    "must be in one of them.")


class PrescreenCreate(BaseModel):
    """A lender's prescreen: the criteria, the firm offer it will make to everyone on the list, and a cap."""

    model_config = ConfigDict(extra="forbid")

    criteria: PrescreenCriteria
    offer_product: Literal["credit_card", "revolving", "installment", "auto", "mortgage"] = Field(
        description="The kind of credit firmly offered (FCRA §603(l)).")
    offer_terms: str = Field(min_length=10, max_length=500,
                             description="The firm offer as the lender will make it (rate, limit, conditions).")
    max_persons: int = Field(10_000, ge=1, le=1_000_000, description="The most persons the list may hold.")


class PrescreenRead(BaseModel):
    """A prescreen as its lender sees it: never a person's data."""

    id: int
    status: Literal["running", "done"]
    criteria: PrescreenCriteria
    offer_product: str
    offer_terms: str
    max_persons: int
    model_version: str | None = Field(description="The scorecard the score range was applied with.")
    persons_considered: int = Field(description="Files read against the criteria (after the exclusions).")
    persons_selected: int
    created_at: datetime
    finished_at: datetime | None


class FirmOfferEntry(BaseModel):
    """One person on the list: what a firm offer needs to be mailed, and nothing of the credit file (§604(c)(2))."""

    reference: str = Field(description="The bureau's reference of this person on this list (pre-<list>-<n>).")
    name: str
    address: str


class FirmOfferList(BaseModel):
    """A page of a prescreen's list."""

    prescreen_id: int
    entries: list[FirmOfferEntry]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last.")


class OptOutCreate(BaseModel):
    """A person's election: five years (phone or online) or permanent (a signed notice of election)."""

    model_config = ConfigDict(extra="forbid")

    term: Literal["five_years", "permanent"] = "five_years"


class OptOutRead(BaseModel):
    """The person's opt-out from prescreened offers."""

    id: int
    term: str
    channel: str
    starts_at: datetime
    expires_at: datetime | None = Field(description="None: until you opt back in.")
    ended_at: datetime | None = Field(description="When you opted back in.")
    in_force: bool


class OptOutStatus(BaseModel):
    """Whether the person is off prescreened lists now, and the history of their elections."""

    in_force: bool
    current: OptOutRead | None
    history: list[OptOutRead]
    note: str = Field(description="What the law allows under the bureau's profile.")
