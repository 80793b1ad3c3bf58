"""The demo's person exercising their rights (docs/rights.md), played through the same services as the API:
a borrower signs in with the code the bureau sends to their phone, disputes a month of their account, the
lender corrects it through intake and answers the task, the borrower freezes their file, and a loan
application to another lender is refused with ``FROZEN``. Every step is printed; the notices land in the
outbox and go out through the configured channel."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from openbureau import sim
from openbureau.cli.console import console
from openbureau.consent import service as consents
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import ConsentCreate, Evidence, Subject
from openbureau.disputes import investigation
from openbureau.disputes import service as disputes
from openbureau.disputes.models import DisputeOutcome
from openbureau.disputes.schemas import DisputeCreate, TaskAnswer
from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden
from openbureau.members.service import get_member
from openbureau.notifications import service as notifications
from openbureau.notifications.channels import FileChannel
from openbureau.notifications.repository import NotificationRepository
from openbureau.people import service as people
from openbureau.people.service import contact_of
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.rights import service as rights
from openbureau.runtime import Runtime

LENDER = "BANK_A"  # the lender whose record the person disputes
APPLIED_TO = "LENDER_X"  # the lender the person applies to once their file is frozen
CONSENT = "LX-APP-0002"


@dataclass(frozen=True, slots=True)
class Disputed:
    """The record the person disputes: the lender's row as furnished."""

    id_number: str
    row: dict


CANDIDATES = 20  # borrowers tried for the scene: the first whose sign-in code reaches a phone plays it


def borrowers(market: Path, furnisher: str, *, skip: str | None = None) -> pl.DataFrame:
    """Consenting borrowers of ``furnisher`` with a phone and an open account in its latest monthly file (other
    than ``skip``): their rows."""
    latest = max((e for e in sim.read_manifest(market) if e.furnisher == furnisher), key=lambda e: e.period)
    return pl.read_csv(latest.path, infer_schema=False).filter(
        pl.col("consent_ref").is_not_null() & (pl.col("id_type") == "CN_RESIDENT_ID")
        & (pl.col("account_status") == "open") & pl.col("phone").is_not_null() & (pl.col("id_number") != (skip or "")))


def disputed_records(market: Path, *, skip: str) -> list[Disputed]:
    """The records of ``LENDER``'s borrowers (other than ``skip``) the scene may dispute, a row each."""
    rows = borrowers(market, LENDER, skip=skip)
    return [Disputed(row["id_number"], row) for row in rows.head(CANDIDATES).iter_rows(named=True)]


def applicant_consent(runtime: Runtime, subject: Subject, *, lender: str, ref: str) -> None:
    """The borrower applies to ``lender`` for a loan and consents to its inquiry, as its app would record it
    (the app keeps the text the borrower signed; the bureau records its digest as evidence)."""
    now = datetime.now(UTC)
    signed = hashlib.sha256(f"{ref}: I agree that {lender} queries my credit report for my loan application "
                            f"({now.isoformat()})".encode()).hexdigest()
    with session_scope(runtime.engine, write=True) as session:
        consents.grant(session, vault=runtime.vault, actor=get_member(session, code=lender), data=ConsentCreate(
            consent_ref=ref, subject=subject, purpose=Purpose.LOAN_ORIGINATION, scope=["report", "score"],
            valid_from=now, valid_until=now + timedelta(days=30),
            evidence=Evidence(channel="app", captured_at=now, document_hash=signed)))


def play(runtime: Runtime, market: Path, *, skip: str) -> None:
    """Play the scene on the built bureau and print it."""
    console.rule("[bold]A person exercises their rights (docs/rights.md)")
    for disputed in disputed_records(market, skip=skip):
        subject = Subject(id_type="CN_RESIDENT_ID", id_number=disputed.id_number)
        person = _sign_in(runtime, subject)
        if person is not None:
            break
    else:
        _say("(No borrower of this small market has a phone on file to receive a sign-in code: no scene.)")
        return
    row = disputed.row
    period, account = row["reporting_period"], row["furnisher_account_id"]
    with session_scope(runtime.engine, write=True) as session:
        filed = disputes.file_dispute(session, vault=runtime.vault, principal=person, policy=runtime.policy,
                                      data=DisputeCreate(kind="account", lender=LENDER, furnisher_account_id=account,
                                                         reporting_period=period, channel="portal",
                                                         statement=f"The balance reported for {period} is wrong"))
    _say(f"2. They dispute {LENDER}'s record of {period} for their account (dispute {filed.id}); {LENDER} must "
         f"answer by {filed.due_at:%Y-%m-%d} (POST /v1/me/disputes).")
    submission = _correct(runtime, row)
    with session_scope(runtime.engine) as session:
        bank = Principal.of_member(get_member(session, code=LENDER))
    with session_scope(runtime.engine, write=True) as session:
        (task,) = [t for t in investigation.list_tasks(session, principal=bank, limit=1000) if t.dispute_id == filed.id]
        investigation.answer_task(session, vault=runtime.vault, principal=bank, task_id=task.id, answer=TaskAnswer(
            outcome=DisputeOutcome.CORRECTED, evidence="Repayment posted after the statement date; balance restated",
            correction={"submission_id": submission}))
    _say(f"3. {LENDER} finds its task (GET /v1/disputes/tasks), sends a correction record through intake "
         f"(submission {submission}) and answers it corrected (POST /v1/disputes/tasks/{task.id}/answer).")
    with session_scope(runtime.engine, write=True) as session:
        rights.place_freeze(session, vault=runtime.vault, principal=person, subject=None)
    _say("4. They freeze their file (POST /v1/me/protections/freezes).")
    _applies(runtime, subject)
    with session_scope(runtime.engine, read_only=True) as session:
        told = [n.kind for n in NotificationRepository(session).of_person(person.person_id)]
    _say(f"6. They are told of each step: {', '.join(told)} are in the outbox for them, delivered to their phone "
         f"(here: {runtime.settings.resolved_notify_dir}/) by the dispatcher.")


