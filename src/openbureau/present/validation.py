"""The validation report of a model: one self-contained HTML page with inline SVG charts (nothing fetched).

It shows AUC, KS and Gini; the ROC curve; calibration by score band (observed against predicted bad rate);
the score distribution against the model's own validation sample, with the population stability index;
and every feature's bins with their bad rates and points.
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
    sections.append(table(["band", "rows", "observed bad rate", "predicted bad rate"], [
        [b["band"], f"{b['rows']:,}", _pct(b["observed_bad_rate"]), _pct(b["predicted_bad_rate"])]
        for b in result["calibration"]]))
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
             "td:first-child,th:first-child{text-align:left}.charts{display:flex;gap:2em;flex-wrap:wrap}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")
