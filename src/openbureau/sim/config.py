"""Parameters of the synthetic market: furnisher profiles, products, defect rates, population and behaviour.

Everything the generator draws from is declared here as frozen dataclasses, so that a run is described
by (config, seed, persons, months, end period) and the calibration in docs/simulation.md can point at
one place. Rates are monthly unless a name says otherwise; amounts are in yuan here and in fen (minor
units) in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

from openbureau.intake.standard import REVOLVING_PRODUCTS


class Kind(IntEnum):
    """How an account's balance moves."""

    REVOLVING = 0  # credit line: draws and payments, minimum payment due
    INSTALLMENT = 1  # amortising loan: fixed instalment, fixed term
    BILL = 2  # non-credit payment obligation: a monthly bill, arrears only when unpaid


@dataclass(frozen=True, slots=True)
class Product:
    """One product a furnisher offers, with how common it is and how its amounts are drawn."""

    product_type: str
    prefix: str  # start of the furnisher's account number
    reach: float  # share of eligible persons holding one when the simulation starts
    open_rate: float  # monthly probability that an eligible person opens a new one
    apr: float = 0.0  # nominal annual rate
    amount_multiple: float = 1.0  # median limit / principal / bill as a multiple of monthly income
    amount_range: tuple[int, int] = (1_000, 50_000)  # yuan, clip bounds
    amount_step: int = 100  # yuan, amounts are rounded to this step
    terms: tuple[int, ...] = ()  # months, for instalment products
    # Short loans (micro-loans, pay-later): repaid in one payment this many days after opening (at most 28,
    # so the payment falls in the month of opening or the next); reported with term_months 1.
    term_days: tuple[int, ...] = ()
    thin_ok: bool = False  # offered to thin-file persons (no bank relationship)
    risk_tilt: float = 0.0  # logit shift of reach and opening per unit of latent risk
    income_tilt: float = 0.0  # logit shift per unit of log-income above the median
    stackable: bool = False  # a person may hold several at once (cash loans, BNPL orders)
    min_payment: float = 0.1  # revolving: share of the statement balance due
    prepay_rate: float = 0.0  # instalment: monthly probability of early repayment
    close_rate: float = 0.0  # revolving and bills: monthly probability of closing when settled
    miss_factor: float = 1.0  # relative propensity to miss a payment on this product

    @property
    def kind(self) -> Kind:
        """Balance dynamics of the product."""
        if self.product_type in REVOLVING_PRODUCTS:
            return Kind.REVOLVING
        if self.product_type in ("utility", "telecom", "rent"):
            return Kind.BILL
        return Kind.INSTALLMENT


@dataclass(frozen=True, slots=True)
class DefectRates:
    """Injected data-quality defects; per record unless noted (late files are per file)."""

    missing_required: float = 0.0  # a required field left empty
    invalid_id_number: float = 0.0  # share of resident-ID records with a wrong check digit
    status_mismatch: float = 0.0  # payment_status disagreeing with days_past_due
    closed_with_balance: float = 0.0  # account_status closed while a balance is owed
    duplicate_record: float = 0.0  # the same record sent twice
    dropped_account: float = 0.0  # share of open accounts silently left out of a month's file
    late_file: float = 0.0  # share of monthly files arriving after the late threshold
    # Lending events (daily files): an opened or repayment event contradicting the monthly records (amount,
    # opened_on, account number) or an opened event never sent; per opened and repayment event.
    event_contradiction: float = 0.0


@dataclass(frozen=True, slots=True)
class Timeliness:
    """Days after the period end that a monthly file arrives."""

    on_time_days: tuple[int, int] = (3, 8)
    late_days: tuple[int, int] = (25, 60)


@dataclass(frozen=True, slots=True)
class IdentityNoise:
    """How a furnisher's records of a person differ from the person's true identity."""

    name_typo: float = 0.005  # one character replaced by a look-alike / same-sound one
    name_swapped: float = 0.002  # given name written before the surname
    name_spaced: float = 0.0  # a space between surname and given name
    id_other: float = 0.0  # id_type OTHER with the furnisher's customer number instead of the ID
    id_passport: float = 0.0  # passport instead of the resident ID, when the person has one
    phone_missing: float = 0.02
    # weights over identities.PHONE_STYLES: plain, +86 spaced, +86 compact, dashes, spaces, +86 dashes
    phone_styles: tuple[float, ...] = (0.8, 0.05, 0.05, 0.04, 0.04, 0.02)
    phone_update: float = 0.3  # monthly probability of learning a person's new number
    address_missing: float = 0.05
    address_short: float = 0.2  # address without the province
    # Variation foreign and older systems bring (docs/simulation.md); drawn from a stream of their own.
    name_latin_given_first: float = 0.0  # pinyin, given name first (``Weiming Zhang``)
    name_traditional: float = 0.0  # traditional characters (张伟 → 張偉)
    name_truncated: float = 0.0  # a two-character given name cut to its first character
    passport_latin: float = 0.6  # of records identified by passport: the passport's ``ZHANG WEIMING``
    dob_transposed: float = 0.0  # day and month swapped (a MM/DD system), when both are 12 or less
    address_abbreviated: float = 0.0  # ``深圳南山区...3-2-1203``: no province, no 市, building-unit-room


