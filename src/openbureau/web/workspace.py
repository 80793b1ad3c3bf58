"""The member's workspace: a lender's or a furnisher's staff, signed in with the member's API key and the key's
second factor (``web.console.member_sign_in``), upload furnishing files and follow their findings, read the
submissions, the data-quality scorecard with its trend, and answer the disputes of their data.

Every page calls the service the API's endpoint calls (``intake``, ``quality``, ``disputes.investigation``) with
the member's principal, so it is authorised, scoped to the member's own data and audited exactly as the API
call is: another member's submission is "no such page", a subscriber that does not furnish is refused the
furnisher's pages. An upload streams into the sealed scratch area as the API's does (``api.uploads``); its
CSRF token travels in the form's address, since the body is a file read as it arrives.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from openbureau.api.deps import IdPath, PolicyDep, RuntimeDep, SessionDep
from openbureau.api.uploads import findings_download, sealed_upload
from openbureau.disputes import investigation
from openbureau.disputes.models import DisputeOutcome
from openbureau.disputes.schemas import TaskAnswer
from openbureau.intake import service as intake
from openbureau.intake.schemas import SubmissionRead
from openbureau.kit.db import utcnow
from openbureau.kit.errors import Forbidden
from openbureau.members import console
from openbureau.present.charts import period_chart
from openbureau.principals import Action, Principal, authorize
from openbureau.quality import service as quality
from openbureau.web.console import (
    COOKIES,
    ConsoleFormDep,
    MemberConsoleDep,
    member_sign_in,
    sign_out,
    signed_in,
    signin_form,
)
from openbureau.web.i18n import N_, check_fields
from openbureau.web.render import page
from openbureau.web.session import FormDep, csrf_for, runtime_of

router = APIRouter(prefix="/lender", include_in_schema=False)
LENDER = "lender"
UPLOAD_PATH = "/lender/uploads"  # bounded as the API's uploads are, not as a form (web.app)
FINDINGS_PER_PAGE = 100
REFUSED = N_("These pages are for a lender's or a furnisher's staff: this member neither furnishes nor looks up.")


def _furnisher(principal: MemberConsoleDep) -> Principal:
    authorize(principal, Action.SUBMIT_FILE, message="these pages are for members that furnish data")
    return principal


FurnisherConsoleDep = Annotated[Principal, Depends(_furnisher)]


def _member_may_use(principal: Principal) -> bool:
    return principal.may(Action.SUBMIT_FILE) or principal.may(Action.INQUIRE)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    """The member's API key and the code of its second factor."""
    return signin_form(request, LENDER)


@router.post("/signin")
async def signin(request: Request, form: FormDep) -> Response:
    """A member that furnishes or looks up gets a console session (``web.console.member_sign_in``)."""
    opened = await member_sign_in(request, form, may=_member_may_use)
    if isinstance(opened, tuple):
        return signin_form(request, LENDER, status_code=opened[0], error=opened[1] or REFUSED)
    return signed_in(opened, "/lender/workspace")


@router.post("/signout")
def signout(request: Request, principal: MemberConsoleDep, form: ConsoleFormDep) -> Response:
    """End the console session at once."""
    return sign_out(request, console.MEMBER)


@router.get("/workspace")
def home(request: Request, principal: MemberConsoleDep, session: SessionDep) -> Response:
    """What the member can do here, its latest submissions and its open dispute tasks."""
    furnishes = principal.may(Action.SUBMIT_FILE)
    submissions = intake.list_submissions(session, principal=principal, limit=5) if furnishes else []
    tasks = investigation.list_tasks(session, principal=principal, limit=5) if furnishes else []
    return page(request, "workspace.html.j2", console=LENDER, principal=principal, furnishes=furnishes,
                looks_up=principal.may(Action.INQUIRE), submissions=[SubmissionRead.model_validate(s) for s in submissions],
                tasks=tasks, now=utcnow())


