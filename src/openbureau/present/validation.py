"""The validation report of a model: one self-contained HTML page with inline SVG charts (nothing fetched).

It shows AUC, KS and Gini; the ROC curve; calibration by score band (observed against predicted bad rate,
the observed rate's Wilson interval (simultaneous 95% over the bands), bands whose prediction lies outside it flagged), and before and
after the model's recalibration when it has one; the fairness report (AUC, approval rate at the cut-off,
calibration and the four-fifths ratio by gender, age band and region) when the evaluation carries one; the
score distribution against the model's own validation sample, with the population stability index; and
every feature's bins with their bad rates and points.
"""

from __future__ import annotations

from html import escape
from typing import Any

from openbureau.present.charts import bar_chart, line_chart, table
from openbureau.present.money import pct
from openbureau.scoring.engines import Model as Scorecard

GOOD, BAD, GREY = "#1a9850", "#d73027", "#4575b4"


def _pct(value: float | None) -> str:
    return pct(value, decimals=2)


def _figures(result: dict[str, Any]) -> str:
    psi = result.get("psi")
    stability = "" if psi is None else (f"; PSI against the model's validation sample <b>{psi:.3f}</b> "
                                        f"({'stable' if psi < 0.1 else 'some shift' if psi < 0.25 else 'shifted'})")
    return (f"<p data-testid='figures'>{result['rows']:,} rows, bad rate {_pct(result['bad_rate'])}: "
            f"<b>AUC {result['auc']:.4f}</b>, KS {result['ks']:.4f}, Gini {result['gini']:.4f}{stability}.</p>")


def _bin_labels(term, position: int) -> list[str]:
    """Labels of a term's bins for one of its features: missing, the values' bins, unseen categories."""
    if term.kinds[position] == "numeric":
        edges = ["-inf", *(f"{c:g}" for c in term.cuts[position]), "inf"]
        values = [f"[{low}, {high})" for low, high in zip(edges[:-1], edges[1:], strict=True)]
    else:
        by_bin: dict[int, list[str]] = {}
        for value, index in term.categories[position].items():
            by_bin.setdefault(index, []).append(value)
        values = [", ".join(by_bin.get(i, [])) for i in range(1, max(by_bin, default=0) + 1)]
    return ["missing", *values, "unseen"]


def _additive_terms(segment) -> str:
    rows = []
    for term in segment.terms:
        if len(term.features) == 1:
            rows += [[term.name, label, f"{points:+.1f}"]
                     for label, points in zip(_bin_labels(term, 0), term.points, strict=False)]
        else:
            cells = [p for row in term.points for p in row]
            rows.append([term.name, f"interaction, {len(term.points)} × {len(term.points[0])} cells",
                         f"{min(cells):+.1f} … {max(cells):+.1f}"])
    note = (f"<p>Made monotone after boosting: {escape(', '.join(segment.monotonized))}.</p>"
            if segment.monotonized else "")
    return table(["term", "bin", "points"], rows) + note


def _interval(band: dict[str, Any]) -> str:
    interval = band.get("interval")
    return "" if not interval else f"{_pct(interval[0])} – {_pct(interval[1])}"


def _flag(within: bool | None) -> str:
    return "" if within is None else ("within" if within else "OUTSIDE")


def _check_line(check: dict[str, Any] | None, what: str) -> str:
    if not check:
        return ""
    outside = check["outside"]
    return (f"<p data-testid='calibration-check'>{escape(what)}: predicted bad rate within the observed rate's "
            f"{escape(check['interval'])} interval in {check['bands'] - len(outside)} of {check['bands']} bands"
            + (f"; <b class='flag'>outside: {escape(', '.join(outside))}</b>" if outside else "") + ".</p>")


def _calibration_table(rows: list[dict[str, Any]], before: list[dict[str, Any]] | None) -> str:
    interval = "simultaneous 95% interval"
    if before is None:
        return table(["band", "rows", "bads", "observed bad rate", interval, "predicted bad rate", ""], [
            [b["band"], f"{b['rows']:,}", f"{b.get('bads', 0):,}", _pct(b["observed_bad_rate"]), _interval(b),
             _pct(b["predicted_bad_rate"]), _flag(b.get("within"))] for b in rows])
    return table(["band", "rows", "bads", "observed bad rate", interval, "predicted before", "", "predicted after",
                  ""], [
        [a["band"], f"{a['rows']:,}", f"{a.get('bads', 0):,}", _pct(a["observed_bad_rate"]), _interval(a),
         _pct(b["predicted_bad_rate"]), _flag(b.get("within")), _pct(a["predicted_bad_rate"]), _flag(a.get("within"))]
        for a, b in zip(rows, before, strict=True)])


def _calibration(card: Scorecard, result: dict[str, Any]) -> list[str]:
    """Calibration by the scale's bands (checked) and by 50-point band, with each observed rate's interval and
    its flag, before and after the model's recalibration when it has one."""
    out = ["<h2>Calibration by score band</h2>", _check_line(result.get("calibration_check"), "This sample")]
    recalibrated = result.get("calibration_before") is not None
    if recalibrated:
        out.append(_check_line(result.get("calibration_before_check"), "The same rows before recalibration"))
    if result.get("calibration_by_band"):
        out.append(_calibration_table(result["calibration_by_band"], result.get("calibration_before_by_band")))
    out.append("<p>By 50-point band:</p>")
    out.append(_calibration_table(result["calibration"], result.get("calibration_before")))
    r = getattr(card, "recalibration", None)
    if r:
        fits = "; ".join(f"{escape(name)}: " + (f"log-odds × {f['slope']:.3f} {f['intercept']:+.3f}"
                                                 if r["method"] == "platt" else f"{len(f['logit'])} breakpoints") +
                         f" ({f['rows']:,} files, {f['bads']:,} bads)" for name, f in r["segments"].items())
        kept = "".join(f"; {escape(name)} unchanged ({escape(why)})" for name, why in r.get("unchanged", {}).items())
        method = "Platt scaling" if r["method"] == "platt" else "isotonic regression"
        out.append(f"<p data-testid='recalibration'>Recalibrated ({method}) on the held-out period "
                   f"{escape(str(r.get('observation_period')))}, {r['rows']:,} files: {fits}{kept}. Scores, bands and "
                   "reasons are unchanged; only the probability of bad moved.</p>")
        out.append(_check_line(r.get("before_check"), "On that period before"))
        out.append(_check_line(r.get("after_check"), "On that period after"))
    return out


