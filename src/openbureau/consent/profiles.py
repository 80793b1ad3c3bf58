"""Jurisdiction profiles: the legal defaults the bureau enforces, chosen by ``OPENBUREAU_JURISDICTION``.

Each rule cites what it implements. The CN profile follows the PRC Regulation on the Administration of the
Credit Reporting Industry (2013) and the Personal Information Protection Law (PIPL, 2021); the US profile
follows the Fair Credit Reporting Act (FCRA).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Purpose(StrEnum):
    """Why data is collected or looked at."""

    FURNISH = "furnish"  # consent to a furnisher to report the person's data to the bureau
    LOAN_ORIGINATION = "loan_origination"  # a lender deciding on an application (hard inquiry)
    ACCOUNT_REVIEW = "account_review"  # monitoring an existing account (post-loan management; soft)
    COLLECTIONS = "collections"  # recovering a debt owed (soft)
    SELF_INQUIRY = "self_inquiry"  # the person looking at their own file (soft)
    DISPUTE_HANDLING = "dispute_handling"  # the bureau or a furnisher investigating a dispute (soft)


QUERY_PURPOSES = tuple(p for p in Purpose if p is not Purpose.FURNISH)
HARD_PURPOSES = frozenset({Purpose.LOAN_ORIGINATION})


class ErasureScope(StrEnum):
    """What a person may ask the bureau to erase (``people.erasure``)."""

    HELD_RECORDS = "held_records"  # records furnished without a consent in force, held back from the file
    EXPIRED_NEGATIVE = "expired_negative"  # negative months whose retention period has ended
    ALL_ALLOWED = "all_allowed"  # every category the profile allows


ERASURE_CATEGORIES = (ErasureScope.HELD_RECORDS, ErasureScope.EXPIRED_NEGATIVE)


@dataclass(frozen=True, slots=True)
class JurisdictionProfile:
    """The legal defaults of one jurisdiction."""

    code: str
    furnish_consent_required: bool
    # purpose -> the lawful exception that lets a subscriber query without a consent for that purpose,
    # provided it already holds an account of the person (it furnishes one).
    existing_customer_exceptions: dict[Purpose, str] = field(default_factory=dict)
    revocation_keeps_collected: bool = True
    revocation_note: str = ""
    negative_notice_required: bool = True
    # When a furnisher must tell the person of negative information it reports, in days after furnishing it
    # (0: before furnishing). The bureau holds no item for a notice period of its own: its notice to the person
    # is written in the transaction that publishes the item, whatever this says (docs/rights.md).
    furnisher_notice_days: int = 0
    negative_retention_years: int = 5
    inquiry_display_years: int = 2
    dispute_days: int = 20
    currency: str = "CNY"  # the currency report totals and signals are summed in
    # The numbering plan a furnished phone is checked against at intake (``INVALID_PHONE``):
    # ``CN_MOBILE`` or ``NANP`` (``intake.validation.fields.PHONE_PLANS``).
    phone_plan: str = "CN_MOBILE"
    # Free own reports a person may take through the bureau's portal per calendar period ("year" or "week",
    # ISO weeks from Monday 00:00 UTC); past them the portal refuses until the next period begins.
    free_reports: int = 2
    free_report_period: str = "year"
    # What a person may have erased (``ERASURE_CATEGORIES``), each with the rule that allows it; empty: the
    # jurisdiction gives no right to erasure, and ``erasure_note`` names the law. Otherwise ``erasure_note``
    # says why the rest of the file is kept.
    erasure_grounds: dict[ErasureScope, str] = field(default_factory=dict)
    erasure_note: str = ""
    # Query purposes a person may object to (the uses of their file that need no consent of theirs), each with
    # the rule that allows the objection; empty: no such right, and ``objection_note`` names the law.
    objection_grounds: dict[Purpose, str] = field(default_factory=dict)
    objection_note: str = ""
    # The right the export of everything held about the person answers (``people.export``).
    export_note: str = ""
    # Prescreening: a lender's criteria select persons it may make a firm offer of credit to, without their
    # request (``prescreen``). ``prescreen_basis`` is the rule that allows it; empty: the jurisdiction does not,
    # and ``prescreen_note`` names the law. ``prescreen_opt_out_years``: how long a person's opt-out made by
    # phone or online keeps them off every list (one by signed notice lasts until they withdraw it).
    prescreen_basis: str = ""
    prescreen_note: str = ""
    prescreen_opt_out_years: int = 0

    def erasure_categories(self, scope: ErasureScope) -> tuple[ErasureScope, ...]:
        """The concrete categories ``scope`` asks for (``all_allowed``: every one the profile allows)."""
        return tuple(self.erasure_grounds) if scope is ErasureScope.ALL_ALLOWED else (scope,)


PROFILES: dict[str, JurisdictionProfile] = {
    "CN": JurisdictionProfile(
        code="CN",
        # Art. 15: collecting a person's information requires the person's consent.
        furnish_consent_required=True,
        # Art. 18: a query needs the person's written consent and a stated purpose; PBoC rules let a
        # lender look at the file of a borrower it already lends to for post-loan management.
        existing_customer_exceptions={Purpose.ACCOUNT_REVIEW: "post-loan management of an existing account "
                                      "(Credit Reporting Regulation Art. 18; PBoC Credit Reference Center rules)"},
        # PIPL Art. 15: withdrawing consent does not affect processing carried out before the withdrawal.
        revocation_keeps_collected=True,
        revocation_note="data furnished before the revocation stays in the file for its retention period "
                        "(PIPL Art. 15); nothing furnished after it is published",
        negative_notice_required=True,  # Art. 15 para. 2: tell the person before reporting negative data
        furnisher_notice_days=0,  # Art. 15 para. 2: before
        negative_retention_years=5,  # Art. 16: 5 years from the end of the adverse event
        inquiry_display_years=2,
        dispute_days=20,  # Art. 25: a dispute is answered within 20 days
        phone_plan="CN_MOBILE",  # MIIT numbering plan: mobile numbers 1[3-9]x, 11 digits
        # Art. 17: a person may query their own information; PBoC Credit Reference Center practice (and its
        # 2013 rule on individual queries): twice a calendar year free of charge, further ones for a fee.
        free_reports=2,
        free_report_period="year",
        # PIPL Art. 47 para. 1: personal information is deleted when, among other cases, it was processed
        # against the law (iv) or its retention period has ended (ii); para. 2: where a law sets a retention
        # period that has not ended, processing stops but storage is kept.
        erasure_grounds={
            ErasureScope.HELD_RECORDS: "records a lender furnished without your consent in force were never "
                                       "part of your file (Credit Reporting Regulation Art. 13: no collection "
                                       "without consent); they are erased at your request (PIPL Art. 47 para. 1 "
                                       "(iv))",
            ErasureScope.EXPIRED_NEGATIVE: "negative information is kept 5 years from the end of the adverse "
                                           "event and then deleted (Credit Reporting Regulation Art. 16; PIPL "
                                           "Art. 47 para. 1 (ii))",
        },
        erasure_note="records furnished under your consent form your credit history: a withdrawal does not undo "
                     "what was lawfully furnished before it (PIPL Art. 15), and the Credit Reporting Regulation "
                     "sets how long it is kept (Art. 16: negative information 5 years from the end of the "
                     "adverse event). Revoke a consent to stop further furnishing; dispute an item you believe "
                     "is wrong (Art. 25)",
        # PIPL Art. 44: a person may restrict or refuse the processing of their information. The one use of a
        # file here without the person's consent is a lender's post-loan review under the existing-customer
        # exception (Art. 18 and the PBoC rules): the person may refuse it, and the lender then needs a consent.
        objection_grounds={Purpose.ACCOUNT_REVIEW: "PIPL Art. 44: you may refuse the post-loan review of your "
                                                   "file that a lender makes without your consent"},
        objection_note="every other purpose needs your consent (Credit Reporting Regulation Art. 18): revoke "
                       "the consent to stop it",
        export_note="PIPL Art. 45: you may read and copy your personal information and have it transferred to "
                    "another processor; Credit Reporting Regulation Art. 17: you may query your own information",
        # Art. 18 and PIPL Art. 13-14: every query needs the person's consent to its stated purpose, and the
        # person's information may be used only for the purpose consented to. Choosing persons for an offer they
        # did not ask for is a purpose no consent of theirs covers, so there is no prescreening.
        prescreen_basis="",
        prescreen_note="the Credit Reporting Regulation (Art. 18) and PIPL (Art. 13-14) allow a look at a "
                       "person's file only with their consent to its stated purpose: there is no consent of the "
                       "persons to selecting them for offers they did not ask for, so no prescreening",
    ),
    "US": JurisdictionProfile(
        code="US",
        # FCRA §623: furnishers report without the consumer's consent.
        furnish_consent_required=False,
        # FCRA §604(a)(3)(A): reviewing or collecting an existing account is a permissible purpose.
        existing_customer_exceptions={
            Purpose.ACCOUNT_REVIEW: "review of an existing account (FCRA §604(a)(3)(A))",
            Purpose.COLLECTIONS: "collection of an existing account (FCRA §604(a)(3)(A))",
        },
        revocation_keeps_collected=True,
        revocation_note="furnishing does not rest on consent under the FCRA; a revoked consent only stops "
                        "queries that needed it",
        negative_notice_required=False,
        # §623(a)(7)(A)-(B): a financial institution tells the customer of negative information it furnishes,
        # before or no later than 30 days after furnishing it.
        furnisher_notice_days=30,
        negative_retention_years=7,  # FCRA §605(a)
        inquiry_display_years=2,
        dispute_days=30,  # FCRA §611(a)(1)
        currency="USD",
        # North American Numbering Plan: 10 digits, area code and exchange starting 2-9, optionally after +1.
        phone_plan="NANP",
        # FCRA §612(a)(1) grants one free disclosure every 12 months; the nationwide bureaus have given one a
        # week since 2023 (AnnualCreditReport.com), which the profile follows.
        free_reports=1,
        free_report_period="week",
        # The FCRA gives no right to erasure: accurate information is reported for the periods of §605, and
        # inaccurate or unverifiable information is deleted through a dispute (§611(a)(5)).
        erasure_grounds={},
        erasure_note="the Fair Credit Reporting Act gives no right to erasure: accurate information is reported "
                     "for the periods of §605 (most negative items 7 years, then removed by the bureau), and "
                     "inaccurate or unverifiable information is corrected or deleted through a dispute (§611)",
        # No right to object to a permissible purpose (§604(a)(3)); the one opt-out, from prescreened offers of
        # credit (§604(e)), is the prescreen opt-out register (``prescreen``), not an objection.
        objection_grounds={},
        objection_note="the Fair Credit Reporting Act gives no right to object to a permissible purpose "
                       "(§604(a)(3)); its one opt-out, from prescreened offers of credit (§604(e)), is made "
                       "through the bureau's prescreen opt-out (/v1/me/prescreen-opt-out)",
        export_note="FCRA §609(a)(1): all information in your file at the time of the request",
        # §604(c)(1)(B): a bureau may furnish a list of consumers who meet a lender's criteria for a firm offer
        # of credit, the list holding only names and addresses (§604(c)(2)); §604(e): the consumer may elect to
        # be left out, for 5 years by the notification system (phone or online, §604(e)(4)(A)(i)) or until
        # withdrawn by a signed notice (§604(e)(4)(A)(ii)).
        prescreen_basis="a firm offer of credit to consumers who meet the lender's criteria (FCRA §604(c)(1)(B))",
        prescreen_opt_out_years=5,
    ),
}


def get_profile(code: str) -> JurisdictionProfile:
    """The profile named ``code``."""
    try:
        return PROFILES[code.upper()]
    except KeyError as exc:
        raise ValueError(f"unknown jurisdiction {code!r}; known: {', '.join(PROFILES)}") from exc
