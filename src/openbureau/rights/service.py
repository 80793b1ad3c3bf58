"""Rules of the person's protections: fraud alerts, security freezes and identity-theft blocks.

- **Fraud alerts** (FCRA §605A): an initial alert lasts one year (§605A(a)); an extended one seven years and
  needs an identity-theft report (§605A(b)). While one is in force every report carries it, and the answer to
  an inquiry tells the lender it must confirm the applicant's identity before granting credit (§605A(h)).
- **Security freezes** (§605A(i)): while one is in force, an inquiry for new credit (``loan_origination``)
  is refused with 403 ``FROZEN``; account reviews, collections and the person's own report go on (the
  exemptions of §605A(i)(4)). The person lifts it for a window (``starts_at`` included, ``ends_at``
  excluded) or removes it for good.
- **Identity-theft blocks** (§605B): the accounts an identity-theft report names are kept out of every
  report from the moment it is filed.

Only the person may place or lift them: the person acting for themselves (``Principal.person``; the
``/v1/me`` endpoints), or the bureau's operator acting at the person's request, audited as such. A member is
refused (403 ``ROLE_REQUIRED``). The person is identified by their subject (id_type and id_number), as
disputes do. Every step is audited and owes the person a notice (``notices.notify_person``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from openbureau.accounts.service import accounts_of
from openbureau.audit import service as audit
from openbureau.consent.schemas import Subject
from openbureau.disputes.investigation import block_accounts
from openbureau.disputes.service import whose_file
from openbureau.identity.repository import PersonRef, person_ids
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import ACCOUNT_NOT_FOUND, INVALID_WINDOW, Conflict, NotFound, Unprocessable
from openbureau.kit.periods import add_years
from openbureau.members.repository import MemberRepository
from openbureau.monitoring import triggers
from openbureau.notices import Milestone, notify_person
from openbureau.principals import Action, Kind, Principal, authorize
from openbureau.rights import repository
from openbureau.rights.models import AlertKind, FraudAlert, FreezeLift, IdentityTheftReport, SecurityFreeze
from openbureau.rights.repository import RightsRepository
from openbureau.rights.schemas import (
    MAX_BLOCKED_ACCOUNTS,
    BlockedAccount,
    FraudAlertRead,
    FreezeLiftRead,
    FreezeRead,
    ProtectionsRead,
    TheftReportRead,
)

ALERT_YEARS = {AlertKind.INITIAL: 1, AlertKind.EXTENDED: 7}  # FCRA §605A(a)(1)(A), §605A(b)(1)(A)
MAX_LIFT = timedelta(days=366)  # a temporary lift is a window, not a removal
FROZEN = "FROZEN"
PURPOSE = "file_protection"  # the audit purpose of every step here
REFUSAL = "only the person, or the bureau's operator at the person's request, protects a file"


@dataclass(frozen=True, slots=True)
class Protections:
    """What protects a file at one moment, as reports and inquiries read it."""

    alerts: list[tuple]  # (id, kind, placed_at, expires_at) in force
    frozen: bool

    @property
    def confirm_identity(self) -> bool:
        """Whether a lender must confirm the applicant's identity before granting credit (§605A(h))."""
        return bool(self.alerts)


def protections_at(session: Session, *, person_id: int, now: datetime) -> Protections:
    """The alerts and the freeze in force on a person's file at ``now`` (no principal: the report and the
    inquiry that read it made their own checks)."""
    return Protections(*RightsRepository(session).protections_at(person_id, now))