@dataclass(frozen=True, slots=True)
class FurnisherProfile:
    """A member that furnishes monthly files (and, for lenders, also queries)."""

    code: str
    name: str
    roles: tuple[str, ...]
    format: str  # csv | parquet | jsonl
    consent_rate: float  # share of the furnisher's customers whose consent to furnish it holds
    consent_later: float  # share of those consents collected after onboarding (during the relationship)
    consent_channels: tuple[str, ...]
    timeliness: Timeliness
    defects: DefectRates
    noise: IdentityNoise
    negative_notice: bool  # records carry negative_notice_date when past due
    products: tuple[Product, ...]
    events: bool = False  # also reports lending events the day they happen (daily event files)


@dataclass(frozen=True, slots=True)
class SubscriberProfile:
    """A member that only queries the bureau."""

    code: str
    name: str
    roles: tuple[str, ...] = ("subscriber",)


LENDER_ROLES = ("furnisher", "subscriber")

_SUPERAPP = FurnisherProfile(
    code="SUPERAPP",
    name="Super-app payment platform (credit line and cash loans)",
    roles=LENDER_ROLES,
    format="csv",
    consent_rate=0.25,
    consent_later=0.4,
    consent_channels=("app",),
    timeliness=Timeliness((2, 6), (20, 45)),
    defects=DefectRates(0.003, 0.002, 0.003, 0.001, 0.004, 0.003, 0.04, event_contradiction=0.003),
    noise=IdentityNoise(name_typo=0.004, phone_missing=0.0, phone_update=0.6, address_missing=0.3),
    negative_notice=True,
    products=(
        Product("revolving", "HB", 0.55, 0.004, apr=0.15, amount_multiple=0.6, amount_range=(500, 50_000),
                risk_tilt=0.2, income_tilt=0.3, close_rate=0.002),
        Product("installment", "JB", 0.12, 0.008, apr=0.146, amount_multiple=1.0, amount_range=(1_000, 50_000),
                terms=(3, 6, 12), risk_tilt=0.5, stackable=True, prepay_rate=0.03, miss_factor=1.2),
    ),
    events=True,
)
_DIGIBANK = FurnisherProfile(
    code="DIGIBANK",
    name="Digital bank (instalment cash loans)",
    roles=LENDER_ROLES,
    format="parquet",
    consent_rate=0.7,
    consent_later=0.1,
    consent_channels=("app", "web"),
    timeliness=Timeliness((1, 3), (15, 40)),
    defects=DefectRates(0.0005, 0.0005, 0.0005, 0.0002, 0.0005, 0.0005, 0.01, event_contradiction=0.001),
    noise=IdentityNoise(name_typo=0.002, phone_missing=0.0, phone_update=0.5, address_missing=0.1),
    negative_notice=True,
    products=(
        Product("installment", "WLD", 0.12, 0.007, apr=0.18, amount_multiple=2.0, amount_range=(2_000, 200_000),
                amount_step=500, terms=(6, 12, 24, 36), risk_tilt=0.4, stackable=True, prepay_rate=0.02),
    ),
    events=True,
)
_ECOMM = FurnisherProfile(
    code="ECOMM",
    name="E-commerce lender (BNPL and instalments)",
    roles=LENDER_ROLES,
    format="jsonl",
    consent_rate=0.55,
    consent_later=0.3,
    consent_channels=("app", "web"),
    timeliness=Timeliness((4, 10), (25, 60)),
    defects=DefectRates(0.008, 0.004, 0.006, 0.002, 0.01, 0.005, 0.08, event_contradiction=0.008),
    noise=IdentityNoise(name_typo=0.01, name_swapped=0.005, phone_styles=(0.6, 0.2, 0.1, 0.05, 0.05, 0.0),
                        name_latin_given_first=0.005, name_traditional=0.003, dob_transposed=0.003,
                        address_abbreviated=0.2),
    negative_notice=True,
    products=(
        Product("bnpl", "BT", 0.3, 0.02, apr=0.0, amount_multiple=0.3, amount_range=(100, 10_000), amount_step=10,
                terms=(1, 3, 6, 12), thin_ok=True, risk_tilt=0.2, stackable=True, prepay_rate=0.02),
        Product("installment", "JT", 0.05, 0.003, apr=0.12, amount_multiple=1.5, amount_range=(2_000, 50_000),
                terms=(6, 12, 24), risk_tilt=0.3, stackable=True, prepay_rate=0.02),
    ),
    events=True,
)