def _say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)


def _sign_in(runtime: Runtime, subject: Subject) -> Principal | None:
    """Ask for a code, deliver it through the file channel as the person's phone would receive it, enter it;
    None when no code reached a phone (none on file for the person)."""
    folder = runtime.settings.resolved_notify_dir
    before = set(folder.glob("*.json")) if folder.exists() else set()
    with session_scope(runtime.engine, write=True) as session:
        started = people.start_signin(session, vault=runtime.vault, key=runtime.signin_key, document=subject)
    _dispatch(runtime, limit=1)  # sign-in codes go first
    codes = [p for p in set(folder.glob("*.json")) - before
             if json.loads(p.read_text("utf-8")).get("kind") == "signin.code"]
    if not codes:
        return None
    newest = codes[0]
    code = json.loads(newest.read_text("utf-8"))["body"].split("code is ")[1][:6]
    with session_scope(runtime.engine, write=True) as session:
        verified = people.verify_signin(session, vault=runtime.vault, key=runtime.signin_key,
                                        challenge=started.challenge, code=code)
    token = verified.result().token
    with session_scope(runtime.engine, read_only=True) as session:
        person = people.authenticate(session, vault=runtime.vault, token=token)
    _say(f"1. A borrower signs in with their resident ID; the code arrives on their phone ({newest.name}) and "
         f"opens a 15-minute session (POST /v1/me/signin, /v1/me/signin/verify).")
    return person


def _correct(runtime: Runtime, row: dict) -> int:
    """The lender's correction of the disputed record (a lower balance, correction = 1) as a file of its own,
    submitted through intake; the submission's id."""
    folder = runtime.settings.data_dir / "corrections"
    folder.mkdir(exist_ok=True)
    fixed = {**row, "correction": "1"}
    if fixed.get("balance"):
        fixed["balance"] = str(int(int(fixed["balance"]) * 0.9))
    path = folder / f"{LENDER}-{row['reporting_period']}-correction.csv"
    pl.DataFrame([fixed], schema={k: pl.String for k in fixed}).write_csv(path)
    return intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code=LENDER,
                         path=path).submission.id


def _applies(runtime: Runtime, subject: Subject) -> None:
    """The person applies to another lender, with their consent: the frozen file is not read."""
    applicant_consent(runtime, subject, lender=APPLIED_TO, ref=CONSENT)
    try:
        with session_scope(runtime.engine, write=True) as session:
            reports.inquire(session, vault=runtime.vault, principal=Principal.of_member(get_member(session, code=APPLIED_TO)),
                            policy=runtime.policy, request=InquiryCreate(subject=subject,
                                                                        purpose=Purpose.LOAN_ORIGINATION,
                                                                        consent_ref=CONSENT))
        outcome = "answered (the freeze did not hold!)"
    except Forbidden as exc:
        outcome = f"refused: 403 {exc.code}"
    _say(f"5. A loan application to {APPLIED_TO} with their consent is {outcome}; {LENDER}'s account reviews "
         "go on. They lift the freeze when they choose (POST /v1/me/protections/freezes/{id}/lift).")


def _dispatch(runtime: Runtime, *, limit: int) -> int:
    """Deliver up to ``limit`` due messages through the demo's file channel; how many were sent."""
    channel = FileChannel(runtime.settings.resolved_notify_dir)
    return notifications.dispatch(runtime.engine, vault=runtime.vault, channel=channel,
                                  resolve=contact_of(runtime.vault), limit=limit,
                                  max_attempts=runtime.settings.notify_max_attempts,
                                  retry_seconds=runtime.settings.notify_retry_seconds).sent
