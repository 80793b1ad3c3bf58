"""Scoring: point-in-time features, monotone scorecards with reason codes, the model registry, validation."""
