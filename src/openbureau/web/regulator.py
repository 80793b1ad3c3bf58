"""The regulator's pages: the market over time (shares, delinquency by product, multi-lending, concentration),
the furnishers' league table with each furnisher's scorecard, and intake statistics.

A member's staff signs in once with the member's API key (``web.console``: a server-side session; the key is
kept nowhere). Every figure comes from the service the API's ``/v1/quality/market``, ``/v1/quality/scorecards``
and ``/v1/stats/intake`` call, with the member's principal, so it is authorised as the API call is, and cells
about fewer than k persons are suppressed by the same code. The pages are for members that may read the market
(the regulator); a lender's key is refused at sign-in and on every page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from openbureau.api.deps import RuntimeDep, SessionDep
from openbureau.fraud import statistics as fraud_statistics
from openbureau.intake import service as intake
from openbureau.kit.errors import NotFound
from openbureau.members import console
from openbureau.present.charts import period_chart
from openbureau.principals import Action, Principal, authorize
from openbureau.quality import service as quality
from openbureau.web.console import (
    ConsoleFormDep,
    MemberConsoleDep,
    member_sign_in,
    sign_out,
    signed_in,
    signin_form,
)
from openbureau.web.i18n import N_
from openbureau.web.render import page
from openbureau.web.session import FormDep

router = APIRouter(prefix="/regulator", include_in_schema=False)
REFUSED = N_("These pages are for the regulator: this member may not read market statistics.")


def _regulator(principal: MemberConsoleDep) -> Principal:
    authorize(principal, Action.READ_MARKET, message=REFUSED)
    return principal


RegulatorDep = Annotated[Principal, Depends(_regulator)]


@router.get("/signin")
def signin_page(request: Request) -> Response:
    """The member's API key, typed once."""
    return signin_form(request, "regulator")


@router.post("/signin")
async def signin(request: Request, form: FormDep) -> Response:
    """The member's API key and the key's second factor (``web.console.member_sign_in``); only a member that may
    read the market gets a console session (the key's prefix and the member's id stored server-side, the key
    nowhere)."""
    opened = await member_sign_in(request, form, may=lambda principal: principal.may(Action.READ_MARKET))
    if isinstance(opened, tuple):
        return signin_form(request, "regulator", status_code=opened[0], error=opened[1] or REFUSED)
    return signed_in(opened, "/regulator")


@router.post("/signout")
def signout(request: Request, principal: MemberConsoleDep, form: ConsoleFormDep) -> Response:
    """End the console session at once."""
    return sign_out(request, console.MEMBER)


def _share(cell) -> float | None:
    return None if cell is None else cell.credit_share


@router.get("")
def dashboard(request: Request, principal: RegulatorDep, session: SessionDep, runtime: RuntimeDep,
              months: Annotated[int, Query(ge=1, le=12)] = 6) -> Response:
    """The market over the last ``months`` reporting periods: one ``quality.market`` per period, as
    ``GET /v1/quality/market?period=`` answers it (small cells suppressed)."""
    reports = quality.market_series(session, principal=principal, policy=runtime.policy, months=months)
    periods = list(reports)
    latest = reports[periods[-1]]
    furnishers = sorted({c.furnisher for r in reports.values() for c in r.by_furnisher if c.furnisher})
    products = sorted({c.product_type for r in reports.values() for c in r.by_product if c.product_type})

    def by(report, attr: str, key: str, value: str):
        return next((c for c in getattr(report, attr) if getattr(c, key) == value), None)

    shares = [(f, [_share(by(reports[p], "by_furnisher", "furnisher", f)) for p in periods]) for f in furnishers]
    late = [(t, [getattr(by(reports[p], "by_product", "product_type", t), "delinquent_30_rate", None)
                 for p in periods]) for t in products]
    thresholds = [m.min_lenders for m in latest.multi_lending]
    multi = [(f"{n}+ lenders", [next((m.share_of_borrowers for m in reports[p].multi_lending if m.min_lenders == n),
                                     None) for p in periods]) for n in thresholds]
    hhi = [("credit", [reports[p].hhi_credit for p in periods]),
           ("short-term credit", [reports[p].hhi_short_term for p in periods])]
    charts = {
        "shares": (period_chart("Share of the credit balance by furnisher", periods, shares), shares, "{:.1%}"),
        "delinquency": (period_chart("Accounts 30+ days past due, by product", periods, late), late, "{:.1%}"),
        "multi": (period_chart("Borrowers with live credit at several lenders", periods, multi), multi, "{:.1%}"),
        "hhi": (period_chart("Concentration (HHI, 0–10,000)", periods, hhi, fmt="{:,.0f}"), hhi, "{:,.0f}"),
    }
    return page(request, "regulator.html.j2", latest=latest, periods=periods, charts=charts, months=months,
                console="regulator")


@router.get("/furnishers")
def league(request: Request, principal: RegulatorDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Every furnisher's grade, consent coverage, timeliness and volume against expectation, worst first
    (``GET /v1/quality/scorecards``)."""
    report = quality.scorecards(session, principal=principal, policy=runtime.policy)
    cards = sorted(report.scorecards, key=lambda c: (c.score is None, c.score or 0.0, c.furnisher))
    return page(request, "league.html.j2", report=report, cards=cards, console="regulator")


@router.get("/furnishers/{code}")
def furnisher(code: str, request: Request, principal: RegulatorDep, session: SessionDep,
              runtime: RuntimeDep) -> Response:
    """One furnisher's scorecard: metrics, finding codes, anomalies, under-reporting evidence."""
    report = quality.scorecards(session, principal=principal, policy=runtime.policy)
    card = next((c for c in report.scorecards if c.furnisher == code), None)
    if card is None:
        raise NotFound("There is no such furnisher in the scorecards.")
    return page(request, "scorecard.html.j2", report=report, card=card, console="regulator")


@router.get("/intake")
def intake_page(request: Request, principal: RegulatorDep, session: SessionDep) -> Response:
    """Records received, rejected, stored and held per furnisher (``GET /v1/stats/intake``)."""
    return page(request, "intake.html.j2", rows=intake.intake_statistics(session, principal=principal),
                console="regulator")


@router.get("/rings")
def rings(request: Request, principal: RegulatorDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Rings of persons sharing contact details across lenders, as aggregates by size band and by region, with
    their exposure (``GET /v1/fraud/rings/statistics``: small cells suppressed, audited; never a ring's or a
    person's identity)."""
    found = fraud_statistics.ring_statistics(session, vault=runtime.vault, principal=principal,
                                             policy=runtime.policy)
    return page(request, "rings.html.j2", stats=found, console="regulator")
