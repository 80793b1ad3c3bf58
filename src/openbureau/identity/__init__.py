"""Persons and their identifiers: blind-indexed, encrypted, linked from furnished records."""
