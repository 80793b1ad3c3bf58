"""Reports rendered for people: a self-contained HTML page (Jinja2) and a PDF of the same page (WeasyPrint).

The page needs nothing from the network: styles are inline, the repayment grid is coloured cells, and the
balances over time are an SVG chart drawn here (its figures in a table for screen readers). The
PDF is laid out for A4 with page numbers; Chinese names need a CJK font on the machine (Debian:
``fonts-wqy-microhei``, which ``.ci/run`` installs).
"""

from __future__ import annotations

import functools
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from openbureau.present.charts import period_chart
from openbureau.present.money import MINOR_PER_MAJOR, money, pct
from openbureau.reports.schemas import Report, View
from openbureau.scoring.features import UNSCORABLE_TEXT
from openbureau.signals.schemas import SignalCode
from openbureau.tradelines.history import periods_ending

SIGNAL_NAMES = {SignalCode.MULTI_LENDING.value: "Borrowing from many lenders",
                SignalCode.OVER_INDEBTEDNESS.value: "Over-indebtedness",
                SignalCode.RECENT_DELINQUENCY.value: "Recent late payment",
                SignalCode.IDENTITY_CONFLICT.value: "Identity conflict",
                SignalCode.RING.value: "Shared contact details (possible fraud ring)",
                SignalCode.VELOCITY.value: "Applications in quick succession",
                SignalCode.CONTACT_CHANGE.value: "Contact details changed just before applying",
                SignalCode.SYNTHETIC_IDENTITY.value: "Signs of an invented or stolen identity",
                SignalCode.FRAUD_LIST.value: "Confirmed fraud reported by a lender"}


def _status_class(status: str) -> str:
    if status in "1234567":
        return f"s-{status}"
    return {"/": "s-none", "#": "s-held", "D": "s-dz", "Z": "s-dz", "C": "s-closed", "G": "s-closed"}.get(status, "s-ok")


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("openbureau.present", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.globals.update(money=money, pct=pct, status_class=_status_class, signal_names=SIGNAL_NAMES,
                       unscorable_text=UNSCORABLE_TEXT)
    return env


MAX_CHARTED_ACCOUNTS = 6  # the accounts with the largest balances; the total counts every one


def balance_chart(report: Report) -> tuple[str, list[str], list[tuple[str, list[float | None]]]] | None:
    """The credit accounts' balances month by month over the report's repayment record, as an SVG line chart
    (``present.charts.period_chart``: drawn on the server, no script), with its periods and series (in major
    units) for the table beside it: the total of every credit account, and the accounts with the largest
    balances. None when no credit account has a balance history."""
    accounts = [a for a in report.accounts if a.balance_history]
    if not accounts:
        return None
    by_period: dict[str, dict[int, int]] = {}
    for i, a in enumerate(accounts):
        for period, balance in zip(periods_ending(a.reporting_period, len(a.balance_history)), a.balance_history,
                                   strict=True):
            if balance is not None:
                by_period.setdefault(period, {})[i] = balance
    periods = sorted(by_period)
    if not periods:
        return None
    total = [sum(by_period[p].values()) / MINOR_PER_MAJOR for p in periods]
    largest = sorted(range(len(accounts)), key=lambda i: -accounts[i].balance)[:MAX_CHARTED_ACCOUNTS]
    series = [("All credit accounts", total)] + [
        (f"{accounts[i].lender} · {accounts[i].product_type}" + (f" {accounts[i].account_number}"
                                                                 if accounts[i].account_number else ""),
         [None if (v := by_period[p].get(i)) is None else v / MINOR_PER_MAJOR for p in periods])
        for i in largest]
    title = f"Balances over the last {len(periods)} months ({report.summary.currency})"
    return period_chart(title, periods, series, fmt="{:,.0f}", width=720, height=300), periods, series


def render_html(report: Report | None, *, inquiry_id: int | None = None, generated: datetime | None = None) -> str:
    """The report as one self-contained HTML page (``report`` None: the "no file" page of an inquiry)."""
    moment = report.generated_at if report is not None else (generated or datetime.now())
    return _environment().get_template("report.html.j2").render(
        report=report, consumer=report is not None and report.view is View.CONSUMER, inquiry_id=inquiry_id,
        balances=balance_chart(report) if report is not None else None,
        generated=moment.strftime("%Y-%m-%d %H:%M UTC"), lang="zh" if report and report.jurisdiction == "CN" else "en")


def render_pdf(report: Report | None, *, inquiry_id: int | None = None, generated: datetime | None = None) -> bytes:
    """The report as a PDF (the HTML page laid out for A4)."""
    from weasyprint import HTML  # imported on first use: it loads Pango and fonts, about a second

    return HTML(string=render_html(report, inquiry_id=inquiry_id, generated=generated)).write_pdf()
