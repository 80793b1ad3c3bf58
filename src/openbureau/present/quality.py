"""A self-contained HTML page of scorecards and market figures, with charts drawn as inline SVG (no scripts,
no CDN, nothing fetched when the page is opened)."""

from __future__ import annotations

from html import escape

from openbureau.present.charts import bar_chart
from openbureau.present.charts import table as _table
from openbureau.present.money import money, pct
from openbureau.quality.schemas import MarketReport, ScorecardReport

GRADE_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}
BAR = "#4575b4"


def _pct(value: float | None) -> str:
    return pct(value, decimals=2)


def _num(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def html_report(report: ScorecardReport, market: MarketReport | None = None) -> str:
    """The whole page: grades chart, scorecard table, anomaly flags and, when given, the market figures."""
    cards = sorted(report.scorecards, key=lambda c: -(c.score or 0))
    chart = bar_chart(f"Quality score and grade, {report.periods[0]} to {report.period}",
                      [(f"{c.furnisher} ({c.grade})", c.score, GRADE_COLOURS.get(c.grade or "", BAR)) for c in cards],
                      maximum=1.0)
    names = [m.name for m in cards[0].metrics] if cards else []
    rows = [[c.furnisher, c.grade or "–", f"{c.score:.3f}" if c.score is not None else "–",
             *[_pct(m.rate) for m in c.metrics], _pct(c.consent_coverage), f"{c.records_received:,}",
             ", ".join(f"{t.code} ({t.records})" for t in c.top_codes[:3])] for c in cards]
    flags = [[a.furnisher, a.reporting_period, a.rule, a.message] for c in cards for a in c.anomalies]
    under = [[c.furnisher, u.code, f"{u.count:,}", f"{u.observations:,}", _pct(u.rate), _pct(u.baseline),
              "yes" if u.flagged else "", ", ".join(u.examples)] for c in cards for u in c.under_reporting]
    bands = ", ".join(f"{g} ≥ {f:.2f}" for g, f in report.bands.items())
    sections = [
        f"<h1>OpenBureau data quality, {escape(report.period)}</h1>",
        f"<p>Window: {len(report.periods)} period(s) ending {escape(report.period)}. Bands: {escape(bands)}. "
        f"Rates are failure rates (share failing); docs/quality.md defines each.</p>", chart,
        _table(["furnisher", "grade", "score", *[f"{n} rate" for n in names], "consent coverage", "records",
                "top codes"], rows),
        "<h2>Anomaly flags</h2>",
        _table(["furnisher", "period", "rule", "evidence"], flags) if flags else "<p>None.</p>",
        "<h2>Under-reporting</h2>",
        "<p>Evidence beside each furnisher's files that accounts are missing from them: inquiries for loan "
        "applications not followed by an account, opened events without a monthly record, persons with a consent "
        "to furnish never in the files, joint loans its funders report that its files lack, and loans it is listed "
        "as funding that it does not report. Flagged when the lower bound of the rate's 99% interval is above the "
        "threshold; examples are masked references.</p>",
        _table(["furnisher", "finding", "count", "observations", "rate", "baseline", "flagged", "examples"], under)
        if under else "<p>None.</p>",
    ]
    if market is not None:
        sections += _market_sections(market)
    style = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>OpenBureau quality "
            f"{escape(report.period)}</title><style>{style}</style></head><body>{''.join(sections)}</body></html>")


def _market_sections(market: MarketReport) -> list[str]:
    shares = bar_chart("Share of short-term consumer credit", [
        (c.furnisher or "", c.short_term_share, BAR) for c in market.by_furnisher], maximum=1.0, fmt="{:.1%}")
    delinquency = bar_chart("Accounts 90+ days past due or charged off, by product", [
        (c.product_type or "", c.delinquent_90_rate, "#d73027") for c in market.by_product], fmt="{:.2%}")
    rows = [[c.furnisher or "", c.product_type or "", _num(c.accounts), _num(c.persons), money(c.balance, decimals=0), _pct(c.delinquent_30_rate), _pct(c.delinquent_90_rate)]
        for c in market.by_furnisher_product]
    multi = [[f"{m.min_lenders}+", _num(m.persons), _pct(m.share_of_borrowers)] for m in market.multi_lending]
    return [
        f"<h2>Market, {escape(market.period)}</h2>",
        f"<p>Live accounts {market.accounts:,}; borrowers {_num(market.borrowers)}; HHI of credit balances "
        f"{_num(market.hhi_credit)}, of short-term consumer credit {_num(market.hhi_short_term)} "
        f"(short-term: {escape(market.short_term_definition)}). Cells about fewer than {market.k} persons are "
        f"suppressed (–).</p>", shares, delinquency,
        _table(["furnisher", "product", "accounts", "persons", "balance (yuan)", "30+ dpd", "90+ dpd"], rows),
        _table(["lenders", "persons", "share of borrowers"], multi),
        f"<h3>Under-reporting by furnisher, {escape(market.under_reporting_periods[0]) if market.under_reporting_periods else ''}"
        f" to {escape(market.period)}</h3>",
        _table(["furnisher", "finding", "count", "observations", "persons", "rate", "baseline", "flagged"], [
            [u.furnisher, u.code, _num(u.count), _num(u.observations), _num(u.persons), _pct(u.rate),
             _pct(u.baseline), "yes" if u.flagged else ""] for u in market.under_reporting]),
        f"<h3>Funders' exposure to facilitators' loans, {escape(market.period)}</h3>",
        _table(["funder", "facilitator", "loans", "persons", "balance (yuan)", "funded balance (yuan)",
                "past due share"], [
            [e.funder, e.facilitator, _num(e.loans), _num(e.persons), money(e.balance, decimals=0),
             money(e.funded_balance, decimals=0), _pct(e.past_due_share)] for e in market.funder_exposure])
        if market.funder_exposure else "<p>No jointly funded loans were reported.</p>",
    ]