def protections_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the person of ``person_id`` (a column or parameter of another domain's statement) has ever had
    an alert or a freeze: when not, :func:`protections_at` finds none at any moment (no alert, not frozen)."""
    return repository.protections_exist(person_id)


def alert_or_freeze(person_id: ColumnElement, moment: datetime) -> ColumnElement[bool]:
    """A condition for another domain's statement: a fraud alert or a freeze is in force on the person's file
    at ``moment`` (a prescreen leaves such persons off its list: FCRA §605A(b)(1)(B), docs/prescreen.md)."""
    return repository.alert_or_freeze(person_id, moment)


def _act(session: Session, vault: PiiVault, principal: Principal, person: PersonRef, action: str,
         milestone: Milestone, details: dict, now: datetime) -> None:
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action=action,
                 person_id=person.id, purpose=PURPOSE,
                 details={**details, "for_person": not principal.is_a(Kind.PERSON)})
    notify_person(session, vault=vault, person_id=person.id, milestone=milestone, details=details, now=now)


def place_fraud_alert(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None,
                      kind: AlertKind = AlertKind.INITIAL, identity_theft_report_ref: str | None = None,
                      now: datetime | None = None) -> FraudAlert:
    """Place an initial (1 year) or extended (7 years; needs an identity-theft report's reference) alert."""
    authorize(principal, Action.PROTECT_OWN_FILE, message=REFUSAL)
    now = now or datetime.now(UTC)
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    report_id = None
    if kind is AlertKind.EXTENDED:
        if not identity_theft_report_ref or not identity_theft_report_ref.strip():
            raise Unprocessable("an extended alert needs an identity-theft report (FCRA §605A(b))",
                                code="IDENTITY_THEFT_REPORT_REQUIRED", field="identity_theft_report_ref")
        report_id = _file_report(session, vault=vault, principal=principal, person=person,
                                 report_ref=identity_theft_report_ref, now=now).id
    repo = RightsRepository(session)
    alert = FraudAlert(person_id=person.id, kind=kind.value, theft_report_id=report_id, placed_by=principal.code,
                       placed_at=now, expires_at=datetime.combine(add_years(now.date(), ALERT_YEARS[kind]),
                                                                 now.timetz()))
    repo.add(alert)
    _act(session, vault, principal, person, "alert.place", Milestone.FRAUD_ALERT_PLACED,
         {"alert_id": alert.id, "kind": kind.value, "expires_at": alert.expires_at.isoformat()}, now=now)
    # Lenders monitoring the person learn of it in the same transaction (monitoring.triggers).
    triggers.write(session.connection(), triggers.cause(person.id, triggers.FRAUD_ALERT, kind.value, now), now=now)
    return alert


def remove_fraud_alert(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None, alert_id: int,
                       now: datetime | None = None) -> FraudAlert:
    """Remove one of the person's alerts before it expires."""
    authorize(principal, Action.PROTECT_OWN_FILE, message=REFUSAL)
    now = now or datetime.now(UTC)
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    alert = RightsRepository(session).alert(alert_id)
    if alert is None or alert.person_id not in person_ids(session, person.id):
        raise NotFound(f"no alert {alert_id} of this person", code="ALERT_NOT_FOUND", field="alert_id")
    if alert.removed_at is not None or alert.expires_at <= now:
        raise Conflict(f"alert {alert_id} is no longer in force", code="ALERT_ENDED")
    alert.removed_at, alert.removed_by = now, principal.code
    session.flush()
    _act(session, vault, principal, person, "alert.remove", Milestone.FRAUD_ALERT_REMOVED, {"alert_id": alert.id}, now=now)
    return alert


def place_freeze(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None,
                 now: datetime | None = None) -> SecurityFreeze:
    """Freeze the person's file: new-credit inquiries are refused until the freeze is lifted."""
    authorize(principal, Action.PROTECT_OWN_FILE, message=REFUSAL)
    now = now or datetime.now(UTC)
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    repo = RightsRepository(session)
    if any(f.removed_at is None for f in repo.freezes_of(person.id)):
        raise Conflict("the file is already frozen", code="ALREADY_FROZEN")
    freeze = SecurityFreeze(person_id=person.id, placed_by=principal.code, placed_at=now)
    repo.add(freeze)
    _act(session, vault, principal, person, "freeze.place", Milestone.FREEZE_PLACED, {"freeze_id": freeze.id}, now=now)
    triggers.write(session.connection(), triggers.cause(person.id, triggers.FREEZE, "placed", now), now=now)
    return freeze


def lift_freeze(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None, freeze_id: int,
                starts_at: datetime | None = None, ends_at: datetime | None = None,
                now: datetime | None = None) -> SecurityFreeze:
    """Lift a freeze for the window [``starts_at``, ``ends_at``) (default start: now), or remove it for good
    when no ``ends_at`` is given."""
    authorize(principal, Action.PROTECT_OWN_FILE, message=REFUSAL)
    now = now or datetime.now(UTC)
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    repo = RightsRepository(session)
    freeze = repo.freeze(freeze_id)
    if freeze is None or freeze.person_id not in person_ids(session, person.id):
        raise NotFound(f"no freeze {freeze_id} of this person", code="FREEZE_NOT_FOUND", field="freeze_id")
    if freeze.removed_at is not None:
        raise Conflict(f"freeze {freeze_id} was removed", code="FREEZE_REMOVED")
    if ends_at is None:
        if starts_at is not None:
            raise Unprocessable("a window needs its end; without one the freeze is removed now",
                                code=INVALID_WINDOW, field="ends_at")
        freeze.removed_at, freeze.removed_by = now, principal.code
        session.flush()
        _act(session, vault, principal, person, "freeze.remove", Milestone.FREEZE_LIFTED, {"freeze_id": freeze.id}, now=now)
        return freeze
    starts_at = starts_at or now
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Unprocessable("times carry their time zone", code=INVALID_WINDOW, field="starts_at")
    if not (starts_at < ends_at and ends_at > now and ends_at - starts_at <= MAX_LIFT):
        raise Unprocessable("a lift window ends after it starts, in the future, within 366 days",
                            code=INVALID_WINDOW, field="ends_at")
    lift = FreezeLift(freeze_id=freeze.id, person_id=person.id, starts_at=starts_at, ends_at=ends_at,
                      requested_by=principal.code, requested_at=now)
    repo.add(lift)
    _act(session, vault, principal, person, "freeze.lift", Milestone.FREEZE_LIFTED,
         {"freeze_id": freeze.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}, now=now)
    return freeze


def file_identity_theft_report(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None,
                               report_ref: str, accounts: list[BlockedAccount], now: datetime | None = None
                               ) -> IdentityTheftReport:
    """Record the person's identity-theft report and block the accounts of their file it names (§605B)."""
    authorize(principal, Action.PROTECT_OWN_FILE, message=REFUSAL)
    now = now or datetime.now(UTC)
    if len(accounts) > MAX_BLOCKED_ACCOUNTS:
        raise Unprocessable(f"at most {MAX_BLOCKED_ACCOUNTS} accounts per report", code="TOO_MANY_ACCOUNTS",
                            field="accounts")
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    held = set(accounts_of(session, person.id))
    members = MemberRepository(session)
    keys: list[tuple[int, str]] = []
    for account in accounts:
        lender = members.by_code(account.lender)
        key = (lender.id, account.furnisher_account_id) if lender is not None else None
        if key not in held:
            raise NotFound(f"no account {account.furnisher_account_id} of {account.lender} in this person's file",
                           code=ACCOUNT_NOT_FOUND, field="accounts")
        if key not in keys:
            keys.append(key)
    report = _file_report(session, vault=vault, principal=principal, person=person, report_ref=report_ref, now=now)
    block_accounts(session, person_id=person.id, accounts=keys, source_id=report.id, principal=principal, now=now)
    _act(session, vault, principal, person, "identity_theft.block", Milestone.ITEMS_BLOCKED,
         {"report_id": report.id, "accounts": len(keys)}, now=now)
    return report


def _file_report(session: Session, *, vault: PiiVault, principal: Principal, person: PersonRef, report_ref: str,
                 now: datetime) -> IdentityTheftReport:
    report = IdentityTheftReport(person_id=person.id, report_ref_enc=vault.encrypt(report_ref.strip()),
                                 filed_by=principal.code, filed_at=now)
    RightsRepository(session).add(report)
    return report


def protections(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None,
                now: datetime | None = None) -> ProtectionsRead:
    """Everything protecting the person's file, for the person (or the operator serving them); audited."""
    authorize(principal, Action.PROTECT_OWN_FILE, message=REFUSAL)
    now = now or datetime.now(UTC)
    person = whose_file(session, vault=vault, principal=principal, subject=subject)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="protections.read",
                 person_id=person.id, purpose=PURPOSE, details={"for_person": not principal.is_a(Kind.PERSON)})
    return protections_of(session, vault=vault, person_id=person.id, now=now)


def protections_of(session: Session, *, vault: PiiVault, person_id: int, now: datetime) -> ProtectionsRead:
    """Everything protecting a person's file, and what is in force at ``now`` (no principal: the caller checked
    who asks and audits)."""
    repo = RightsRepository(session)
    lifts = repo.lifts_of(person_id)
    state = protections_at(session, person_id=person_id, now=now)
    return ProtectionsRead(
        at=now, fraud_alert_in_force=state.confirm_identity, frozen=state.frozen,
        fraud_alerts=[FraudAlertRead.model_validate(a) for a in repo.alerts_of(person_id)],
        freezes=[FreezeRead(id=f.id, placed_by=f.placed_by, placed_at=f.placed_at, removed_at=f.removed_at,
                            lifts=[FreezeLiftRead.model_validate(x) for x in lifts if x.freeze_id == f.id])
                 for f in repo.freezes_of(person_id)],
        identity_theft_reports=[TheftReportRead(id=r.id, report_ref=vault.decrypt(r.report_ref_enc), filed_at=r.filed_at)
                                for r in repo.theft_reports_of(person_id)])