def _bank(code: str, name: str, card_prefix: str, loan_prefix: str, card_reach: float,
          consent: float, defects: DefectRates, late: float) -> FurnisherProfile:
    return FurnisherProfile(
        code=code,
        name=name,
        roles=LENDER_ROLES,
        format="csv",
        consent_rate=consent,
        consent_later=0.05,
        consent_channels=("branch", "app", "web", "paper"),
        timeliness=Timeliness((2, 6), (20, 50)),
        defects=replace(defects, late_file=late),
        noise=IdentityNoise(name_typo=0.002, name_spaced=0.01, id_passport=0.01, phone_update=0.1,
                            phone_styles=(0.5, 0.1, 0.1, 0.15, 0.1, 0.05), address_short=0.1,
                            name_traditional=0.002),
        negative_notice=True,
        products=(
            Product("credit_card", card_prefix, card_reach, 0.0015, apr=0.18, amount_multiple=3.0,
                    amount_range=(3_000, 200_000), amount_step=1_000, risk_tilt=-0.3, income_tilt=0.8,
                    close_rate=0.002, miss_factor=0.8),
            Product("mortgage", loan_prefix + "M", 0.05, 0.0004, apr=0.042, amount_multiple=150.0,
                    amount_range=(200_000, 5_000_000), amount_step=10_000, terms=(240, 300, 360),
                    risk_tilt=-0.5, income_tilt=1.0, prepay_rate=0.004, miss_factor=0.4),
            Product("auto", loan_prefix + "A", 0.03, 0.0008, apr=0.06, amount_multiple=25.0,
                    amount_range=(30_000, 500_000), amount_step=1_000, terms=(24, 36, 60), risk_tilt=-0.2,
                    income_tilt=0.5, prepay_rate=0.01, miss_factor=0.6),
        ),
        events=True,
    )


_BANK_A = _bank("BANK_A", "Bank A (national joint-stock bank)", "6225", "BA", 0.18, 0.95,
                DefectRates(0.001, 0.0005, 0.001, 0.0005, 0.001, 0.001, event_contradiction=0.001), 0.02)
_BANK_B = _bank("BANK_B", "Bank B (city commercial bank)", "6230", "BB", 0.13, 0.9,
                DefectRates(0.004, 0.002, 0.004, 0.002, 0.003, 0.004, event_contradiction=0.003), 0.06)
_CONSFIN = FurnisherProfile(
    code="CONSFIN",
    name="Consumer-finance company (cash and point-of-sale loans)",
    roles=LENDER_ROLES,
    format="csv",
    consent_rate=0.6,
    consent_later=0.2,
    consent_channels=("app", "paper", "web"),
    timeliness=Timeliness((5, 12), (30, 70)),
    defects=DefectRates(0.01, 0.005, 0.01, 0.004, 0.008, 0.01, 0.1, event_contradiction=0.01),
    noise=IdentityNoise(name_typo=0.01, name_swapped=0.01, phone_styles=(0.6, 0.1, 0.1, 0.1, 0.1, 0.0),
                        name_truncated=0.01, dob_transposed=0.005, address_abbreviated=0.2),
    negative_notice=True,
    products=(
        Product("installment", "XF", 0.08, 0.005, apr=0.24, amount_multiple=1.5, amount_range=(1_000, 80_000),
                terms=(6, 12, 24), risk_tilt=0.8, income_tilt=-0.3, stackable=True, prepay_rate=0.02,
                miss_factor=1.3),
    ),
    events=True,
)
def _micro(code: str, name: str, fmt: str, consent: tuple[float, float], timeliness: Timeliness,
           defects: DefectRates, name_typo: float, products: tuple[Product, ...]) -> FurnisherProfile:
    """An online micro-lending platform: app-only customers, short loans."""
    return FurnisherProfile(
        code=code,
        name=name,
        roles=LENDER_ROLES,
        format=fmt,
        consent_rate=consent[0],
        consent_later=consent[1],
        consent_channels=("app",),
        timeliness=timeliness,
        defects=defects,
        noise=IdentityNoise(name_typo=name_typo, phone_missing=0.0, phone_update=0.7, address_missing=0.4),
        negative_notice=True,
        products=products,
        events=True,
    )


