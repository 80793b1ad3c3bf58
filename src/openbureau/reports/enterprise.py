"""An enterprise's report (standard v1.1): a member looks at a firm's accounts across lenders.

A firm's loans are not personal information, so the Credit Reporting Regulation's consent to query (Art. 18,
about personal information) is not asked; everything else of a person's inquiry is: the subscriber role, the
member's standing and permitted purposes, reciprocity and a purpose a member may query for
(``inquiries.access.check_member``); the look is logged in the inquiry log (``enterprise_id`` set, no person)
and audited before the answer leaves, and other lenders are masked as in a person's report. A sole trader's
accounts are the owner's personal data and are never part of it: they are shown in the owner's report only.

Example:
    >>> prepared = prepare_enterprise_report(session, vault=vault, principal=lender, uscc="91350100M000100Y43",
    ...                                      purpose=Purpose.LOAN_ORIGINATION, policy=policy)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openbureau.accounts.repository import as_date
from openbureau.audit.service import AuditNote
from openbureau.consent.profiles import HARD_PURPOSES, Purpose
from openbureau.enterprises.models import USCC
from openbureau.enterprises.repository import EnterpriseRepository
from openbureau.inquiries.access import check_member
from openbureau.inquiries.log import InquiryLog, LogEntry, SessionLog
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import Unprocessable
from openbureau.kit.periods import shift_period
from openbureau.members.models import Product
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports.assembly import Labels, member_names
from openbureau.reports.enterprise_schemas import (
    EnterpriseAccountView,
    EnterpriseInquiryResult,
    EnterpriseReport,
    EnterpriseSummary,
)
from openbureau.reports.schemas import View
from openbureau.reports.service import ENTERPRISE_BASIS
from openbureau.tradelines.history import PAST_DUE, rank
from openbureau.uscc import normalise_uscc, uscc_problem

HISTORY_MONTHS = 24
BASIS = ENTERPRISE_BASIS  # the inquiry log's basis: no person's consent is needed
BASIS_NOTE = ("an enterprise's information: the consent of Credit Reporting Regulation Art. 18 is for personal "
              "information")
USCC_ASKED_MAX = 64  # characters of a code as asked, before spaces are removed


def checked_uscc(raw: str) -> str:
    """The code asked about, normalised; 422 with the ``openbureau.uscc`` problem's code when it is not a
    well-formed unified social credit code (``TOO_LONG`` past 64 characters as asked)."""
    if len(raw) > USCC_ASKED_MAX:
        raise Unprocessable(f"uscc is longer than {USCC_ASKED_MAX} characters", code="TOO_LONG", field="uscc")
    code = normalise_uscc(raw)
    problem = uscc_problem(code)
    if problem is not None:
        raise Unprocessable(problem[1].replace("enterprise_uscc", "uscc"), code=problem[0], field="uscc")
    return code


def prepare_enterprise_report(session: Session, *, vault: PiiVault, principal: Principal, uscc: str,
                              purpose: Purpose, policy: Policy, now: datetime | None = None
                              ) -> PreparedEnterpriseReport:
    """Check the member and the purpose, read the enterprise's accounts; nothing is written (see
    :func:`enterprise_report`)."""
    code = checked_uscc(uscc)
    now = now or datetime.now(UTC)
    check_member(session, principal=principal, purpose=purpose, policy=policy, product=Product.REPORT, day=now.date())
    repo = EnterpriseRepository(session.connection())
    found = repo.enterprise_ids(vault.index_candidates(code, domain=USCC))
    enterprise_id = next(iter(found.values()), None)
    rows = repo.states(enterprise_id) if enterprise_id is not None else []
    report = _report(session, rows, vault=vault, uscc=code, viewer_id=principal.member_id, now=now) if rows else None
    hard = purpose in HARD_PURPOSES
    entry = LogEntry(
        values=dict(subscriber_id=principal.member_id, person_id=None, enterprise_id=enterprise_id,
                    purpose=purpose.value, hard=int(hard), basis=BASIS, consent_id=None, basis_note=BASIS_NOTE,
                    declared_monthly_income=None, actor_code=principal.code, created_at=now),
        audit=AuditNote(principal.member_id, principal.code, "enterprise.report_read", None, purpose.value,
                        {"enterprise_id": enterprise_id, "found": report is not None, "basis": BASIS}))
    return PreparedEnterpriseReport(entry, EnterpriseInquiryResult(inquiry_id=0, purpose=purpose.value, hard=hard,
                                                    found=report is not None, created_at=now, report=report))


@dataclass(frozen=True, slots=True)
class PreparedEnterpriseReport:
    """An enterprise's report ready to go once its inquiry is logged."""

    entry: LogEntry
    answer: EnterpriseInquiryResult

    def finish(self, inquiry_id: int) -> EnterpriseInquiryResult:
        """The answer with the logged inquiry's id."""
        return self.answer.model_copy(update={"inquiry_id": inquiry_id})


