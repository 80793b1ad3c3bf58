"""The REST API under /v1: a thin HTTP adapter over the domain services."""
