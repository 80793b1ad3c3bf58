"""Reports rendered for people: a self-contained HTML page (Jinja2) and a PDF of the same page (WeasyPrint).

The page needs nothing from the network: styles are inline and the repayment grid is coloured cells. The
PDF is laid out for A4 with page numbers; Chinese names need a CJK font on the machine (Debian:
``fonts-wqy-microhei``, which ``.ci/run`` installs).
"""

from __future__ import annotations

import functools
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from openbureau.present.money import money, pct
from openbureau.reports.schemas import Report, View
from openbureau.scoring.features import UNSCORABLE_TEXT
from openbureau.signals.schemas import SignalCode

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


def render_html(report: Report | None, *, inquiry_id: int | None = None, generated: datetime | None = None) -> str:
    """The report as one self-contained HTML page (``report`` None: the "no file" page of an inquiry)."""
    moment = report.generated_at if report is not None else (generated or datetime.now())
    return _environment().get_template("report.html.j2").render(
        report=report, consumer=report is not None and report.view is View.CONSUMER, inquiry_id=inquiry_id,
        generated=moment.strftime("%Y-%m-%d %H:%M UTC"), lang="zh" if report and report.jurisdiction == "CN" else "en")


def render_pdf(report: Report | None, *, inquiry_id: int | None = None, generated: datetime | None = None) -> bytes:
    """The report as a PDF (the HTML page laid out for A4)."""
    from weasyprint import HTML  # imported on first use: it loads Pango and fonts, about a second

    return HTML(string=render_html(report, inquiry_id=inquiry_id, generated=generated)).write_pdf()