# Micro-loans and pay-later purchases are repaid in one payment within weeks (``term_days``). Cash loans
# need a credit history (a thin file only ever holds BNPL, utility and telecom accounts); pay-later does not.
_MICRO_A = _micro(
    "MICRO_A", "Online micro-lender A (short cash loans)", "csv", (0.75, 0.1), Timeliness((1, 4), (15, 40)),
    DefectRates(0.002, 0.001, 0.002, 0.001, 0.002, 0.002, 0.03, event_contradiction=0.005), 0.003,
    (Product("installment", "MA", 0.02, 0.015, apr=0.24, amount_multiple=0.3, amount_range=(500, 10_000),
             term_days=(7, 14, 21, 28), risk_tilt=0.8, income_tilt=-0.4, miss_factor=1.4),),
)
_MICRO_B = _micro(
    "MICRO_B", "Online micro-lender B (cash loans)", "jsonl", (0.6, 0.2), Timeliness((2, 6), (20, 45)),
    DefectRates(0.006, 0.003, 0.005, 0.002, 0.006, 0.005, 0.06, event_contradiction=0.01), 0.006,
    (Product("installment", "MB", 0.015, 0.012, apr=0.24, amount_multiple=0.4, amount_range=(500, 10_000),
             term_days=(14, 28), risk_tilt=0.8, income_tilt=-0.3, miss_factor=1.4),
     Product("installment", "MBL", 0.01, 0.005, apr=0.24, amount_multiple=0.8, amount_range=(1_000, 20_000),
             terms=(3, 6), risk_tilt=0.8, income_tilt=-0.3, stackable=True, prepay_rate=0.03,
             miss_factor=1.3)),
)
_MICRO_C = _micro(
    "MICRO_C", "Online micro-lender C (payday loans)", "csv", (0.5, 0.3), Timeliness((3, 8), (25, 60)),
    DefectRates(0.012, 0.006, 0.012, 0.004, 0.012, 0.012, 0.1, event_contradiction=0.015), 0.01,
    (Product("installment", "MC", 0.015, 0.015, apr=0.24, amount_multiple=0.2, amount_range=(300, 5_000),
             term_days=(7, 14), risk_tilt=1.0, income_tilt=-0.5, miss_factor=1.6),),
)
_PAYLATER = _micro(
    "PAYLATER", "Pay-later app (pay in two or four weeks)", "parquet", (0.8, 0.1), Timeliness((1, 3), (15, 40)),
    DefectRates(0.001, 0.0005, 0.001, 0.0005, 0.001, 0.001, 0.02, event_contradiction=0.004), 0.002,
    (Product("bnpl", "PL", 0.03, 0.02, apr=0.0, amount_multiple=0.15, amount_range=(50, 5_000), amount_step=10,
             term_days=(14, 28), thin_ok=True, risk_tilt=0.3),),
)

_TELECOM = FurnisherProfile(
    code="TELECOM",
    name="Mobile network operator (post-paid plans)",
    roles=("furnisher",),
    format="csv",
    consent_rate=0.8,
    consent_later=0.2,
    consent_channels=("sms", "app", "branch"),
    timeliness=Timeliness((3, 10), (30, 60)),
    defects=DefectRates(0.02, 0.01, 0.005, 0.002, 0.005, 0.01, 0.05),
    noise=IdentityNoise(name_typo=0.01, id_other=0.03, phone_missing=0.0, phone_update=1.0,
                        phone_styles=(1.0, 0.0, 0.0, 0.0, 0.0, 0.0), address_missing=0.2, name_truncated=0.01,
                        address_abbreviated=0.3),
    negative_notice=True,
    products=(
        Product("telecom", "TEL", 0.55, 0.002, amount_multiple=0.02, amount_range=(30, 500), amount_step=1,
                thin_ok=True, close_rate=0.004, miss_factor=1.5),
    ),
)
_UTILITY = FurnisherProfile(
    code="UTILITY",
    name="Power and water utility",
    roles=("furnisher",),
    format="csv",
    consent_rate=0.5,
    consent_later=0.3,
    consent_channels=("web", "paper"),
    timeliness=Timeliness((5, 15), (35, 90)),
    defects=DefectRates(0.03, 0.01, 0.01, 0.003, 0.01, 0.02, 0.15),
    noise=IdentityNoise(name_typo=0.02, name_swapped=0.01, id_other=0.15, phone_missing=0.2,
                        phone_update=0.05, phone_styles=(0.4, 0.0, 0.0, 0.3, 0.3, 0.0), address_short=0.5,
                        name_truncated=0.02, name_traditional=0.005, dob_transposed=0.01, address_abbreviated=0.3),
    negative_notice=False,
    products=(
        Product("utility", "UT", 0.4, 0.002, amount_multiple=0.03, amount_range=(20, 1_000), amount_step=1,
                thin_ok=True, close_rate=0.003, miss_factor=1.2),
    ),
)