def _fairness(report: dict[str, Any]) -> list[str]:
    """The fairness report: per attribute, per group, with the four-fifths ratio flagged."""
    out = ["<h2>Fairness</h2>",
           f"<p data-testid='fairness'>Approval: score at or above <b>{report['cutoff']:g}</b>. Four-fifths rule: a "
           f"group's approval rate under {report['threshold']:.0%} of the most-approved group's is flagged as adverse "
           f"impact. Groups of fewer than {report['min_group_rows']:,} files are too small to report. The model uses "
           f"none of these attributes; {escape(report.get('source') or 'they label the rows only')}.</p>"]
    for attribute, a in report["attributes"].items():
        breached = a["breached"]
        out.append(f"<h3>{escape(attribute.replace('_', ' ').capitalize())}</h3><p>" +
                   (f"<b class='flag'>Adverse impact: {escape(', '.join(breached))}</b>" if breached else
                    "No group under the four-fifths threshold") +
                   (f" (reference: the most-approved group, {escape(a['reference'])})" if a["reference"] else "") +
                   ".</p>")
        rows = []
        for name, g in a["groups"].items():
            if g["too_small"]:
                rows.append([name, f"{g['rows']:,}", "too small", "", "", "", "", ""])
                continue
            ratio = g.get("impact_ratio")
            rows.append([name, f"{g['rows']:,}", "–" if g["auc"] is None else f"{g['auc']:.4f}",
                         _pct(g["approval_rate"]),
                         "–" if ratio is None else (f"{ratio:.2f} ADVERSE IMPACT" if g.get("adverse_impact")
                                                    else f"{ratio:.2f}"),
                         _pct(g["observed_bad_rate"]), _interval(g), _pct(g["predicted_bad_rate"]) + " " +
                         _flag(g["within"])])
        out.append(table(["group", "rows", "AUC", "approval rate", "four-fifths ratio", "observed bad rate",
                          "95% interval", "predicted bad rate"], rows))
    return out


def validation_html(card: Scorecard, result: dict[str, Any], *, title: str) -> str:
    """The page for ``result`` (``training.evaluate`` or the model's own ``validation``)."""
    roc = line_chart("ROC curve", [("model", result["roc"], GREY)], x_label="goods rejected (false-positive rate)",
                     y_label="bads rejected (true-positive rate)", diagonal=True)
    bands = [b for b in result["calibration"] if b["rows"]]
    top = max([b["observed_bad_rate"] or 0 for b in bands] + [b["predicted_bad_rate"] or 0 for b in bands] + [0.01])
    calibration = line_chart(
        "Calibration by score band", [
            ("observed bad rate", [(i, b["observed_bad_rate"]) for i, b in enumerate(bands)], BAD),
            ("predicted", [(i, b["predicted_bad_rate"]) for i, b in enumerate(bands)], GREY)],
        x_label=f"score band ({bands[0]['band'] if bands else ''} … {bands[-1]['band'] if bands else ''})",
        y_label="bad rate", x_range=(0, max(len(bands) - 1, 1)), y_range=(0, top))
    reference = card.validation.get("distribution")
    edges = result["edges"]
    labels = [f"{edges[i]:.0f}" for i in range(len(edges) - 1)]
    distribution = bar_chart("Score distribution (share of rows per band)",
                             [(f"{label}+", share, GREY) for label, share in zip(labels, result["distribution"],
                                                                                 strict=True)], fmt="{:.1%}")
    sections = [f"<h1>{escape(title)}</h1>",
                f"<p>Model <b>{escape(card.model_version)}</b> ({escape(card.kind)}, scale {escape(card.scale.name)}, "
                f"target: {escape(card.target)}).</p>", _figures(result),
                f"<div class='charts'>{roc}{calibration}</div>", distribution]
    if reference is not None and result.get("psi") is not None:
        sections.append(table(["band", "model validation", "this sample"], [
            [f"{label}+", _pct(r), _pct(a)] for label, r, a in zip(labels, reference, result["distribution"],
                                                                    strict=True)]))
    sections += _calibration(card, result)
    if result.get("fairness"):
        sections += _fairness(result["fairness"])
    for segment in card.segments.values():
        sections.append(f"<h2>Segment {escape(segment.name)}: base {segment.base_points:.1f} points</h2>")
        if hasattr(segment, "terms"):  # an additive model: its shapes and interactions
            sections.append(_additive_terms(segment))
            continue
        rows = [[f.name, label, f"{count:,}", _pct(rate), f"{points:+.1f}"]
                for f in segment.features
                for label, count, rate, points in zip(f.labels, f.counts, f.event_rates, f.points, strict=True)]
        sections.append(table(["feature", "bin", "rows", "bad rate", "points"], rows))
        if segment.dropped:
            sections.append(f"<p>Left out: {escape(', '.join(segment.dropped))} (no evidence, or against it).</p>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.charts{display:flex;gap:2em;flex-wrap:wrap}"
             ".flag{color:#a50026}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")