def enterprise_report(session: Session, *, vault: PiiVault, principal: Principal, uscc: str, purpose: Purpose,
                      policy: Policy, log: InquiryLog | None = None, now: datetime | None = None
                      ) -> EnterpriseInquiryResult:
    """A member's look at an enterprise's accounts for a permitted purpose; logged and audited before it is
    answered (in the caller's transaction unless ``log`` says otherwise)."""
    prepared = prepare_enterprise_report(session, vault=vault, principal=principal, uscc=uscc, purpose=purpose,
                                         policy=policy, now=now)
    return prepared.finish((log or SessionLog(session)).write(prepared.entry))


def _report(session: Session, rows: Sequence, *, vault: PiiVault, uscc: str, viewer_id: int | None,
            now: datetime) -> EnterpriseReport | None:
    """The report of an enterprise's stored states (all versions), or None when every account was deleted."""
    newest: dict[tuple[int, str], dict[str, object]] = {}
    for row in rows:  # ordered by account, period, version: the last version of a period wins
        newest.setdefault((row.furnisher_id, row.furnisher_account_id), {})[row.reporting_period] = row
    lines = [(key, months) for key, months in newest.items()
             if months[max(months)].account_status != "deleted"]
    if not lines:
        return None
    labels = Labels(view=View.SUBSCRIBER, viewer_id=viewer_id,
                    members=member_names(session, needed={key[0] for key, _ in lines}))
    latest_row = max((months[max(months)] for _, months in lines), key=lambda r: (r.reporting_period, r.stored_at))
    accounts = []
    for (furnisher_id, account_id), months in sorted(lines, key=lambda line: (str(line[1][max(line[1])].opened_on),
                                                                             line[0])):
        period = max(months)
        row = months[period]
        start = shift_period(period, -(HISTORY_MONTHS - 1))
        history = "".join(getattr(months.get(shift_period(start, k)), "payment_status", "/")
                          for k in range(HISTORY_MONTHS))
        own = labels.own(furnisher_id)
        accounts.append(EnterpriseAccountView(
            lender=labels(furnisher_id), own_account=own, account_number=account_id if own else None,
            product_type=row.product_type, opened_on=as_date(row.opened_on), closed_on=as_date(row.closed_on),
            currency=row.currency, credit_limit=row.credit_limit, original_amount=row.original_amount,
            term_months=row.term_months, balance=row.balance, amount_due=row.amount_due, amount_paid=row.amount_paid,
            past_due_amount=row.past_due_amount, days_past_due=row.days_past_due, payment_status=row.payment_status,
            account_status=row.account_status, reporting_period=period, payment_history_start=start,
            payment_history=history))
    open_ = [a for a in accounts if a.account_status == "open"]
    worst = max((a.payment_status for a in accounts if a.payment_status in PAST_DUE), key=rank, default="N")
    return EnterpriseReport(
        generated_at=now, enterprise_uscc=uscc, enterprise_name=vault.decrypt(latest_row.name_enc),
        summary=EnterpriseSummary(credit_accounts=len(accounts), open_accounts=len(open_),
                                  distinct_lenders=len({a.lender for a in open_}),
                                  total_balance=sum(a.balance for a in open_),
                                  past_due_amount=sum(a.past_due_amount for a in open_), worst_status=worst),
        accounts=accounts)
