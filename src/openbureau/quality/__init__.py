"""Data quality per furnisher (metrics, grades, anomaly flags) and market statistics for the regulator.

Public API: `service.scorecards`, `service.market` (role rules and API shapes); `tasks.run_quality`,
`tasks.run_market` (the batch jobs); the pure frame functions in `metrics`, `grades`, `anomalies`, `market`.
docs/quality.md defines every figure.
"""