@router.get("/submissions")
def submissions(request: Request, principal: FurnisherConsoleDep, session: SessionDep,
                offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Response:
    """The member's submissions, newest first (``GET /v1/submissions``), 50 a page."""
    rows = intake.list_submissions(session, principal=principal, limit=50, offset=offset)
    return page(request, "submissions.html.j2", console=LENDER, offset=offset,
                submissions=[SubmissionRead.model_validate(s) for s in rows])


@router.get("/submissions/{submission_id}")
def submission(submission_id: IdPath, request: Request, principal: FurnisherConsoleDep, session: SessionDep,
               offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Response:
    """One submission: its counts and its findings (line, field, code, message), 100 a page
    (``GET /v1/submissions/{id}/errors``); another member's is no such page."""
    read = SubmissionRead.model_validate(intake.get_submission(session, principal=principal,
                                                               submission_id=submission_id))
    findings = intake.list_findings(session, principal=principal, submission_id=submission_id,
                                    limit=FINDINGS_PER_PAGE, offset=offset)
    return page(request, "submission.html.j2", console=LENDER, submission=read, findings=findings, offset=offset,
                per_page=FINDINGS_PER_PAGE)


@router.get("/submissions/{submission_id}/findings.csv")
def findings_csv(submission_id: IdPath, principal: FurnisherConsoleDep, session: SessionDep,
                 runtime: RuntimeDep) -> Response:
    """Every finding of the submission as a CSV download (spreadsheet-safe, as the API's)."""
    return findings_download(session, runtime, principal=principal, submission_id=submission_id,
                             filename=f"submission-{submission_id}-findings.csv")


@router.get("/uploads")
def upload_page(request: Request, principal: FurnisherConsoleDep) -> Response:
    """The upload form (CSV, JSON Lines, Parquet or Metro 2), with a progress bar where scripts run."""
    settings = runtime_of(request).settings
    return page(request, "upload.html.j2", console=LENDER, max_mb=settings.max_file_bytes // 1_000_000)


@router.post(UPLOAD_PATH.removeprefix("/lender"))
async def upload(request: Request, principal: FurnisherConsoleDep, runtime: RuntimeDep, policy: PolicyDep,
                 csrf: Annotated[str, Query(max_length=128)] = "") -> Response:
    """Receive, validate and load the file as ``POST /v1/submissions`` does, then show its submission."""
    token = request.cookies.get(COOKIES[console.MEMBER], "")
    expected = csrf_for(runtime, f"console\x1f{token}")
    if request.headers.get("sec-fetch-site") == "cross-site" or not hmac.compare_digest(csrf, expected):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again",
                        code="CSRF_FAILED")
    sealed, filename = await sealed_upload(runtime, request)
    result = await run_in_threadpool(lambda: intake.submit(
        runtime.engine, settings=runtime.settings, policy=policy, furnisher_code=principal.code, sealed=sealed,
        filename=filename))
    return RedirectResponse(f"/lender/submissions/{result.submission.id}", status_code=303)


@router.get("/quality")
def quality_page(request: Request, principal: FurnisherConsoleDep, session: SessionDep, runtime: RuntimeDep,
                 months: Annotated[int, Query(ge=1, le=12)] = 6) -> Response:
    """The member's own scorecard over the bureau's window (``GET /v1/quality/scorecards``), and its score,
    consent coverage and rejected share period by period over the last ``months``."""
    report = quality.scorecards(session, principal=principal, policy=runtime.policy)
    card = next((c for c in report.scorecards if c.furnisher == principal.code), None)
    periods = report.periods[-months:]
    by_period = {p: next(iter(quality.scorecards(session, principal=principal, policy=runtime.policy, period=p,
                                                 months=1).scorecards), None) for p in periods}

    def series(value) -> list[float | None]:
        return [None if by_period[p] is None else value(by_period[p]) for p in periods]

    def rejected(c) -> float | None:
        return c.records_rejected / c.records_received if c.records_received else None

    score = [("score", series(lambda c: c.score))]
    shares = [("consent coverage", series(lambda c: c.consent_coverage)), ("records rejected", series(rejected))]
    charts = {"score": (period_chart("Quality score by period (0–100)", periods, score, fmt="{:.0f}"), score,
                        "{:.1f}"),
              "shares": (period_chart("Consent coverage and rejected records", periods, shares), shares, "{:.1%}")}
    return page(request, "scorecard.html.j2", console=LENDER, report=report, card=card, charts=charts,
                periods=periods, months=months, back=None)


@router.get("/disputes")
def disputes(request: Request, principal: FurnisherConsoleDep, session: SessionDep,
             done: Annotated[str | None, Query(max_length=0)] = None) -> Response:
    """The disputes of the member's data waiting for its answer, nearest deadline first (audited)."""
    tasks = investigation.list_tasks(session, principal=principal, limit=100)
    return page(request, "tasks.html.j2", console=LENDER, tasks=tasks, now=utcnow(),
                outcomes=[o.value for o in DisputeOutcome],
                done=N_("Your answer was recorded and the dispute closed with it.") if done is not None else None)


@router.post("/disputes/{task_id}/answer")
def answer(task_id: IdPath, request: Request, principal: FurnisherConsoleDep, form: ConsoleFormDep,
           session: SessionDep, runtime: RuntimeDep) -> Response:
    """Answer a task once: verified, corrected (naming the correction's submission) or deleted, with evidence."""
    correction = {k: form.get(f"correction_{k}") or None for k in ("submission_id", "reporting_period", "version")}
    try:
        data = TaskAnswer(outcome=form.get("outcome", ""), evidence=form.get("evidence", ""),
                          correction=correction if any(correction.values()) else None)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "form" for e in exc.errors()})
        tasks = investigation.list_tasks(session, principal=principal, limit=100)
        return page(request, "tasks.html.j2", status_code=422, console=LENDER, tasks=tasks, now=utcnow(),
                    outcomes=[o.value for o in DisputeOutcome], error=check_fields(request, fields))
    investigation.answer_task(session, vault=runtime.vault, principal=principal, task_id=task_id, answer=data)
    return RedirectResponse("/lender/disputes?done=", status_code=303)