FURNISHERS: tuple[FurnisherProfile, ...] = (
    _SUPERAPP, _DIGIBANK, _ECOMM, _BANK_A, _BANK_B, _CONSFIN, _MICRO_A, _MICRO_B, _MICRO_C, _PAYLATER, _TELECOM,
    _UTILITY,
)
# Online lending platforms (not banks, not bills): where over-borrowing episodes happen.
PLATFORMS: tuple[str, ...] = ("SUPERAPP", "DIGIBANK", "ECOMM", "CONSFIN", "MICRO_A", "MICRO_B", "MICRO_C", "PAYLATER")
SUBSCRIBERS: tuple[SubscriberProfile, ...] = (
    SubscriberProfile("LENDER_X", "Online micro-lender X"),
    SubscriberProfile("LENDER_Y", "Rural commercial bank Y"),
    SubscriberProfile("LENDER_Z", "Auto-finance company Z"),
)


@dataclass(frozen=True, slots=True)
class PopulationParams:
    """Who the persons are."""

    age_range: tuple[int, int] = (18, 75)  # at the start of the simulated history
    male_share: float = 0.51
    income_median: float = 5_000.0  # yuan a month
    income_sigma: float = 0.6  # of log income
    rich_provinces: tuple[str, ...] = ("北京市", "上海市", "广东省", "浙江省", "江苏省", "天津市")
    rich_multiplier: float = 1.5
    thin_file_share: float = 0.15
    passport_share: float = 0.12
    # Persons given the name and birth date of another person of their block (own ID, phone and address),
    # on top of the pools' own coincidences: a common name is shared by hundreds of thousands in China.
    namesake_share: float = 0.01
    phone_change_share: float = 0.2  # persons who change their mobile number during the window
    fraud_share: float = 0.004  # synthetic identities, all members of fraud rings
    ring_size: tuple[int, int] = (3, 8)
    ring_lenders: tuple[str, ...] = ("SUPERAPP", "DIGIBANK", "ECOMM", "BANK_A", "BANK_B", "CONSFIN")


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    """How accounts move from month to month."""

    burn_in_months: int = 12  # simulated before the window and not written, to reach a steady state
    distress_hazard: float = 0.0025  # monthly probability of a financial shock at latent risk 0
    risk_beta: float = 0.9  # log hazard per unit of latent risk
    macro_amplitude: float = 0.3  # log amplitude of the credit cycle
    macro_period_months: int = 48
    stacking_stages: int = 3  # months after a shock in which the person borrows from new lenders
    stacking_multiplier: float = 6.0  # opening rate multiplier at lenders not yet used
    miss_start_stage: int = 3  # stage from which a distressed person misses payments
    normal_miss: float = 0.006  # monthly probability of missing a due payment at latent risk 0
    distress_miss: float = 0.55
    normal_cure_hold: tuple[float, float] = (0.7, 0.1)  # delinquent: pay all / pay the current due
    distress_cure_hold: tuple[float, float] = (0.06, 0.12)
    recovery: float = 0.06  # monthly probability a distressed person recovers
    charge_off_days: int = 180
    settle_rate: float = 0.05  # monthly probability a charged-off account is settled
    notice_lag_days: tuple[int, int] = (1, 10)
    bust_out_after: tuple[int, int] = (2, 5)  # months from a ring's first account to bust-out
    ring_open_months: int = 2  # months over which ring members open their accounts


