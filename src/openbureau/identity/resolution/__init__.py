"""Probabilistic identity resolution of stored records: features, a Splink model, linkers, the resolver."""

from openbureau.identity.resolution.resolver import ResolutionSummary, resolve

__all__ = ["ResolutionSummary", "resolve"]
