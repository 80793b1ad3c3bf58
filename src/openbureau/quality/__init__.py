"""Data quality per furnisher (metrics, grades, anomaly flags) and market statistics for the regulator.

Public API: `service.scorecards`, `service.market` (role rules and API shapes); `figures.run_quality`,
`figures.run_market`, `figures.run_under_reporting` (the computations); the pure frame functions in `metrics`,
`grades`, `anomalies`, `under_reporting`, `market`. The HTML page is drawn in `openbureau.present.quality`.
docs/quality.md defines every figure.
"""