@dataclass(frozen=True, slots=True)
class EventParams:
    """The daily lending events of the furnishers that report them (``FurnisherProfile.events``)."""

    # Months at the end of the window with daily event files: the feed is recent beside years of monthly
    # files, and the bureau takes an event only within 90 days of when it happened.
    months: int = 3
    application_lag: tuple[float, float, float] = (0.6, 0.3, 0.1)  # an application 0, 1 or 2 days before opening
    asked_more: float = 0.2  # applications granted for less than was asked
    # Applications not followed by an opening, a month per person at latent risk 0; times exp(decline_risk
    # * risk), and decline_stacking times more in the months of loan stacking after a shock.
    decline_rate: float = 0.01
    decline_risk: float = 0.7
    decline_stacking: float = 4.0
    # Shopping: before a loan is granted the person applied for the same kind of credit at one or two other
    # lenders too, in the days before, and took none of those (compared offers, or was declined there).
    shopping_share: float = 0.25
    shopping_lenders: tuple[int, int] = (1, 2)
    shopping_days: int = 3


@dataclass(frozen=True, slots=True)
class OverBorrowingParams:
    """Over-borrowing episodes: a person takes loans from several platforms within a few days."""

    share: float = 0.015  # persons with an episode (weighted towards high latent risk)
    # Episodes fall in the last months of the window: those of the default event feed, so that the bureau
    # can be measured seeing them through events and through monthly files alone.
    months: int = 3
    lenders: tuple[int, int] = (3, 8)  # distinct platforms borrowed from, at most len(platforms)
    lender_decay: float = 0.7  # P(n lenders) falls by this factor for each lender more
    days: tuple[int, int] = (1, 10)  # days from the first loan of the episode to its last
    platforms: tuple[str, ...] = PLATFORMS
    distress: float = 0.5  # share of episodes that come with a financial shock (the person then misses more)


@dataclass(frozen=True, slots=True)
class FraudPatternParams:
    """Fraud beyond the rings (docs/simulation.md, Fraud patterns); shares are of a block's persons."""

    # Patterns begin in the last months of the window (those of the default event feed, so that their
    # applications reach the bureau as lending events; the demo, with a shorter feed, sets its months to the
    # feed's); their defaults may fall after the window.
    months: int = 3
    # Bust-out: an established person with a good history opens credit at several lenders over a few weeks,
    # draws every line, then stops paying everything.
    bust_out_share: float = 0.002
    bust_out_lenders: tuple[int, int] = (3, 6)
    bust_out_days: tuple[int, int] = (1, 10)  # from the first new account to the last
    # The applications are stacked: sent to every lender within hours, before the first is granted (each
    # lender's check of the bureau must not yet see the others' loans), from 10 minutes to this many hours
    # before the first account is opened.
    bust_out_apply_hours: int = 18
    # Synthetic identity built over months: a new file that starts with small accounts, pays for months, then
    # borrows big at several lenders and stops paying; its address is an unrelated person's.
    built_share: float = 0.002
    built_months: tuple[int, int] = (6, 10)  # months of good behaviour before the big borrowing
    built_lenders: tuple[int, int] = (3, 5)
    built_days: tuple[int, int] = (3, 21)
    # Account takeover: a fraudster puts their phone number on one of an established person's accounts, then
    # borrows at other lenders within days; nothing borrowed is repaid.
    takeover_share: float = 0.002
    takeover_lenders: tuple[int, int] = (2, 4)
    takeover_days: tuple[int, int] = (1, 10)  # days the new accounts span, the first opened 2 days after the change


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything a run depends on besides seed, size and end period."""

    block_size: int = 25_000
    population: PopulationParams = field(default_factory=PopulationParams)
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)
    events: EventParams = field(default_factory=EventParams)
    over_borrowing: OverBorrowingParams = field(default_factory=OverBorrowingParams)
    fraud_patterns: FraudPatternParams = field(default_factory=FraudPatternParams)
    furnishers: tuple[FurnisherProfile, ...] = FURNISHERS
    subscribers: tuple[SubscriberProfile, ...] = SUBSCRIBERS


DEFAULT_CONFIG = SimConfig()

# Required fields a "missing required field" defect may blank, with relative weights.
MISSABLE_FIELDS: tuple[tuple[str, float], ...] = (
    ("id_number", 3.0), ("full_name", 2.0), ("birth_date", 2.0), ("opened_on", 1.0), ("id_type", 0.5),
    ("product_type", 0.5), ("currency", 0.5), ("balance", 1.0), ("amount_due", 0.5), ("amount_paid", 0.5),
    ("past_due_amount", 0.5), ("days_past_due", 0.5), ("payment_status", 1.0), ("account_status", 0.5),
)
